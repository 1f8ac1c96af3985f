package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"time"

	"banyan/candidate/internal/billing"
	"banyan/candidate/internal/chat"
	"banyan/candidate/internal/llmmodel"
)

// POST /v1/chat/completions and /v2/chat/completions (legacy/chat_api.py; sdk-contract §1.7,
// §2): one implementation on both prefixes, answering sarvamai and openai alike; streaming is
// decided by the body's stream, never by Accept. The steps and their answers, in legacy's
// order: validation (422), a model not served (400), no inference server (503), the prompt's
// tokens counted, authorize the estimate (401 for a bad key on these OpenAI-style paths, 402,
// 429), the model asked (400 when it refuses, 502 when it fails; the hold released either
// way), then the whole chat.completion or the SSE stream, settled with the tokens delivered.
//
// Billing (rfcs/0004 §8): tokens_in and tokens_out are line items of one reservation. The
// hold covers the prompt and the most the model may write, so an empty wallet is a 402
// before the first byte; the settlement is the prompt and the completion tokens delivered:
// all of them for a whole answer, exactly those of the frames sent before the client left
// for a stream cut short.

// chatRoute is the route both prefixes bill under.
const chatRoute = "chat-completions"

// streamWriteTimeout bounds the write of one SSE event, or of a whole answer; it replaces the
// server's WriteTimeout, which counts from the request and would cut a long generation.
const streamWriteTimeout = 60 * time.Second

// TokenBiller is the line-item billing the chat routes need (billing.Client; a fake in tests).
type TokenBiller interface {
	AuthorizeLines(ctx context.Context, req billing.Request, apiKey, route, model string, estimate []billing.Line) (*billing.Authorization, error)
	SettleLines(ctx context.Context, req billing.Request, auth *billing.Authorization, usage []billing.Line) error
	Release(ctx context.Context, req billing.Request, auth *billing.Authorization) error
}

// ChatConfig is what the chat routes are built from. Without a Model (no inference URL) they
// answer 503 after validation, as legacy does; with one, Billing and Tokenizer are required.
type ChatConfig struct {
	Model     *llmmodel.Client
	Billing   TokenBiller
	Tokenizer chat.Counter // *tokenizer.Encoding: cl100k_base, as legacy counts
	// NewID and Now make a completion's id and created; nil: a fresh "chatcmpl-" + 24 hex
	// digits per completion (never the request id: a retry or a shadow replay is another
	// completion), and the wall clock.
	NewID func() string
	Now   func() time.Time
}

// chatCompletions is POST /v1|v2/chat/completions.
func (s *Server) chatCompletions(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, chatBodyLimit)
	if !ok {
		return
	}
	req, problems := chat.Parse(body)
	if problems != nil {
		writeError(w, r, http.StatusUnprocessableEntity, strings.Join(problems, "; "), "")
		return
	}
	card, refusal := chat.Lookup(req.Model)
	if refusal != "" {
		writeError(w, r, http.StatusBadRequest, refusal, "")
		return
	}
	if s.chat.Model == nil {
		writeError(w, r, http.StatusServiceUnavailable, "the chat model is not configured (BANYAN_INFERENCE_URL)", "")
		return
	}
	prompt := chat.PromptTokens(s.chat.Tokenizer, req)
	budget := chat.Budget(card, prompt, req.Limit)
	c, ok := s.openTokenCharge(w, r, card.ID, prompt, chat.MostTokensOut(card, prompt, budget))
	if !ok {
		return
	}
	payload, err := chat.Payload(req, budget)
	if err != nil {
		// Legacy's encoder raises before the call and nothing catches it: a 500, the hold
		// given back.
		s.releaseTokenCharge(r, c)
		s.log.ErrorContext(r.Context(), "the chat request cannot be sent to the model", "error", err)
		dropRateLimitHeaders(w.Header())
		writeError(w, r, http.StatusInternalServerError, internalErrorMessage, "")
		return
	}
	// The generation runs past a client that went away while it starts (legacy notices the
	// disconnect only once its stream begins); a stream then stops it (see streamCompletion).
	ctx, stop := context.WithCancel(context.WithoutCancel(r.Context()))
	defer stop()
	gen, err := s.chat.Model.Start(ctx, payload)
	if err != nil {
		s.releaseTokenCharge(r, c)
		s.answerChatModelError(w, r, err)
		return
	}
	defer gen.Close()
	identity := chat.Identity{ID: s.completionID(), Created: s.chatNow().Unix(), Model: req.Model}
	if !req.Stream {
		s.answerWhole(w, r, c, gen, identity, prompt)
		return
	}
	cancelOnDisconnect := context.AfterFunc(r.Context(), stop)
	defer cancelOnDisconnect()
	s.streamCompletion(w, r, c, gen, chat.NewStreamWriter(identity, prompt, req.IncludeUsage), prompt)
}

// answerWhole reads the whole generation and answers one chat.completion, settled with every
// completion token; a model that fails meanwhile is a 502 and the hold is released (nothing
// reached the customer).
func (s *Server) answerWhole(w http.ResponseWriter, r *http.Request, c *charge, gen *llmmodel.Generation, identity chat.Identity, prompt int) {
	var events []chat.Event
	for {
		event, err := gen.Next()
		if err != nil {
			s.releaseTokenCharge(r, c)
			s.answerChatModelError(w, r, err)
			return
		}
		events = append(events, event)
		if end, ok := event.(chat.End); ok {
			if !isFinishReason(end.FinishReason) {
				// Legacy's response model refuses it: an unhandled 500, the hold given back.
				s.releaseTokenCharge(r, c)
				s.log.ErrorContext(r.Context(), "the chat model finished with an unknown reason", "finish_reason", end.FinishReason)
				dropRateLimitHeaders(w.Header())
				writeError(w, r, http.StatusInternalServerError, internalErrorMessage, "")
				return
			}
			break
		}
	}
	gen.Close()
	completion, tokens := chat.Completion(identity, prompt, events)
	if !s.closeTokenCharge(w, r, c, prompt, tokens) {
		return
	}
	// A long generation may outlast the server's WriteTimeout, counted from the request.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	writeJSON(w, http.StatusOK, completion)
}

func isFinishReason(reason string) bool {
	return reason == "stop" || reason == "length" || reason == "tool_calls"
}

// streamCompletion sends the generation as SSE, one flushed write per event, and settles the
// tokens of the frames written before the client left (however the stream ends: finished,
// client gone, model cut; a failed settlement is only logged, the response being gone). A
// model that breaks mid-stream ends it like any other stream, finish_reason "length", never
// an error event.
func (s *Server) streamCompletion(w http.ResponseWriter, r *http.Request, c *charge, gen *llmmodel.Generation, writer *chat.StreamWriter, prompt int) {
	h := w.Header()
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	delivered := 0
	send := func(f chat.Frame) bool {
		if r.Context().Err() != nil {
			return false
		}
		_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
		if _, err := w.Write([]byte(f.Data)); err != nil {
			return false
		}
		if err := rc.Flush(); err != nil {
			return false
		}
		delivered += f.Tokens
		return true
	}
	finish := "length"
	open := send(writer.Opening())
	for open {
		event, err := gen.Next()
		if err != nil {
			if r.Context().Err() == nil {
				s.log.WarnContext(r.Context(), "chat stream cut by the model", "error", err)
			}
			break
		}
		if end, ok := event.(chat.End); ok {
			finish = end.FinishReason
			break
		}
		open = send(writer.Delta(event.(chat.Delta)))
	}
	for _, f := range writer.Closing(finish) {
		if !open || !send(f) {
			break
		}
	}
	gen.Close()
	if err := s.settleTokens(r, c, prompt, delivered); err != nil {
		s.log.ErrorContext(r.Context(), "could not settle a chat stream", "error", err)
	}
}

// answerChatModelError answers a model that refused (400, its message) or failed (502).
func (s *Server) answerChatModelError(w http.ResponseWriter, r *http.Request, err error) {
	var refused *llmmodel.Refused
	if errors.As(err, &refused) {
		writeError(w, r, http.StatusBadRequest, refused.Message, "")
		return
	}
	s.log.WarnContext(r.Context(), "the chat model call failed", "error", err)
	writeError(w, r, http.StatusBadGateway, err.Error(), "")
}

// openTokenCharge is legacy's open_charge with estimate={tokens_in, tokens_out}: authorize
// before any work. A refusal is answered as legacy answers it on an OpenAI-style path (a bad
// key stays 401, with invalid_api_key_error; 402; 429 with Retry-After and X-RateLimit-*);
// an accepted request's X-RateLimit-* go on whatever the route answers next.
func (s *Server) openTokenCharge(w http.ResponseWriter, r *http.Request, model string, prompt, most int) (*charge, bool) {
	req := billingRequest(r)
	estimate := []billing.Line{{Unit: "tokens_in", Quantity: prompt}, {Unit: "tokens_out", Quantity: most}}
	auth, err := s.chat.Billing.AuthorizeLines(r.Context(), req, apiKey(r), chatRoute, model, estimate)
	s.metrics.billingCall("authorize", outcome(err))
	if err != nil {
		s.answerBillingError(w, r, err, false)
		return nil, false
	}
	for name, values := range auth.RateLimit {
		if w.Header().Get(name) == "" {
			w.Header()[name] = values
		}
	}
	c := &charge{auth: auth, req: req}
	holdsOf(r.Context()).opened(auth, func() { s.releaseTokenCharge(r, c) })
	return c, true
}

// settleTokens charges what was measured; it runs past a client that went away, under the
// billing client's own deadline.
func (s *Server) settleTokens(r *http.Request, c *charge, prompt, completion int) error {
	holdsOf(r.Context()).closed(c.auth)
	usage := []billing.Line{{Unit: "tokens_in", Quantity: prompt}, {Unit: "tokens_out", Quantity: completion}}
	err := s.chat.Billing.SettleLines(context.WithoutCancel(r.Context()), c.req, c.auth, usage)
	s.metrics.billingCall("settle", outcome(err))
	return err
}

// closeTokenCharge settles a whole answer; a failure is answered (nothing was sent yet).
func (s *Server) closeTokenCharge(w http.ResponseWriter, r *http.Request, c *charge, prompt, completion int) bool {
	if err := s.settleTokens(r, c, prompt, completion); err != nil {
		s.answerBillingError(w, r, err, false)
		return false
	}
	return true
}

// releaseTokenCharge gives the hold back; a failed release is only logged (it expires).
func (s *Server) releaseTokenCharge(r *http.Request, c *charge) {
	holdsOf(r.Context()).closed(c.auth)
	err := s.chat.Billing.Release(context.WithoutCancel(r.Context()), c.req, c.auth)
	s.metrics.billingCall("release", outcome(err))
	if err != nil {
		s.log.WarnContext(r.Context(), "releasing the hold failed; it will expire", "error", err)
	}
}

// completionID is a fresh id per completion, as OpenAI-style APIs give.
func (s *Server) completionID() string {
	if s.chat.NewID != nil {
		return s.chat.NewID()
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "chatcmpl-" + hex.EncodeToString(b[:])
}

func (s *Server) chatNow() time.Time {
	if s.chat.Now != nil {
		return s.chat.Now()
	}
	return time.Now()
}

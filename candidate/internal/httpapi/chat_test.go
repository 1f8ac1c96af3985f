package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"banyan/candidate/internal/billing"
	"banyan/candidate/internal/llmmodel"
	"banyan/candidate/internal/text"
)

const hello = `{"model": "sarvam-m", "messages": [{"role": "user", "content": "Hello!"}]`

// slowModel streams n one-token deltas, one every pause, and says when its call ended.
type slowModel struct {
	n     int
	pause time.Duration
	ended chan struct{}
}

func (m *slowModel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer close(m.ended)
	_, _ = io.WriteString(w, `{"type": "start", "prompt_tokens": 9}`+"\n")
	for i := range m.n {
		select {
		case <-r.Context().Done():
			return
		case <-time.After(m.pause):
		}
		_, _ = fmt.Fprintf(w, `{"type": "delta", "text": "w%d ", "tokens": 1}`+"\n", i)
		w.(http.Flusher).Flush()
	}
	_, _ = fmt.Fprintf(w, `{"type": "end", "finish_reason": "stop", "completion_tokens": %d}`+"\n", m.n)
}

// A client that leaves mid-stream stops the model call and is billed the tokens of the frames
// written to it before it left: at least those it read, never the whole answer.
func TestAStreamCutShortBillsWhatWasDelivered(t *testing.T) {
	model := &slowModel{n: 400, pause: 5 * time.Millisecond, ended: make(chan struct{})}
	ledger := &tokenLedger{}
	api := httptest.NewServer(newChatServer(t, model, ledger, loadTokenizer(t)))
	defer api.Close()
	req, _ := http.NewRequest(http.MethodPost, api.URL+"/v1/chat/completions", strings.NewReader(hello+`, "stream": true}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer ok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream; charset=utf-8" {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	lines := bufio.NewScanner(resp.Body)
	read := 0
	for read < 5 && lines.Scan() {
		if strings.Contains(lines.Text(), `"content": "w`) {
			read++
		}
	}
	resp.Body.Close() // the client goes away
	select {
	case <-model.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the model call went on after the client left")
	}
	var settled []map[string]any
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if calls := ledger.take(); len(calls) > 0 {
			settled = append(settled, calls...)
		}
		if len(settled) >= 2 {
			break
		}
	}
	if len(settled) != 2 || settled[1]["call"] != "settle" {
		t.Fatalf("ledger calls %v", settled)
	}
	usage := settled[1]["usage"].([]any)
	out := usage[1].([]any)[1].(float64)
	if in := usage[0].([]any)[1].(float64); in != 9 || out < float64(read) || out >= float64(model.n) {
		t.Errorf("settled tokens_in %v, tokens_out %v: want 9 and %d <= out < %d", in, out, read, model.n)
	}
}

func postChat(t *testing.T, srv http.Handler, body string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/v2/chat/completions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-ID", "chat-1")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	return rec
}

func errorOf(t *testing.T, rec *httptest.ResponseRecorder) (string, string) {
	t.Helper()
	var body struct {
		Error struct{ Message, Code string }
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("%s: %v", rec.Body, err)
	}
	return body.Error.Message, body.Error.Code
}

func TestWithoutAnInferenceServerTheChatRoutesAnswer503(t *testing.T) {
	srv := New(Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Billing: &fakeLedger{},
		Text: text.New(), Metrics: NewMetrics()})
	rec := postChat(t, srv, hello+"}", "Authorization", "Bearer ok")
	if msg, _ := errorOf(t, rec); rec.Code != 503 || msg != "the chat model is not configured (BANYAN_INFERENCE_URL)" {
		t.Errorf("%d %s", rec.Code, rec.Body)
	}
	// Validation and the model check come first, as in legacy.
	if rec := postChat(t, srv, `{"model": "nope", "messages": [{"role": "user"}]}`); rec.Code != 400 {
		t.Errorf("%d %s", rec.Code, rec.Body)
	}
}

// unavailableLedger cannot be reached.
type unavailableLedger struct{ tokenLedger }

func (*unavailableLedger) AuthorizeLines(context.Context, billing.Request, string, string, string, []billing.Line) (*billing.Authorization, error) {
	return nil, billing.ErrUnavailable
}

func TestAnUnreachableLedgerIs503AndTheModelIsNotAsked(t *testing.T) {
	model := &scriptedModel{}
	srv := newChatServer(t, model, &unavailableLedger{}, loadTokenizer(t))
	rec := postChat(t, srv, hello+"}", "Authorization", "Bearer ok")
	if _, code := errorOf(t, rec); rec.Code != 503 || code != "billing_service_unavailable_error" || len(model.sent) != 0 {
		t.Errorf("%d %s, model asked %d times", rec.Code, rec.Body, len(model.sent))
	}
}

func TestAnUnreachableModelIs502AndTheHoldIsReleased(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ledger := &tokenLedger{}
	srv := New(Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Billing: &fakeLedger{},
		Text: text.New(), Metrics: NewMetrics(), Chat: ChatConfig{
			Model: llmmodel.New("http://"+addr, http.DefaultClient), Billing: ledger, Tokenizer: loadTokenizer(t)}})
	rec := postChat(t, srv, hello+`, "stream": true}`, "Authorization", "Bearer ok")
	msg, code := errorOf(t, rec)
	calls := ledger.take()
	if rec.Code != 502 || code != "model_call_error" || msg != "the chat model is unreachable: All connection attempts failed" ||
		len(calls) != 2 || calls[1]["call"] != "release" {
		t.Errorf("%d %s %v", rec.Code, rec.Body, calls)
	}
}

func TestAFreshCompletionIDEachTime(t *testing.T) {
	srv := &Server{}
	a, b := srv.completionID(), srv.completionID()
	if a == b || !strings.HasPrefix(a, "chatcmpl-") || len(a) != len("chatcmpl-")+24 {
		t.Errorf("%q %q", a, b)
	}
}

func TestTheChatRoutesTakeOnlyPOST(t *testing.T) {
	srv := newChatServer(t, &scriptedModel{}, &tokenLedger{}, loadTokenizer(t))
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/chat/completions", nil))
	if rec.Code != 405 || rec.Header().Get("Allow") != "POST" {
		t.Errorf("%d %v", rec.Code, rec.Header())
	}
}

// A prompt within the model's context can be megabytes of JSON (a cl100k token spans up to
// 128 spaces); legacy reads it, so the candidate must too, and refuses only past that bound.
func TestAPromptWithinTheContextIsReadWhateverItsSize(t *testing.T) {
	srv := newChatServer(t, &scriptedModel{}, &unavailableLedger{}, loadTokenizer(t))
	body := func(spaces int) string {
		return `{"model": "sarvam-105b", "messages": [{"role": "user", "content": "hi` +
			strings.Repeat(" ", spaces) + `"}]}`
	}
	// 2 MiB of spaces is about 16,400 tokens: read, counted, then stopped by the ledger.
	if rec := postChat(t, srv, body(2<<20), "Authorization", "Bearer ok"); rec.Code != 503 {
		t.Errorf("2 MiB prompt: %d %.200s", rec.Code, rec.Body)
	}
	if rec := postChat(t, srv, body(chatBodyLimit), "Authorization", "Bearer ok"); rec.Code != 413 {
		t.Errorf("past the limit: %d %.200s", rec.Code, rec.Body)
	}
}

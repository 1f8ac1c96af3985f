// Package httpapi is the candidate's HTTP surface: the router, the error envelope, request
// identity, panic recovery, metrics, and the handlers of the routes ported so far
// (POST /text-lid, POST /transliterate, POST /translate); every other public route of legacy
// answers 501.
package httpapi

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"runtime/debug"
	"slices"
	"time"

	"banyan/candidate/internal/billing"
	"banyan/candidate/internal/reqid"
	"banyan/candidate/internal/text"
	"banyan/candidate/internal/translation"
	"banyan/candidate/internal/tts"
)

// Biller is the billing the routes need (billing.Client; a fake in tests).
type Biller interface {
	Authorize(ctx context.Context, req billing.Request, apiKey, route, unit string, quantity int) (*billing.Authorization, error)
	Settle(ctx context.Context, req billing.Request, auth *billing.Authorization, quantity int) error
	Release(ctx context.Context, req billing.Request, auth *billing.Authorization) error
}

// LanguageModel is the inference server's language-identification model (lidmodel.Client;
// a fake in tests): it chooses among candidates where a script is shared.
type LanguageModel interface {
	Choose(ctx context.Context, text string, candidates []string, requestID, traceparent string) (string, error)
}

// Config is what the server is built from; every field is required but Translator.
type Config struct {
	Logger  *slog.Logger
	Billing Biller
	Text    *text.Transliterator
	LID     LanguageModel
	Metrics *Metrics
	// Translator is the translation model (translationmodel.Client); nil when no inference URL
	// is configured, and /translate then answers 503, as legacy does.
	Translator translation.Model
	// Chat is the chat routes' model, line-item billing and tokenizer (chat.go); without a
	// model they answer 503, as legacy does.
	Chat ChatConfig
	// Speech is the text-to-speech model (tts.Client); nil when no inference URL is
	// configured, and /text-to-speech then answers 503, as legacy does.
	Speech tts.Model
	// Recognition is /speech-to-text's model and decimal billing (stt.go); without a model
	// it answers 503, as legacy does.
	Recognition RecognitionConfig
	// BodyIdle is how long a request body may go without a byte (0: DefaultBodyIdle).
	BodyIdle time.Duration
	// Sockets are the WebSocket routes ported so far, by path ("/text-to-speech/ws":
	// ttsws.Handler); a socket route of legacy not here answers 501.
	Sockets map[string]http.Handler
}

// Server is the candidate's http.Handler.
type Server struct {
	log         *slog.Logger
	billing     Biller
	text        *text.Transliterator
	writer      *text.Writer
	lid         LanguageModel
	translator  translation.Model
	chat        ChatConfig
	speech      tts.Model
	recognition RecognitionConfig
	metrics     *Metrics
	router      router
	bodyIdle    time.Duration
}

// New builds the server and its route table.
func New(cfg Config) *Server {
	s := &Server{
		log: cfg.Logger, billing: cfg.Billing, text: cfg.Text, writer: text.NewWriter(cfg.Text),
		lid: cfg.LID, translator: cfg.Translator, chat: cfg.Chat, metrics: cfg.Metrics,
		speech:      cfg.Speech,
		recognition: cfg.Recognition,
		bodyIdle:    cfg.BodyIdle,
	}
	if s.bodyIdle <= 0 {
		s.bodyIdle = DefaultBodyIdle
	}
	s.router.routes = []*route{
		{name: "/healthz", methods: []string{http.MethodGet}, match: exact("/healthz"), handler: s.healthz},
		{name: "/metrics", methods: []string{http.MethodGet}, match: exact("/metrics"), handler: s.serveMetrics},
		{name: "/text-lid", methods: []string{http.MethodPost}, match: exact("/text-lid"), handler: s.identifyLanguage},
		{name: "/transliterate", methods: []string{http.MethodPost}, match: exact("/transliterate"), handler: s.transliterate},
		{name: "/translate", methods: []string{http.MethodPost}, match: exact("/translate"), handler: s.translate},
		{name: "/v1/chat/completions", methods: []string{http.MethodPost}, match: exact("/v1/chat/completions"), handler: s.chatCompletions},
		{name: "/v2/chat/completions", methods: []string{http.MethodPost}, match: exact("/v2/chat/completions"), handler: s.chatCompletions},
		{name: "/text-to-speech", methods: []string{http.MethodPost}, match: exact("/text-to-speech"), handler: s.textToSpeech},
		{name: "/text-to-speech/stream", methods: []string{http.MethodPost}, match: exact("/text-to-speech/stream"), handler: s.textToSpeechStream},
		{name: "/speech-to-text", methods: []string{http.MethodPost}, match: exact("/speech-to-text"), handler: s.speechToText},
		{name: "/speech-to-text-translate", methods: []string{http.MethodPost}, match: exact("/speech-to-text-translate"), handler: s.speechToTextTranslate},
	}
	for _, path := range slices.Sorted(maps.Keys(cfg.Sockets)) {
		s.router.routes = append(s.router.routes, &route{name: path, match: exact(path), handler: cfg.Sockets[path].ServeHTTP, websocket: true})
	}
	for _, np := range notPortedRoutes {
		if cfg.Sockets[np.name] == nil {
			s.router.routes = append(s.router.routes, &route{name: np.name, methods: np.methods, match: np.match, handler: notPorted})
		}
	}
	return s
}

// statusRecorder remembers the status a handler sent, for metrics, the access log and the
// panic handler (which can only answer if nothing was sent yet).
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Hijack hands the connection to a WebSocket upgrade, which answers 101 itself: that is the
// status recorded (and the panic handler must not write to a connection no longer ours).
func (r *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(r.ResponseWriter).Hijack()
	if err == nil && r.status == 0 {
		r.status = http.StatusSwitchingProtocols
	}
	return conn, rw, err
}

// ServeHTTP gives every request its id (the caller's valid X-Request-ID, else a new one: in
// the context, in every log line and echoed in the response), recovers a panic into a 500
// envelope that shows nothing of the internals, and records metrics and an access log line.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	started := time.Now()
	id := reqid.Accept(lastHeader(r, reqid.Header))
	ctx, open := withHolds(reqid.With(r.Context(), id))
	r = r.WithContext(ctx)
	rec := &statusRecorder{ResponseWriter: w}
	rec.Header().Set(reqid.Header, id)
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &progressBody{ReadCloser: r.Body, rc: http.NewResponseController(w), idle: s.bodyIdle}
	}
	name := "unmatched"
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				open.releaseAll()
				panic(p)
			}
			s.log.ErrorContext(r.Context(), "unhandled panic", "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
			open.releaseAll()
			if rec.status == 0 {
				dropRateLimitHeaders(rec.Header())
				writeError(rec, r, http.StatusInternalServerError, internalErrorMessage, "")
			}
		}
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		elapsed := time.Since(started)
		s.metrics.observe(name, r.Method, status, elapsed)
		s.log.InfoContext(r.Context(), "request", "method", r.Method, "path", r.URL.Path, "route", name,
			"status", status, "duration_ms", float64(elapsed.Microseconds())/1000)
	}()
	name = s.router.dispatch(rec, r)
}

// Deadlines. A body is read under an idle rule rather than one deadline for the whole
// request: a 25 MiB upload on a slow link takes minutes and is fine while it moves (legacy's
// uvicorn has no body deadline at all), and a client that stops sending is cut off as soon
// as it stops. The answer's write budget starts when the body has been read, not when the
// request began, so a slow upload does not eat the time to answer it.
const (
	DefaultBodyIdle = 30 * time.Second // no byte of the body for this long: cut off
	WriteTimeout    = 60 * time.Second // to answer, from the body's last byte
)

// progressBody moves the connection's deadlines forward before each read of the body.
type progressBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	idle time.Duration
}

func (b *progressBody) Read(p []byte) (int, error) {
	now := time.Now() // the deadlines are unsupported (and ignored) by tests' recorders
	_ = b.rc.SetReadDeadline(now.Add(b.idle))
	n, err := b.ReadCloser.Read(p)
	_ = b.rc.SetWriteDeadline(time.Now().Add(WriteTimeout))
	return n, err
}

// lastHeader is how legacy reads X-Request-ID: dict(scope["headers"]), so the last of
// repeated headers.
func lastHeader(r *http.Request, name string) string {
	values := r.Header.Values(name)
	if len(values) == 0 {
		return ""
	}
	return values[len(values)-1]
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, `{"status":"ok"}`)
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	if _, err := s.metrics.WriteTo(w); err != nil {
		s.log.WarnContext(r.Context(), "writing metrics failed", "error", err)
	}
}

// dropRateLimitHeaders: legacy's 500 is sent by Starlette's outermost middleware, past the
// one that adds X-RateLimit-*, so a 500 never carries them.
func dropRateLimitHeaders(h http.Header) {
	for _, name := range []string{"X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset", "Retry-After"} {
		h.Del(name)
	}
}

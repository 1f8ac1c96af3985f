// Package sttws is /speech-to-text/ws and /speech-to-text-translate/ws (sdk-contract §1.8),
// ported from legacy/stt_ws.py: audio in, one transcript per utterance out, over one
// WebSocket session. The handshake, its refusals and the session's billing are
// internal/realtime's; the utterances come from internal/vad's Stream, the transcripts from
// internal/stt's model client.
//
// Client messages are JSON text frames: {"audio": {"data": <base64>, ...}} (a whole WAV file
// of any rate, recognised by its RIFF header, or, with input_audio_codec=pcm_*, raw 16-bit
// PCM at sample_rate: 16000, or 8000 upsampled by a streaming resampler), {"type": "flush"}
// (the utterance so far is recognised now) and {"type": "config", ...} (a prompt: accepted and
// ignored, on both routes, as legacy does). Anything else gets an error message and the
// session goes on; a message over MaxMessageChars ends it with an error and close 1009.
//
// The server sends data messages (one per utterance, when the VAD hears it end, on flush, or
// when it fills the model's 20 s context), events messages (VAD start and end, with
// vad_signals=true) and error messages. Every message is written as legacy's json.dumps
// writes it (", " and ": ", UTF-8 as is, fields in legacy's order).
//
// Back pressure: a receiver reads client messages and hands finished utterances to the
// recognizer through a queue of QueueDepth; when it is full the receiver stops reading, and
// so does the connection (TCP pushes back on the client). The stream keeps a bounded amount
// of audio whatever the client sends.
//
// Billing (routes speech-to-text-ws and speech-to-text-translate-ws, audio_seconds): 10 s held
// at open and at each extension; each audio message is billed as it arrives, the session's
// total of 16 kHz samples in whole milliseconds rounded up, so the session's sum is exact. A
// wallet that cannot cover a message ends the session with an error and close 1008 (the
// message is not heard). One ledger row per session, however it ends.
//
// Deliberately not here: decoding other containers than WAV (the candidate has no MP3 or Opus
// decoder; such a message gets an error naming the container), and the soxr resampler itself
// (resample.go explains what stands in for it).
package sttws

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/websocket"

	"banyan/candidate/internal/realtime"
	"banyan/candidate/internal/stt"
)

// notConfigured is the refusal when there is no recognition model (legacy: no inference URL).
const notConfigured = "speech recognition is not configured (BANYAN_INFERENCE_URL)"

// estimate is what a session holds when it opens and the least each extension adds.
var estimate = realtime.Units(10)

// Config is what the routes are built from.
type Config struct {
	Log     *slog.Logger
	Billing realtime.Biller
	// Model recognises utterances; without one every handshake is refused with 503, as
	// legacy does without an inference URL.
	Model stt.Model
	// CloseGrace is how long a session waits for the client's answer to a close it sent
	// (0: realtime.DefaultCloseGrace).
	CloseGrace time.Duration
	// Now is the clock of occured_at and processing_latency (nil: time.Now); tests fix it.
	Now func() time.Time
}

// Handler serves one of the two routes.
type Handler struct {
	cfg       Config
	opener    realtime.Opener
	route     realtime.Route
	translate bool
}

// NewTranscribe is /speech-to-text/ws.
func NewTranscribe(cfg Config) *Handler { return newHandler(cfg, "speech-to-text-ws", false) }

// NewTranslate is /speech-to-text-translate/ws: English out, the language always detected.
func NewTranslate(cfg Config) *Handler {
	return newHandler(cfg, "speech-to-text-translate-ws", true)
}

func newHandler(cfg Config, route string, translate bool) *Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Handler{
		cfg:       cfg,
		opener:    realtime.Opener{Billing: cfg.Billing, Log: cfg.Log, CloseGrace: cfg.CloseGrace},
		route:     realtime.Route{Name: route, Unit: "audio_seconds", Estimate: estimate},
		translate: translate,
	}
}

// ServeHTTP answers one handshake in legacy's order (query 422, keyterms 400, no model 503,
// then authorization) and, once accepted, holds the session until it ends; the session
// settles however it ends.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r = realtime.WithRequestID(r)
	if !websocket.IsWebSocketUpgrade(r) {
		// Legacy's routes are WebSocket-only: a plain request matches no HTTP route.
		realtime.Refuse(w, r, http.StatusNotFound, "no route "+r.Method+" "+r.URL.Path, "", nil)
		return
	}
	var opts options
	var problem string
	if h.translate {
		opts, problem = parseTranslateQuery(r.URL.RawQuery)
	} else {
		opts, problem = parseQuery(r.URL.RawQuery)
	}
	if problem != "" {
		realtime.Refuse(w, r, http.StatusUnprocessableEntity, problem, "", nil)
		return
	}
	if refusal := opts.parseKeyterms(); refusal != "" {
		realtime.Refuse(w, r, http.StatusBadRequest, refusal, "", nil)
		return
	}
	if h.cfg.Model == nil {
		realtime.Refuse(w, r, http.StatusServiceUnavailable, notConfigured, "", nil)
		return
	}
	conn, meter, ok := h.opener.Open(w, r, h.route)
	if !ok {
		return
	}
	ctx := r.Context()
	defer meter.Close(context.WithoutCancel(ctx))
	s, err := newSession(conn, meter, h.cfg, opts)
	if err != nil { // a VAD mode out of range: not reachable from the query
		h.cfg.Log.ErrorContext(ctx, "speech-to-text session could not start", "error", err)
		conn.Close(websocket.CloseInternalServerErr, "internal error")
		conn.Shutdown()
		return
	}
	s.run(ctx)
}

// Package ttsws is /text-to-speech/ws (sdk-contract §1.8), ported from legacy/tts_ws_api.py:
// text in, audio out, over one WebSocket session. The handshake, its refusals and the
// session's billing are internal/realtime's; speech comes from the Resolver, Speaker and
// Audio interfaces (speech.go), so the protocol here does not depend on how it is made.
//
// Query: model (bulbul:v2 when omitted) and send_completion_event. Client messages are JSON
// text frames:
//
//   - config must come first (anything else before it gets an error message and is
//     dropped). A new config mid-session first sends the buffered text off with the old one.
//   - text (1-2500 characters) is buffered; once the buffer holds min_buffer_size characters
//     it is synthesized, split into chunks of at most max_chunk_length.
//   - flush synthesizes the buffer whatever its size; when the audio of everything before it
//     has been sent, an event final follows if send_completion_event is true.
//   - ping is a keep-alive and gets no reply. A session with no client message for the idle
//     time and no audio left to send is closed (1000, reason "idle").
//
// The server sends only audio, event and error JSON text frames, each audio message a whole
// file of the codec holding at most 10 s. Back pressure: the receiver hands buffers to the
// synthesizer through a queue of two; the synthesizer runs at most two chunks ahead and
// blocks on the socket when the client stops reading, so a client that stops reading stops
// synthesis, then stops the server reading its messages, and nothing grows without bound.
//
// Billing (route text-to-speech-ws, characters): each chunk's characters are counted when
// its audio is about to be sent; the hold grows as needed, and a wallet that cannot cover
// the next chunk ends the session with an error (code 402) and close 1008. Buffered text
// never synthesized is not billed. The ledger gets one row per session when it ends.
package ttsws

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/websocket"

	"banyan/candidate/internal/realtime"
)

// DefaultIdle is how long a session may go without a client message while no audio is
// pending, like the real service's ~60 s.
const DefaultIdle = 60 * time.Second

// route is how a session is billed: characters, 250 held at open and at each extension.
var route = realtime.Route{Name: "text-to-speech-ws", Unit: "characters", Estimate: realtime.Units(250)}

// notConfigured is the refusal when there is no speech synthesis (legacy: no inference URL).
const notConfigured = "speech synthesis is not configured (BANYAN_INFERENCE_URL)"

// Config is what the route is built from.
type Config struct {
	Log     *slog.Logger
	Billing realtime.Biller
	// Resolver, Speaker and Audio make the speech; without a Speaker every handshake is
	// refused with 503, as legacy does without an inference URL.
	Resolver Resolver
	Speaker  Speaker
	Audio    Audio
	// Idle is the idle timeout (0: DefaultIdle); tests shorten it.
	Idle time.Duration
	// CloseGrace is how long a session waits for the client's answer to a close it sent
	// (0: realtime.DefaultCloseGrace).
	CloseGrace time.Duration
}

// Handler serves /text-to-speech/ws.
type Handler struct {
	cfg    Config
	opener realtime.Opener
}

// New returns the route's handler.
func New(cfg Config) *Handler {
	if cfg.Idle <= 0 {
		cfg.Idle = DefaultIdle
	}
	return &Handler{cfg: cfg, opener: realtime.Opener{Billing: cfg.Billing, Log: cfg.Log, CloseGrace: cfg.CloseGrace}}
}

// ServeHTTP answers one handshake and, once accepted, holds the session until it ends; the
// session settles however it ends.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r = realtime.WithRequestID(r)
	if !websocket.IsWebSocketUpgrade(r) {
		// Legacy's route is WebSocket-only: a plain request matches no HTTP route.
		realtime.Refuse(w, r, http.StatusNotFound, "no route "+r.Method+" "+r.URL.Path, "", nil)
		return
	}
	q := realtime.ParseQuery(r.URL.RawQuery)
	model := q.Literal("model", Models)
	completion := q.Bool("send_completion_event", false)
	if problem := q.Problem(); problem != "" {
		realtime.Refuse(w, r, http.StatusUnprocessableEntity, problem, "", nil)
		return
	}
	if h.cfg.Speaker == nil {
		realtime.Refuse(w, r, http.StatusServiceUnavailable, notConfigured, "", nil)
		return
	}
	conn, session, ok := h.opener.Open(w, r, route)
	if !ok {
		return
	}
	ctx := r.Context()
	defer session.Close(context.WithoutCancel(ctx))
	c := &conversation{
		conn: conn, session: session, log: h.cfg.Log, resolver: h.cfg.Resolver, speaker: h.cfg.Speaker,
		audio: h.cfg.Audio, idle: h.cfg.Idle, model: model, completion: completion,
	}
	c.run(ctx)
}

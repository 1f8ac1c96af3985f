package ttsws

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"banyan/candidate/internal/billing"
	"banyan/candidate/internal/pyjson"
	"banyan/candidate/internal/pyrepr"
	"banyan/candidate/internal/realtime"
	"banyan/candidate/internal/text"
)

const (
	pendingJobs = 2  // buffers waiting for the synthesizer before the receiver stops reading
	window      = 2  // chunks synthesized ahead of the socket
	segmentS    = 10 // longest audio in one message: 10 s of 16-bit PCM at 24 kHz is 480 KB
)

// voice is a validated config: how buffered text is spoken and encoded.
type voice struct {
	languageCode   string
	options        Options
	minBufferSize  int
	maxChunkLength int
}

// job is a buffer handed to the synthesizer.
type job struct {
	text  string
	voice *voice
	final bool // a flush: send the completion event after its audio
}

// protocolError is a client message the session answers with an error message (and
// otherwise drops); the session goes on.
type protocolError struct {
	message string
	code    int
}

func (e *protocolError) Error() string { return e.message }

// Why a side of the conversation ended without being the server's fault.
var (
	errClientGone  = errors.New("the client is gone")
	errSessionOver = errors.New("the session ended: the wallet ran out")
	errIdle        = errors.New("the session was idle")
)

// conversation is one session of /text-to-speech/ws (legacy's _Conversation): a receiver
// reading client messages into a buffer and a bounded queue of jobs, and a synthesizer
// speaking the jobs in order and sending their audio.
type conversation struct {
	conn     *realtime.Conn
	session  *realtime.Session
	log      *slog.Logger
	resolver Resolver
	speaker  Speaker
	audio    Audio
	idle     time.Duration
	// the query
	model      string
	completion bool

	// the receiver's state
	voice     *voice
	buffer    strings.Builder
	bufferLen int // code points in buffer

	jobs    chan job
	pending atomic.Int64 // jobs queued or being spoken: the client is waiting for audio
}

// run holds the session until the client leaves, goes idle or the wallet runs out
// (realtime.Run: both goroutines are joined before it returns, and the connection is shut
// down).
func (c *conversation) run(ctx context.Context) {
	c.jobs = make(chan job, pendingJobs)
	realtime.Run(ctx, c.conn, c.log, "text-to-speech", serverFault, c.receive, c.synthesize)
}

// serverFault tells the errors that are the server's (the ledger failing, an encoder
// error) from the ways a session ends normally.
func serverFault(err error) bool {
	return err != nil && !errors.Is(err, errClientGone) && !errors.Is(err, errSessionOver) &&
		!errors.Is(err, errIdle) && !errors.Is(err, context.Canceled)
}

// receive reads client messages until the client leaves or the session is idle: no message
// for the idle time while no audio is pending (a long synthesis is not idleness).
func (c *conversation) receive(ctx context.Context) error {
	timer := time.NewTimer(c.idle)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
			if c.pending.Load() > 0 {
				timer.Reset(c.idle)
				continue
			}
			c.conn.Close(websocket.CloseNormalClosure, "idle")
			return errIdle
		case frame, ok := <-c.conn.Frames():
			if !ok {
				return errClientGone
			}
			timer.Stop()
			if err := c.handle(ctx, frame); err != nil {
				var pe *protocolError
				if !errors.As(err, &pe) {
					return err
				}
				if err := c.sendError(pe.message, pe.code); err != nil {
					return err
				}
			}
			timer.Reset(c.idle) // a fresh wait for the next message, as legacy's per-receive timeout
		}
	}
}

// handle is legacy's _handle: one client message.
func (c *conversation) handle(ctx context.Context, frame realtime.Frame) error {
	if frame.Binary {
		return &protocolError{msgBinaryFrame, 400}
	}
	m, ok := parseMessage(frame.Data)
	if !ok {
		return &protocolError{msgNotAMessage, 400}
	}
	switch m.kind {
	case "ping":
		return nil // keep-alive: no reply, by contract
	case "config":
		v, err := c.configure(m.data)
		if err != nil {
			return err
		}
		if err := c.sendBuffer(ctx, false); err != nil { // what was buffered keeps the old config
			return err
		}
		c.voice = v
		return nil
	case "text", "flush":
	default:
		return &protocolError{"unknown message type " + pyrepr.Str(m.kind) + "; use config, text, flush or ping", 400}
	}
	if c.voice == nil {
		return &protocolError{"the first message must be a config message; " + pyrepr.Str(m.kind) + " came first", 400}
	}
	if m.kind == "flush" {
		return c.sendBuffer(ctx, true)
	}
	t, n, problem := parseText(m.data)
	if problem != "" {
		return &protocolError{problem, 400}
	}
	c.buffer.WriteString(t)
	c.bufferLen += n
	if c.bufferLen >= c.voice.minBufferSize {
		return c.sendBuffer(ctx, false)
	}
	return nil
}

// configure validates a config message and resolves its speech options.
func (c *conversation) configure(data map[string]pyjson.Value) (*voice, error) {
	cfg, problem := parseConfig(data)
	if problem != "" {
		return nil, &protocolError{problem, 400}
	}
	model := cfg.Model
	if model == "" {
		model = c.model
	}
	options, err := c.resolver.Resolve(cfg, model)
	var notPorted *NotPortedError
	switch {
	case errors.As(err, &notPorted):
		return nil, &protocolError{notPorted.Message, 501}
	case err != nil:
		return nil, &protocolError{"config message: " + err.Error(), 400}
	}
	return &voice{cfg.LanguageCode, options, cfg.MinBufferSize, cfg.MaxChunkLength}, nil
}

// sendBuffer queues the buffer for synthesis (a flush even when it is empty, for its event);
// it blocks while the synthesizer is behind: back pressure.
func (c *conversation) sendBuffer(ctx context.Context, final bool) error {
	if c.voice == nil || !(final || strings.TrimFunc(c.buffer.String(), text.IsSpace) != "") {
		return nil
	}
	j := job{text: c.buffer.String(), voice: c.voice, final: final}
	c.buffer.Reset()
	c.bufferLen = 0
	c.pending.Add(1)
	select {
	case c.jobs <- j:
		return nil
	case <-ctx.Done():
		c.pending.Add(-1)
		return ctx.Err()
	}
}

// synthesize speaks the queued jobs in order until the session ends.
func (c *conversation) synthesize(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case j := <-c.jobs:
			err := c.runJob(ctx, j)
			c.pending.Add(-1)
			if err != nil {
				return err
			}
		}
	}
}

func (c *conversation) runJob(ctx context.Context, j job) error {
	if strings.TrimFunc(j.text, text.IsSpace) != "" {
		if err := c.speak(ctx, j); err != nil {
			return err
		}
	}
	if j.final && c.completion {
		return c.send(finalEvent)
	}
	return nil
}

// speak synthesizes one job chunk by chunk; each chunk is billed when its audio is about to
// be sent, and a wallet that cannot cover it ends the session (error 402, close 1008).
func (c *conversation) speak(ctx context.Context, j job) error {
	o := j.voice.options
	req := SpeechRequest{Text: j.text, LanguageCode: j.voice.languageCode, Options: o, MaxChars: j.voice.maxChunkLength, Window: window,
		RequestID: c.session.RequestID(), Traceparent: c.session.Traceparent()}
	for chunk, err := range c.speaker.Speak(ctx, req) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			return c.sendError(err.Error(), 502)
		}
		if err := c.session.Use(ctx, realtime.Units(int64(utf8.RuneCountInString(chunk.Text)))); err != nil {
			var refusal *billing.Refusal
			if realtime.IsInsufficientQuota(err) && errors.As(err, &refusal) {
				if err := c.sendError(refusal.Message, 402); err != nil {
					return err
				}
				c.conn.Close(websocket.ClosePolicyViolation, "insufficient quota")
				return errSessionOver
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		pcm := c.audio.Resample(chunk.PCM, chunk.SampleRate, o.SampleRate)
		if err := c.sendAudio(c.audio.Scale(pcm, o.Loudness), o); err != nil {
			return err
		}
	}
	return nil
}

// sendAudio sends PCM as audio messages of at most segmentS seconds, each a whole file of
// the codec (so it plays alone, and every frame stays well under the SDK's 1 MiB).
func (c *conversation) sendAudio(pcm []byte, o Options) error {
	step := 2 * o.SampleRate * segmentS
	contentType := c.audio.MediaType(o.Codec)
	for start := 0; start < len(pcm); start += step {
		audio, err := c.audio.Encode(pcm[start:min(start+step, len(pcm))], o.SampleRate, o.Codec, o.Bitrate)
		if err != nil {
			return err
		}
		if err := c.send(audioMessage(contentType, audio, c.session.RequestID())); err != nil {
			return err
		}
	}
	return nil
}

func (c *conversation) sendError(message string, code int) error {
	return c.send(errorMessage(message, code, c.session.RequestID()))
}

// send writes one message; the receiver's errors and the synthesizer's audio interleave.
func (c *conversation) send(message []byte) error {
	if err := c.conn.Send(message); err != nil {
		return errClientGone
	}
	return nil
}

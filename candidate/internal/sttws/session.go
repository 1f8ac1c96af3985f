package sttws

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"banyan/candidate/internal/billing"
	"banyan/candidate/internal/realtime"
	"banyan/candidate/internal/stt"
	"banyan/candidate/internal/vad"
)

// QueueDepth is how many finished utterances wait for the recognizer before the receiver
// stops reading the client.
const QueueDepth = 2

// keepSeconds is the audio the stream keeps outside speech, for the VAD's look-back.
const keepSeconds = 1.0

// Why a side of the session ended without being the server's fault.
var (
	errClientGone  = errors.New("the client is gone")
	errSessionOver = errors.New("the session ended: the wallet ran out or a message was too long")
)

// session is one socket of either route (legacy's _Session): a receiver reading client
// messages, cutting the audio into utterances and billing it, and a recognizer turning the
// queued utterances into transcripts, in order.
type session struct {
	conn  *realtime.Conn
	meter *realtime.Session
	log   *slog.Logger
	model stt.Model
	now   func() time.Time
	// the query
	request    stt.Request
	rawRate    int
	vadSignals bool

	// the receiver's state
	stream   *vad.Stream
	up       *upsampler // raw 8 kHz only
	samples  int        // 16 kHz samples received
	billedMS int

	jobs chan vad.Utterance
	// open is legacy's is_open: false once a send failed (the client is gone) or the session
	// was ended by the server; the recognizer then drains the queue without recognizing.
	open atomic.Bool
}

func newSession(conn *realtime.Conn, meter *realtime.Session, cfg Config, o options) (*session, error) {
	stream, err := vad.NewStream(vad.ForSensitivity(o.highVAD), stt.ModelMaxSeconds, keepSeconds)
	if err != nil {
		return nil, err
	}
	s := &session{
		conn: conn, meter: meter, log: cfg.Log, model: cfg.Model, now: cfg.Now,
		request: o.request, rawRate: o.rawRate, vadSignals: o.vadSignals, stream: stream,
		jobs: make(chan vad.Utterance, QueueDepth),
	}
	if o.rawRate == 8000 {
		s.up = &upsampler{}
	}
	s.open.Store(true)
	return s, nil
}

// run holds the session until the client leaves, the wallet runs out or a message is too
// long. Then, as legacy cancels its worker, the recognition in flight is abandoned and the
// queued utterances are dropped; both goroutines are joined and the connection shut down
// before it returns (realtime.Run).
func (s *session) run(ctx context.Context) {
	realtime.Run(ctx, s.conn, s.log, "speech-to-text", serverFault, s.receive, s.recognize)
}

// serverFault tells the errors that are the server's (the ledger failing, an unreadable
// answer of the model) from the ways a session ends normally.
func serverFault(err error) bool {
	return err != nil && !errors.Is(err, errClientGone) && !errors.Is(err, errSessionOver) &&
		!errors.Is(err, context.Canceled)
}

// receive is legacy's pump: read a message, handle it, queue the utterances it finished,
// waiting for room in the queue before reading on (back pressure).
func (s *session) receive(ctx context.Context) error {
	for {
		var frame realtime.Frame
		select {
		case <-ctx.Done():
			return nil
		case f, ok := <-s.conn.Frames():
			if !ok {
				return errClientGone
			}
			frame = f
		}
		utterances, err := s.handle(ctx, frame)
		if err != nil {
			return err
		}
		for _, u := range utterances {
			select {
			case s.jobs <- u:
			case <-ctx.Done():
				return nil
			}
		}
	}
}

// handle is legacy's _handle: one client message; the utterances it finished.
func (s *session) handle(ctx context.Context, frame realtime.Frame) ([]vad.Utterance, error) {
	text := frame.Data
	if frame.Binary {
		text = nil // legacy reads a binary frame's text as "": not JSON
	}
	if utf8.RuneCount(text) > MaxMessageChars {
		s.sendError(msgTooLong, codeTooLong)
		s.end(websocket.CloseMessageTooBig)
		return nil, errSessionOver
	}
	m := parseMessage(text)
	switch {
	case m.notJSON:
		s.sendError(msgNotJSON, codeInvalid)
		return nil, nil
	case m.kind == messageFlush:
		return utterancesOf(s.stream.Flush()), nil
	case m.kind == messageConfig:
		return nil, nil // a prompt: accepted; the model takes none
	case m.kind != messageAudio:
		s.sendError(msgUnknown, codeInvalid)
		return nil, nil
	}
	data, problem := []byte(nil), "string argument should contain only ASCII characters"
	if !m.data.LoneSurrogate {
		data, problem = b64decode(m.data.Str)
	}
	if problem != "" {
		s.sendError("audio.data: "+problem, codeInvalid)
		return nil, nil
	}
	pcm, bad, err := pcmOf(data, s.rawRate, s.up)
	if err != nil {
		return nil, fmt.Errorf("decode an audio message: %w", err)
	}
	if bad != nil {
		s.sendError(bad.message, bad.code)
		return nil, nil
	}
	if err := s.bill(ctx, len(pcm)/2); err != nil {
		var refusal *billing.Refusal
		if realtime.IsInsufficientQuota(err) && errors.As(err, &refusal) {
			s.sendError(refusal.Message, codeQuota)
			s.end(websocket.ClosePolicyViolation)
			return nil, errSessionOver
		}
		return nil, err
	}
	events := s.stream.Feed(pcm)
	s.sendSignals(events)
	return utterancesOf(events), nil
}

// bill is legacy's _bill: the session's samples in whole milliseconds, rounded up, less what
// was billed already. When the wallet cannot cover it nothing is counted.
func (s *session) bill(ctx context.Context, samples int) error {
	totalMS := (s.samples + samples + 15) / 16
	if err := s.meter.Use(ctx, realtime.Milli(int64(totalMS-s.billedMS))); err != nil {
		return err
	}
	s.samples += samples
	s.billedMS = totalMS
	return nil
}

// sendSignals sends the VAD's start and end events, when the query asked for them.
func (s *session) sendSignals(events []vad.StreamEvent) {
	if !s.vadSignals {
		return
	}
	for _, e := range events {
		switch {
		case e.Started:
			s.send(eventMessage(signalStarted, unixSeconds(s.now())))
		case e.Ended:
			s.send(eventMessage(signalEnded, unixSeconds(s.now())))
		}
	}
}

func utterancesOf(events []vad.StreamEvent) []vad.Utterance {
	var out []vad.Utterance
	for _, e := range events {
		if e.Utterance != nil {
			out = append(out, *e.Utterance)
		}
	}
	return out
}

// recognize is legacy's _recognize_forever: the queued utterances recognised in order, each
// transcript sent. With language "unknown", the first detection holds for the rest of the
// session. After the client has gone it drains the queue without recognizing, so the
// receiver never waits on it forever.
func (s *session) recognize(ctx context.Context) error {
	request := s.request
	var probability *float64
	for {
		var u vad.Utterance
		select {
		case <-ctx.Done():
			return nil
		case u = <-s.jobs:
		}
		if !s.open.Load() {
			continue
		}
		started := s.now()
		whole := vad.Segment{Start: 0, End: vad.Round(float64(len(u.PCM))/2/vad.Rate, 3)}
		pieces := stt.FitToContext(u.PCM, []vad.Segment{whole}, stt.ModelMaxSeconds)
		result, err := stt.Transcribe(ctx, s.model, u.PCM, pieces, request, s.modelHeaders())
		if ctx.Err() != nil {
			return nil // the session ended: legacy cancels its worker
		}
		var failed *stt.Failed
		switch {
		case errors.As(err, &failed):
			s.log.WarnContext(ctx, "recognition failed", "error", failed.Message)
			s.sendError(failed.Message, codeModel)
			continue
		case err != nil:
			// Legacy's worker dies of this and its session hangs; the candidate ends it.
			return fmt.Errorf("recognize an utterance: %w", err)
		}
		if request.Language == "unknown" && result.LanguageCode != nil {
			request = stt.Request{Language: *result.LanguageCode, Mode: request.Mode, Keyterms: request.Keyterms}
			probability = result.LanguageProbability
		}
		t := transcript{
			requestID: s.meter.RequestID(), text: result.Transcript, probability: probability,
			audioDuration: u.EndSeconds() - u.StartSeconds(),
			latency:       s.now().Sub(started).Seconds(),
		}
		if request.Language != "unknown" {
			language := request.Language
			t.language = &language
		}
		s.send(dataMessage(t))
	}
}

func (s *session) modelHeaders() stt.Headers {
	r := s.meter.Request()
	return stt.Headers{RequestID: r.RequestID, Traceparent: r.Traceparent, Shadow: r.Shadow, HasShadow: r.HasShadow}
}

// send writes one message unless the session is over; a client gone is noted, not raised.
func (s *session) send(message []byte) {
	if !s.open.Load() {
		return
	}
	if err := s.conn.Send(message); err != nil {
		s.open.Store(false)
	}
}

func (s *session) sendError(message, code string) { s.send(errorMessage(message, code)) }

// end closes the session from the server's side (legacy's close_quietly then is_open=False).
func (s *session) end(code int) {
	s.conn.Close(code, "")
	s.open.Store(false)
}

// unixSeconds is time.time(): seconds since the epoch as a float.
func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

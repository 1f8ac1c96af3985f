package sttws

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"banyan/candidate/internal/realtime/realtimetest"
	"banyan/candidate/internal/stt"
)

// frozen is the clock of the transcripts (gen_transcripts.py's NOW): time.time() 1764806400.5.
func frozen() time.Time { return time.Unix(1764806400, 500_000_000) }

// fakeModel is gen_transcripts.py's stand-in recognition model (asr_answer): a transcript
// naming the call and its audio; with language "unknown", hi-IN detected (0.8125) on pieces
// of at least 8000 samples; mode codemix fails every call (503). gate, when set, is waited on
// before each call; it counts calls in flight and those abandoned.
type fakeModel struct {
	gate      chan struct{}
	inFlight  atomic.Int64
	calls     atomic.Int64
	cancelled atomic.Int64
	garbage   bool // answer something that is not an answer (legacy's worker dies of it)
}

func (m *fakeModel) Recognize(ctx context.Context, call stt.Call, _ stt.Headers) (stt.Answer, error) {
	m.calls.Add(1)
	m.inFlight.Add(1)
	defer m.inFlight.Add(-1)
	if m.gate != nil {
		select {
		case <-m.gate:
		case <-ctx.Done():
			m.cancelled.Add(1)
			return nil, ctx.Err()
		}
	}
	if m.garbage {
		return nil, fmt.Errorf("the recognition model's answer is not a JSON object")
	}
	if call.Mode == "codemix" {
		return nil, &stt.Failed{Message: "the recognition model refused a piece (503)"}
	}
	sum := sha256.Sum256(call.PCM)
	answer := stt.Answer{
		"transcript": fmt.Sprintf("%s|%s|%s|%d|%s", call.Mode, call.Language, strings.Join(call.Keyterms, ","),
			len(call.PCM)/2, hex.EncodeToString(sum[:])[:12]),
		"words": []any{},
	}
	if call.Language == "unknown" {
		answer["language_code"], answer["language_probability"] = nil, nil
		if len(call.PCM)/2 >= 8000 {
			answer["language_code"], answer["language_probability"] = "hi-IN", 0.8125
		}
	} else {
		answer["language_code"] = call.Language
	}
	return answer, nil
}

// requestID is every test session's X-Request-ID: gen_transcripts.py's REQUEST_ID.
const requestID = "rid-stt-transcript"

// lab is a route on a real server (realtimetest.Serve: every session must end after its
// client left, and every goroutine it started with it, and no recognition be left in flight).
type lab struct {
	url string // the route's, with the ws scheme
}

func newLab(t *testing.T, translate bool, ledger *realtimetest.Ledger, model *fakeModel) *lab {
	t.Helper()
	cfg := Config{
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Billing: ledger, Model: model,
		CloseGrace: 200 * time.Millisecond, Now: frozen,
	}
	var h http.Handler = NewTranscribe(cfg)
	if translate {
		h = NewTranslate(cfg)
	}
	busy := func() error {
		if n := model.inFlight.Load(); n != 0 {
			return fmt.Errorf("%d recognitions still in flight", n)
		}
		return nil
	}
	// The handler is the route whatever the path: both routes are dialled at this one.
	return &lab{url: realtimetest.Serve(t, h, busy) + "/speech-to-text/ws"}
}

func (l *lab) dial(query string) (*websocket.Conn, *http.Response, error) {
	return realtimetest.Dial(l.address(query), requestID)
}

func (l *lab) open(t *testing.T, query string) *realtimetest.Client {
	t.Helper()
	return realtimetest.Open(t, l.address(query), requestID)
}

func (l *lab) address(query string) string {
	if query == "" {
		return l.url
	}
	return l.url + "?" + query
}

// readMessage is the next text message, within a deadline.
func readMessage(t *testing.T, ws *websocket.Conn) (string, error) {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	kind, data, err := ws.ReadMessage()
	if err != nil {
		return "", err
	}
	if kind != websocket.TextMessage {
		t.Fatalf("a binary message: %q", data)
	}
	return string(data), nil
}

package sttws

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"banyan/candidate/internal/billing"
	"banyan/candidate/internal/realtime"
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

// fakeBiller is the ledger of one session over a wallet that holds at most limit (0: any),
// recording its calls as gen_transcripts.py's Ledger does.
type fakeBiller struct {
	mu      sync.Mutex
	limit   realtime.Quantity
	held    realtime.Quantity
	calls   []string
	failUse bool // every extension fails as a ledger that cannot be reached
	settled chan string
}

func newBiller() *fakeBiller { return &fakeBiller{settled: make(chan string, 1)} }

func (f *fakeBiller) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

func (f *fakeBiller) AuthorizeAmount(_ context.Context, _ billing.Request, _, _, _, quantity string) (*billing.Authorization, error) {
	f.record("authorize " + quantity)
	q, _ := realtime.ParseQuantity(quantity)
	f.mu.Lock()
	f.held = q
	f.mu.Unlock()
	return &billing.Authorization{ReservationID: "r-1", Unit: "audio_seconds"}, nil
}

func (f *fakeBiller) Extend(_ context.Context, _ billing.Request, _ *billing.Authorization, quantity string) error {
	f.record("extend " + quantity)
	q, _ := realtime.ParseQuantity(quantity)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failUse {
		return billing.ErrUnavailable
	}
	if f.limit > 0 && f.held+q > f.limit {
		return &billing.Refusal{Status: 402, Message: "the wallet cannot cover more of this stream; top it up"}
	}
	f.held += q
	return nil
}

func (f *fakeBiller) SettleAmount(_ context.Context, _ billing.Request, _ *billing.Authorization, quantity string) error {
	f.record("settle " + quantity)
	f.settled <- quantity
	return nil
}

func (f *fakeBiller) Release(context.Context, billing.Request, *billing.Authorization) error {
	f.record("release")
	f.settled <- "release"
	return nil
}

func (f *fakeBiller) recorded() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// waitSettled is the session's settlement, once the handler has returned.
func (f *fakeBiller) waitSettled(t *testing.T) string {
	t.Helper()
	select {
	case q := <-f.settled:
		return q
	case <-time.After(10 * time.Second):
		t.Fatal("the session never settled")
		return ""
	}
}

// lab is a route on a real server. When the test ends, every session must have ended after
// its client left, and every goroutine the sessions started with it.
type lab struct {
	t      *testing.T
	server *httptest.Server
	biller *fakeBiller
	model  *fakeModel
}

func newLab(t *testing.T, translate bool, biller *fakeBiller, model *fakeModel) *lab {
	t.Helper()
	before := runtime.NumGoroutine()
	cfg := Config{
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Billing: biller, Model: model,
		CloseGrace: 200 * time.Millisecond, Now: frozen,
	}
	var h http.Handler = NewTranscribe(cfg)
	if translate {
		h = NewTranslate(cfg)
	}
	var active sync.WaitGroup
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		active.Add(1)
		defer active.Done()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		server.CloseClientConnections()
		done := make(chan struct{})
		go func() { active.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("a session did not end after its client left")
		}
		server.Close()
		if n := model.inFlight.Load(); n != 0 {
			t.Errorf("%d recognitions still in flight", n)
		}
		deadline := time.Now().Add(3 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if after := runtime.NumGoroutine(); after > before {
			buf := make([]byte, 1<<16)
			t.Errorf("goroutines: %d before, %d after\n%s", before, after, buf[:runtime.Stack(buf, true)])
		}
	})
	return &lab{t: t, server: server, biller: biller, model: model}
}

func (l *lab) dial(t *testing.T, query string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	url := "ws" + strings.TrimPrefix(l.server.URL, "http") + "/speech-to-text/ws"
	if query != "" {
		url += "?" + query
	}
	header := http.Header{"X-Request-Id": {"rid-stt-transcript"}, "Api-Subscription-Key": {"sk_test"}}
	return websocket.DefaultDialer.Dial(url, header)
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

// client is a test's end of a session whose reader goroutine delivers every server message,
// in order (the read error that ended it last), so a test can wait for silence without
// breaking the connection (a gorilla read that times out cannot resume).
type client struct {
	*websocket.Conn
	events chan event
}

type event struct {
	message string
	err     error
}

func (l *lab) open(t *testing.T, query string) *client {
	t.Helper()
	ws, resp, err := l.dial(t, query)
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	c := &client{Conn: ws, events: make(chan event, 100)}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			_, data, err := ws.ReadMessage()
			select {
			case c.events <- event{string(data), err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { close(stop); ws.Close(); <-done })
	return c
}

func (c *client) send(t *testing.T, message string) {
	t.Helper()
	if err := c.WriteMessage(websocket.TextMessage, []byte(message)); err != nil {
		t.Fatal(err)
	}
}

// next is the next event within the wait; false when nothing came.
func (c *client) next(within time.Duration) (event, bool) {
	select {
	case e := <-c.events:
		return e, true
	case <-time.After(within):
		return event{}, false
	}
}

// recv is the next message; the test fails on silence or the end of the session.
func (c *client) recv(t *testing.T) string {
	t.Helper()
	e, ok := c.next(5 * time.Second)
	if !ok || e.err != nil {
		t.Fatalf("recv: %v (nothing within 5 s: %v)", e.err, !ok)
	}
	return e.message
}

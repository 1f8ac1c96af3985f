package httpapi

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"banyan/candidate/internal/reqid"
	"banyan/candidate/internal/text"
)

// TestASocketRouteIsItsHandlersForEveryMethod: a WebSocket route hands every request to its
// handler (which answers a plain request itself, as Starlette matches the route only for a
// WebSocket scope), is never the target of a trailing-slash redirect, and its upgrade is
// recorded as a 101 with the request id in the handler's context.
func TestASocketRouteIsItsHandlersForEveryMethod(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []string
	)
	upgrader := websocket.Upgrader{}
	socket := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+reqid.From(r.Context()))
		mu.Unlock()
		if !websocket.IsWebSocketUpgrade(r) {
			writeError(w, r, http.StatusNotFound, "no route "+r.Method+" "+r.URL.Path, "")
			return
		}
		ws, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			t.Errorf("upgrade through the server's wrappers: %v", err)
			return
		}
		_ = ws.WriteMessage(websocket.TextMessage, []byte("hi"))
		_ = ws.Close()
	})
	srv := New(Config{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Billing: &fakeLedger{}, Text: text.New(),
		LID: &fakeModel{}, Metrics: NewMetrics(), Sockets: map[string]http.Handler{"/text-to-speech/ws": socket},
	})
	hs := httptest.NewServer(srv)
	defer hs.Close()

	header := http.Header{"X-Request-Id": {"ws-1"}}
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http")+"/text-to-speech/ws", header)
	if err != nil {
		t.Fatal(err)
	}
	if _, msg, err := ws.ReadMessage(); err != nil || string(msg) != "hi" {
		t.Errorf("message %q %v", msg, err)
	}
	ws.Close()
	for _, method := range []string{"POST", "DELETE"} {
		req, _ := http.NewRequest(method, hs.URL+"/text-to-speech/ws", nil)
		req.Header.Set("X-Request-ID", "plain-1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("%s: %d, want the handler's 404", method, resp.StatusCode)
		}
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(hs.URL + "/text-to-speech/ws/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("/text-to-speech/ws/: %d, want 404 and no redirect", resp.StatusCode)
	}
	mu.Lock()
	if want := []string{"GET ws-1", "POST plain-1", "DELETE plain-1"}; strings.Join(seen, ",") != strings.Join(want, ",") {
		t.Errorf("the handler saw %v, want %v", seen, want)
	}
	mu.Unlock()
	// The upgraded request is counted when its handler returns, which may be after the
	// client has read the message: wait for it.
	want := `candidate_http_requests_total{route="/text-to-speech/ws",method="GET",status="101"} 1`
	var metrics string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		if metrics = rec.Body.String(); strings.Contains(metrics, want) {
			return
		}
	}
	t.Errorf("metrics lack %q:\n%s", want, metrics)
}

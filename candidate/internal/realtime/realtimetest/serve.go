package realtimetest

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Serve runs handler on a real server for the rest of the test and returns the server's URL
// with the ws scheme ("ws://127.0.0.1:port"; the handler serves every path).
//
// When the test ends the server drops every client connection, and each session must end
// within 5 s after its client left. Then busy, when not nil, reports the route's own work
// still running (a synthesis, a recognition in flight), and every goroutine started since
// Serve must end within 3 s; when one does not, every stack is printed. Cleanups run last in,
// first out: call Serve before opening sessions, so the test's clients close first.
func Serve(t *testing.T, handler http.Handler, busy func() error) string {
	t.Helper()
	before := runtime.NumGoroutine()
	var active sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		active.Add(1)
		defer active.Done()
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		srv.CloseClientConnections()
		done := make(chan struct{})
		go func() { active.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("a session did not end after its client left")
		}
		srv.Close()
		if busy != nil {
			if err := busy(); err != nil {
				t.Error(err)
			}
		}
		// The HTTP machinery may take a moment to let its goroutines go.
		deadline := time.Now().Add(3 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if after := runtime.NumGoroutine(); after > before {
			buf := make([]byte, 1<<16)
			t.Errorf("goroutines: %d before, %d after\n%s", before, after, buf[:runtime.Stack(buf, true)])
		}
	})
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

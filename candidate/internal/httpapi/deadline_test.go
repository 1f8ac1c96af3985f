package httpapi

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"banyan/candidate/internal/text"
)

// slowServer is the candidate behind a server whose whole-request deadlines are far shorter
// than the slow bodies the tests send, with the body idle rule at idle.
func slowServer(t *testing.T, idle time.Duration) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(New(Config{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Billing: &fakeLedger{}, Text: text.New(),
		LID: &fakeModel{}, Metrics: NewMetrics(), BodyIdle: idle,
	}))
	srv.Config.ReadTimeout = 300 * time.Millisecond
	srv.Config.WriteTimeout = 300 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// post sends body in pieces, pause apart, and returns the status (0: no answer).
func post(t *testing.T, url string, pieces []string, pause time.Duration) int {
	t.Helper()
	reader, writer := io.Pipe()
	go func() {
		for _, p := range pieces {
			time.Sleep(pause)
			if _, err := writer.Write([]byte(p)); err != nil {
				return
			}
		}
		writer.Close()
	}()
	req, _ := http.NewRequest(http.MethodPost, url+"/transliterate", reader)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Api-Subscription-Key", "ok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestASlowBodyThatMovesIsServed: a body arriving over a second, in pieces 200 ms apart, is
// read and answered although the server's read and write deadlines are 300 ms from the
// request's start (the idle rule moves them with each piece).
func TestASlowBodyThatMovesIsServed(t *testing.T) {
	srv := slowServer(t, 250*time.Millisecond)
	pieces := []string{`{"input": "namaste",`, ` "source_language_code": "en-IN",`, ` "target_language_code":`, ` "hi-IN"}`, ``}
	if status := post(t, srv.URL, pieces, 200*time.Millisecond); status != http.StatusOK {
		t.Errorf("status %d, want 200", status)
	}
}

// TestABodyThatStallsIsCutOff: no byte for longer than the idle rule ends the request.
func TestABodyThatStallsIsCutOff(t *testing.T) {
	srv := slowServer(t, 100*time.Millisecond)
	started := time.Now()
	status := post(t, srv.URL, []string{`{"input": `, `"namaste"}`}, 400*time.Millisecond)
	if status == http.StatusOK {
		t.Errorf("a stalled body was served")
	}
	if elapsed := time.Since(started); elapsed > 2*time.Second {
		t.Errorf("cut off after %v", elapsed)
	}
}

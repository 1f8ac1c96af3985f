package lidmodel

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestChooseAsksTheModelAndReturnsItsAnswer(t *testing.T) {
	var got map[string]any
	var header http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/lid" || r.Method != http.MethodPost {
			t.Errorf("%s %s", r.Method, r.URL.Path)
		}
		header = r.Header.Clone()
		_ = json.NewDecoder(r.Body).Decode(&got)
		_, _ = w.Write([]byte(`{"language_code":"mr-IN"}`))
	}))
	defer srv.Close()
	c := New(srv.URL+"/", srv.Client(), 0)
	answer, err := c.Choose(context.Background(), "माझे नाव", []string{"hi-IN", "mr-IN"}, "rid-1", "00-abc-def-01")
	if err != nil || answer != "mr-IN" {
		t.Fatalf("Choose = %q, %v", answer, err)
	}
	if got["text"] != "माझे नाव" || len(got["candidates"].([]any)) != 2 {
		t.Errorf("the model was asked %v", got)
	}
	if header.Get("X-Request-ID") != "rid-1" || header.Get("Traceparent") != "00-abc-def-01" {
		t.Errorf("forwarded headers: %v", header)
	}
}

func TestChooseMapsEveryFailure(t *testing.T) {
	for name, tc := range map[string]struct {
		status int
		body   string
		want   string // "" answer, "failed", "ok:<code>"
	}{
		"cannot tell":     {200, `{"language_code":null}`, "ok:"},
		"refused":         {413, `{"error":{}}`, "failed"},
		"garbage":         {200, `not json`, "failed"},
		"not a candidate": {200, `{"language_code":"ta-IN"}`, "failed"},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			answer, err := New(srv.URL, srv.Client(), 0).Choose(context.Background(), "x", []string{"hi-IN", "mr-IN"}, "r", "")
			var failed *Failed
			switch {
			case tc.want == "failed" && !errors.As(err, &failed):
				t.Errorf("err = %v, want *Failed", err)
			case tc.want != "failed" && (err != nil || "ok:"+answer != tc.want):
				t.Errorf("Choose = %q, %v; want %s", answer, err, tc.want)
			}
		})
	}
}

func TestChooseWithoutAServerAndPastItsDeadline(t *testing.T) {
	if _, err := New("", http.DefaultClient, 0).Choose(context.Background(), "x", nil, "r", ""); !errors.Is(err, ErrNotConfigured) {
		t.Errorf("no URL: %v", err)
	}
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang }))
	defer srv.Close()
	defer close(hang)
	started := time.Now()
	_, err := New(srv.URL, srv.Client(), 50*time.Millisecond).Choose(context.Background(), "x", []string{"hi-IN", "mr-IN"}, "r", "")
	var failed *Failed
	if !errors.As(err, &failed) || time.Since(started) > 2*time.Second {
		t.Errorf("a hung model: %v after %v", err, time.Since(started))
	}
	// Legacy's words for these: httpx's ReadTimeout has no message, ConnectError says it tried.
	if failed != nil && failed.Message != "the language-identification model is unreachable: " {
		t.Errorf("a hung model: %q", failed.Message)
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	_, err = New(closed.URL, closed.Client(), time.Second).Choose(context.Background(), "x", []string{"hi-IN", "mr-IN"}, "r", "")
	if !errors.As(err, &failed) || failed.Message != "the language-identification model is unreachable: All connection attempts failed" {
		t.Errorf("a model not listening: %v", err)
	}
}

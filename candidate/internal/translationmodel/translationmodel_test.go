package translationmodel

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

var call = Call{Text: "Hello.", SourceLanguageCode: "en-IN", TargetLanguageCode: "hi-IN", Mode: "formal", SpeakerGender: "Male"}

func serve(t *testing.T, h http.HandlerFunc) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return New(srv.URL+"/", srv.Client(), 0)
}

func TestTranslatePostsTheCallAndReadsTheAnswer(t *testing.T) {
	c := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/translate" || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s (%s)", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		}
		var got Call
		if err := json.NewDecoder(r.Body).Decode(&got); err != nil || got != call {
			t.Errorf("call %+v (%v)", got, err)
		}
		_, _ = w.Write([]byte(`{"translated_text":"नमस्ते।","characters":6}`))
	})
	text, err := c.Translate(context.Background(), call)
	if err != nil || text != "नमस्ते।" {
		t.Fatalf("Translate = %q, %v", text, err)
	}
}

// failure is the *Failed's message, or "" for another error.
func failure(t *testing.T, err error) string {
	t.Helper()
	var failed *Failed
	if err == nil {
		t.Fatal("no error")
	}
	if errors.As(err, &failed) {
		return failed.Message
	}
	return ""
}

func TestTranslateSaysWhatWentWrongInLegacysWords(t *testing.T) {
	refused := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		_, _ = w.Write([]byte(`{"error":{"message":"too long"}}`))
	})
	_, err := refused.Translate(context.Background(), call)
	if got := failure(t, err); got != "the translation model refused a chunk (413)" {
		t.Errorf("413: %q", got)
	}

	hangUp := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close()
		}
	})
	_, err = hangUp.Translate(context.Background(), call)
	if got := failure(t, err); got != "the translation model is unreachable: Server disconnected without sending a response." {
		t.Errorf("hang-up: %q", got)
	}

	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + listener.Addr().String()
	listener.Close()
	_, err = New(closed, http.DefaultClient, 0).Translate(context.Background(), call)
	if got := failure(t, err); got != "the translation model is unreachable: All connection attempts failed" {
		t.Errorf("refused connection: %q", got)
	}
}

func TestAnAnswerThatIsNotATranslationIsNotAFailedCall(t *testing.T) {
	for _, body := range []string{`{}`, `not json`, `{"translated_text": null}`} {
		c := serve(t, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(body)) })
		if _, err := c.Translate(context.Background(), call); failure(t, err) != "" {
			t.Errorf("%s: %v", body, err)
		}
	}
}

func TestEveryCallHasADeadline(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	started := time.Now()
	_, err := New(srv.URL, srv.Client(), 50*time.Millisecond).Translate(context.Background(), call)
	if got := failure(t, err); got != "the translation model is unreachable: " {
		t.Fatalf("a model that never answers: %q", got)
	}
	if elapsed := time.Since(started); elapsed > 2*time.Second {
		t.Fatalf("gave up after %s", elapsed)
	}
}

func TestNewTransportBoundsTheDial(t *testing.T) {
	base := http.DefaultTransport.(*http.Transport)
	if tr := NewTransport(base); tr == base || tr.DialContext == nil {
		t.Fatal("no dialer of its own")
	}
}

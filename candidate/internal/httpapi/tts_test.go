package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"banyan/candidate/internal/tts"
)

// blockingSpeech never answers: each call waits for its context, counting the cancellations.
type blockingSpeech struct{ started, canceled atomic.Int32 }

func (b *blockingSpeech) Synthesize(ctx context.Context, _ tts.Call, _, _ string) (tts.Spoken, error) {
	b.started.Add(1)
	<-ctx.Done()
	b.canceled.Add(1)
	return tts.Spoken{}, &tts.Failed{Message: "the speech model is unreachable: "}
}

// A client that goes away cancels the model calls in flight and the hold is given back.
func TestTextToSpeechClientGoneCancelsTheCallsAndReleasesTheHold(t *testing.T) {
	ledger, model := &fakeLedger{}, &blockingSpeech{}
	srv := newTTSServer(ledger, model)
	long := strings.Repeat("This is one sentence of a longer story. ", 60) // 2400 characters: 5 chunks
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/text-to-speech",
		strings.NewReader(`{"text":"`+long+`","language_code":"en-IN"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("api-subscription-key", "ok")
	time.AfterFunc(50*time.Millisecond, cancel)
	done := make(chan struct{})
	go func() {
		srv.ServeHTTP(httptest.NewRecorder(), req)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the request outlived its client")
	}
	if model.started.Load() != tts.Concurrency || model.canceled.Load() != tts.Concurrency {
		t.Errorf("%d calls started, %d canceled; want %d of each", model.started.Load(), model.canceled.Load(), tts.Concurrency)
	}
	calls := ledger.take()
	want := []map[string]any{
		{"call": "authorize", "api_key": "ok", "route": "text-to-speech", "unit": "characters", "quantity": float64(len(long)), "shadow": false},
		{"call": "release"},
	}
	if !reflect.DeepEqual(calls, want) {
		t.Errorf("billing %v, want %v", calls, want)
	}
}

// Text at the model's limit, control characters and every kind of speakable-or-not text
// go through validation without a panic, and a NUL anywhere is refused before billing.
func TestTextToSpeechEdgeTexts(t *testing.T) {
	ledger := &fakeLedger{}
	srv := newTTSServer(ledger, nil) // no model: a text that passes validation answers 503
	for _, c := range []struct {
		text   string
		status int
	}{
		{strings.Repeat("\\u0000", 1), 422},
		{"ok\\u0000", 422},
		{strings.Repeat("क", 2500), 503},
		{strings.Repeat("😀", 2500), 503},
		{strings.Repeat("😀", 2501), 422},
		{"\\u0001\\u0085\\u2028\\u3000", 422},
		{"\\u200b", 503},
		{"\\u0001x", 503},
	} {
		req := httptest.NewRequest(http.MethodPost, "/text-to-speech",
			strings.NewReader(`{"text":"`+c.text+`","language_code":"hi-IN"}`))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != c.status {
			t.Errorf("%.40q: %d %s, want %d", c.text, rec.Code, rec.Body.String(), c.status)
		}
	}
	if calls := ledger.take(); len(calls) != 0 {
		t.Errorf("billed %v", calls)
	}
}

// FuzzTextToSpeechBody: whatever the body, the route answers with the envelope or audio, never
// panics, and bills nothing it does not settle or release. `go test` runs the seeds; `go test
// -fuzz FuzzTextToSpeechBody ./internal/httpapi` explores.
func FuzzTextToSpeechBody(f *testing.F) {
	for _, seed := range []string{
		`{"text":"hello","language_code":"en-IN"}`,
		`{"text":"a\u0000","language_code":"hi-IN","pitch":NaN}`,
		`{"text":"\ud800","language_code":"en-IN","speech_sample_rate":1e400,"pace":-0}`,
		`{"text":" ","language_code":"en-IN","speaker":"SHUBH","model":"bulbul:v2"}`,
		`{"text":"x","language_code":"ta-IN","output_audio_codec":"opus","speech_sample_rate":22050.0}`,
		`{"text":"x","language_code":"ta-IN","speech_sample_rate":99999999999999999999999}`,
		`[]`, `{"text":`, `null`,
	} {
		f.Add([]byte(seed))
	}
	ledger := &fakeLedger{}
	srv := newTTSServer(ledger, &echoSpeech{})
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/text-to-speech", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("api-subscription-key", "ok")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code == http.StatusInternalServerError {
			t.Fatalf("500 for %q: %s", body, rec.Body.String())
		}
		calls := ledger.take()
		if len(calls) == 1 || len(calls) > 2 {
			t.Fatalf("billing %v for %q", calls, body)
		}
	})
}

// echoSpeech answers every chunk with two samples per character at 22050 Hz.
type echoSpeech struct{}

func (echoSpeech) Synthesize(_ context.Context, call tts.Call, _, _ string) (tts.Spoken, error) {
	return tts.Spoken{PCM: make([]byte, 4*len([]rune(call.Text))), SampleRate: 22050}, nil
}

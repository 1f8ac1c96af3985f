package tts

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// scriptedModel answers each chunk with its text's bytes as PCM after delay(chunk),
// counting calls in flight.
type scriptedModel struct {
	delay    func(text string) time.Duration
	fail     func(text string) error
	inFlight atomic.Int32
	peak     atomic.Int32
	mu       sync.Mutex
	calls    []Call
	canceled atomic.Int32
}

func (m *scriptedModel) Synthesize(ctx context.Context, call Call, _, _ string) (Spoken, error) {
	n := m.inFlight.Add(1)
	defer m.inFlight.Add(-1)
	for {
		p := m.peak.Load()
		if n <= p || m.peak.CompareAndSwap(p, n) {
			break
		}
	}
	m.mu.Lock()
	m.calls = append(m.calls, call)
	m.mu.Unlock()
	var d time.Duration
	if m.delay != nil {
		d = m.delay(call.Text)
	}
	select {
	case <-time.After(d):
	case <-ctx.Done():
		m.canceled.Add(1)
		return Spoken{}, &Failed{Message: "the speech model is unreachable: "}
	}
	if m.fail != nil {
		if err := m.fail(call.Text); err != nil {
			return Spoken{}, err
		}
	}
	return Spoken{PCM: []byte(call.Text[:2]), SampleRate: 22050}, nil
}

// sentences is n sentences of about 100 characters, each its own chunk at maxChars 100.
func sentences(n int) string {
	var parts []string
	for i := range n {
		parts = append(parts, fmt.Sprintf("%02d %s.", i, strings.Repeat("x", 95)))
	}
	return strings.Join(parts, " ")
}

func TestSynthesizeJoinsInOrderWithAtMostFourInFlight(t *testing.T) {
	// Later chunks answer first: the order must still be the text's.
	m := &scriptedModel{delay: func(text string) time.Duration {
		var i int
		fmt.Sscanf(text, "%d", &i)
		return time.Duration(10-i) * 3 * time.Millisecond
	}}
	pcm, rate, err := Synthesize(context.Background(), m, Request{Text: sentences(10), LanguageCode: "en-IN", Pace: 1}, 100, Concurrency)
	if err != nil || rate != 22050 {
		t.Fatal(rate, err)
	}
	pause := string(Pause(22050))
	want := strings.Join([]string{"00", "01", "02", "03", "04", "05", "06", "07", "08", "09"}, pause)
	if string(pcm) != want {
		t.Errorf("joined out of order: %q…", pcm[:min(len(pcm), 40)])
	}
	if p := m.peak.Load(); p != Concurrency {
		t.Errorf("%d calls in flight at most, want %d", p, Concurrency)
	}
	if len(m.calls) != 10 || m.calls[0].Voice != "en" || m.calls[0].RateWPM != 175 || m.calls[0].Pitch != 50 {
		t.Errorf("calls %+v", m.calls)
	}
}

func TestTheFirstFailureInTextOrderIsReportedAndTheRestCanceled(t *testing.T) {
	m := &scriptedModel{
		delay: func(text string) time.Duration {
			if strings.HasPrefix(text, "01") {
				return 5 * time.Second // still in flight when 02 fails
			}
			return time.Millisecond
		},
		fail: func(text string) error {
			if strings.HasPrefix(text, "00") {
				return &Failed{Message: "the speech model refused a chunk (500)"}
			}
			return nil
		},
	}
	started := time.Now()
	_, _, err := Synthesize(context.Background(), m, Request{Text: sentences(6), LanguageCode: "hi-IN", Pace: 1}, 100, Concurrency)
	var failed *Failed
	if !errors.As(err, &failed) || failed.Message != "the speech model refused a chunk (500)" {
		t.Fatalf("error %v", err)
	}
	if time.Since(started) > 2*time.Second || m.inFlight.Load() != 0 || m.canceled.Load() == 0 {
		t.Errorf("the slow call was not canceled (took %v, %d in flight)", time.Since(started), m.inFlight.Load())
	}
}

func TestACanceledContextStopsSynthesisAndWaitsForTheCalls(t *testing.T) {
	m := &scriptedModel{delay: func(string) time.Duration { return 10 * time.Second }}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	_, _, err := Synthesize(ctx, m, Request{Text: sentences(8), LanguageCode: "ta-IN", Pace: 1}, 100, Concurrency)
	if err == nil || m.inFlight.Load() != 0 || m.canceled.Load() != Concurrency {
		t.Errorf("err %v, %d in flight, %d canceled", err, m.inFlight.Load(), m.canceled.Load())
	}
}

func TestAConsumerThatStopsEarlyCancelsTheRest(t *testing.T) {
	m := &scriptedModel{delay: func(text string) time.Duration {
		if strings.HasPrefix(text, "00") {
			return 0
		}
		return 10 * time.Second
	}}
	for chunk, err := range Speak(context.Background(), m, Request{Text: sentences(8), LanguageCode: "ta-IN", Pace: 1}, 100, 2) {
		if err != nil || chunk.Text[:2] != "00" {
			t.Fatal(chunk, err)
		}
		break
	}
	if m.inFlight.Load() != 0 || m.peak.Load() > 2 {
		t.Errorf("%d in flight after the loop, peak %d", m.inFlight.Load(), m.peak.Load())
	}
}

func TestNothingToSpeak(t *testing.T) {
	if _, _, err := Synthesize(context.Background(), &scriptedModel{}, Request{Text: " \n "}, 500, 4); !errors.Is(err, ErrNothingToSpeak) {
		t.Errorf("%v", err)
	}
}

func TestClientCallsTheModelAsLegacyDoes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := make([]byte, 200)
		n, _ := r.Body.Read(body)
		switch {
		case r.URL.Path != "/v1/tts" || r.Header.Get("X-Request-ID") != "rid-1" || r.Header.Get("Traceparent") != "tp":
			w.WriteHeader(http.StatusTeapot)
		case strings.Contains(string(body[:n]), "refuse"):
			w.WriteHeader(http.StatusRequestEntityTooLarge)
		case strings.Contains(string(body[:n]), "norate"):
			_, _ = w.Write([]byte{1, 0})
		default:
			if string(body[:n]) != `{"text":"hello","voice":"hi","rate_wpm":175,"pitch":50}` {
				w.WriteHeader(http.StatusTeapot)
				return
			}
			w.Header().Set("X-Sample-Rate", "22050")
			_, _ = w.Write([]byte{1, 0, 2, 0})
		}
	}))
	defer srv.Close()
	c := New(srv.URL+"/", srv.Client(), 0)
	got, err := c.Synthesize(context.Background(), Call{Text: "hello", Voice: "hi", RateWPM: 175, Pitch: 50}, "rid-1", "tp")
	if err != nil || string(got.PCM) != "\x01\x00\x02\x00" || got.SampleRate != 22050 {
		t.Errorf("%+v %v", got, err)
	}
	_, err = c.Synthesize(context.Background(), Call{Text: "refuse"}, "rid-1", "tp")
	if err == nil || err.Error() != "the speech model refused a chunk (413)" {
		t.Errorf("refused: %v", err)
	}
	_, err = c.Synthesize(context.Background(), Call{Text: "norate"}, "rid-1", "tp")
	var failed *Failed
	if err == nil || errors.As(err, &failed) {
		t.Errorf("no rate: %v, want an error that is not a *Failed (a 500)", err)
	}
	srv.Close()
	_, err = c.Synthesize(context.Background(), Call{Text: "hello"}, "rid-1", "tp")
	if !errors.As(err, &failed) || failed.Message != "the speech model is unreachable: All connection attempts failed" {
		t.Errorf("unreachable: %v", err)
	}
}

// Every call has its own deadline: a model that never answers is a 502 in legacy's words
// (httpx's ReadTimeout has no message), not a request held forever.
func TestACallThatNeverAnswersMeetsItsDeadline(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c := New(srv.URL, srv.Client(), 50*time.Millisecond)
	started := time.Now()
	_, err := c.Synthesize(context.Background(), Call{Text: "hello", Voice: "en", RateWPM: 175, Pitch: 50}, "", "")
	var failed *Failed
	if !errors.As(err, &failed) || failed.Message != "the speech model is unreachable: " {
		t.Errorf("%v", err)
	}
	if elapsed := time.Since(started); elapsed > 2*time.Second {
		t.Errorf("took %v", elapsed)
	}
}

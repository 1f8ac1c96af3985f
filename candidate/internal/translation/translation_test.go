package translation

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"banyan/candidate/internal/chunking"
	"banyan/candidate/internal/translationmodel"
)

// fakeModel answers "<chunk translated>" (upper-cased), slower for earlier chunks so calls
// finish out of order, and records the calls and the most in flight at once.
type fakeModel struct {
	mu        sync.Mutex
	calls     []translationmodel.Call
	inFlight  int
	maxFlight int
	fail      func(translationmodel.Call) error
}

func (m *fakeModel) Translate(ctx context.Context, call translationmodel.Call) (string, error) {
	m.mu.Lock()
	m.calls = append(m.calls, call)
	m.inFlight++
	m.maxFlight = max(m.maxFlight, m.inFlight)
	delay := time.Duration(20-min(len(m.calls), 19)) * time.Millisecond
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.inFlight--
		m.mu.Unlock()
	}()
	if m.fail != nil {
		if err := m.fail(call); err != nil {
			return "", err
		}
	}
	select {
	case <-time.After(delay):
	case <-ctx.Done():
		return "", &translationmodel.Failed{Message: "cancelled"}
	}
	return strings.ToUpper(call.Text), nil
}

var job = Job{SourceLanguageCode: "en-IN", TargetLanguageCode: "hi-IN", Mode: "formal", SpeakerGender: "Female"}

func TestShortTextGoesInOneCallAsItIs(t *testing.T) {
	m := &fakeModel{}
	j := job
	j.Text = "  Hello.\nHow are you?  "
	got, err := Translate(context.Background(), m, j)
	if err != nil || got != strings.ToUpper(j.Text) {
		t.Fatalf("Translate = %q, %v", got, err)
	}
	want := []translationmodel.Call{{Text: j.Text, SourceLanguageCode: "en-IN", TargetLanguageCode: "hi-IN", Mode: "formal", SpeakerGender: "Female"}}
	if !reflect.DeepEqual(m.calls, want) {
		t.Fatalf("calls %+v", m.calls)
	}
}

func TestLongTextIsChunkedAndJoinedInOrder(t *testing.T) {
	var sentences []string
	for n := range 150 {
		sentences = append(sentences, fmt.Sprintf("Sentence %d is good.", n))
	}
	j := job
	j.Text = strings.Join(sentences, " ")
	m := &fakeModel{}
	got, err := Translate(context.Background(), m, j)
	if err != nil {
		t.Fatal(err)
	}
	chunks := chunking.Split(j.Text, MaxChars)
	if len(chunks) < 6 {
		t.Fatalf("only %d chunks", len(chunks))
	}
	if want := strings.ToUpper(strings.Join(chunks, " ")); got != want {
		t.Fatalf("joined out of order:\n%s", got)
	}
	if len(m.calls) != len(chunks) || m.maxFlight > Concurrency || m.maxFlight < 2 {
		t.Fatalf("%d calls for %d chunks, at most %d in flight", len(m.calls), len(chunks), m.maxFlight)
	}
}

func TestWhitespaceOverTheLimitMakesNoCall(t *testing.T) {
	m := &fakeModel{}
	j := job
	j.Text = strings.Repeat(" \n", 300)
	if got, err := Translate(context.Background(), m, j); err != nil || got != "" || len(m.calls) != 0 {
		t.Fatalf("Translate = %q, %v after %d calls", got, err, len(m.calls))
	}
}

func TestTheFirstFailedChunkFailsTheTranslation(t *testing.T) {
	j := job
	j.Text = strings.Repeat("Sentence is good. ", 200)
	refused := &translationmodel.Failed{Message: "the translation model refused a chunk (413)"}
	m := &fakeModel{}
	m.fail = func(translationmodel.Call) error {
		m.mu.Lock()
		n := len(m.calls)
		m.mu.Unlock()
		if n == 2 {
			return refused
		}
		return nil
	}
	if _, err := Translate(context.Background(), m, j); err != refused {
		t.Fatalf("got %v, want the refusal", err)
	}
	if len(m.calls) == len(chunking.Split(j.Text, MaxChars)) {
		t.Errorf("every chunk was still sent after the failure")
	}
}

func TestAnAnswerThatIsNotATranslationFailsIt(t *testing.T) {
	broken := errors.New("the translation model's answer is not JSON")
	m := &fakeModel{fail: func(translationmodel.Call) error { return broken }}
	j := job
	j.Text = "Hello."
	if _, err := Translate(context.Background(), m, j); err != broken {
		t.Fatalf("got %v", err)
	}
}

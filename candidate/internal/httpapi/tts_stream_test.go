package httpapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"banyan/candidate/internal/tts"
)

// failingSpeech speaks two samples per character and fails from its failAt-th call on.
type failingSpeech struct {
	failAt int32
	calls  atomic.Int32
}

func (f *failingSpeech) Synthesize(_ context.Context, call tts.Call, _, _ string) (tts.Spoken, error) {
	if f.calls.Add(1) >= f.failAt {
		return tts.Spoken{}, &tts.Failed{Message: "the speech model answered 500"}
	}
	return tts.Spoken{PCM: make([]byte, 4*utf8.RuneCountInString(call.Text)), SampleRate: 22050}, nil
}

// story is 8 chunks of 250 characters at most.
var story = strings.Repeat("This is one sentence of a longer story, told in parts. ", 35)

func streamRequest(url, text, codec string) *http.Request {
	body := `{"text":"` + text + `","language_code":"en-IN","output_audio_codec":"` + codec + `"}`
	req := httptest.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.RequestURI = "" // a client request when url is a server's
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Api-Subscription-Key", "ok")
	return req
}

// TestAStreamThatCompletesIsChargedTheWholeText: one file (here a streaming WAV, sizes
// unknown), and the whole text settled, as the REST route charges it.
func TestAStreamThatCompletesIsChargedTheWholeText(t *testing.T) {
	ledger := &fakeLedger{}
	srv := httptest.NewServer(newTTSServer(ledger, &failingSpeech{failAt: 1000}))
	defer srv.Close()
	resp, err := http.DefaultClient.Do(streamRequest(srv.URL+"/text-to-speech/stream", story, "wav"))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "audio/wav" || resp.ContentLength != -1 {
		t.Fatalf("%d %v %d: %v", resp.StatusCode, resp.Header, resp.ContentLength, err)
	}
	if string(body[:4]) != "RIFF" || string(body[4:8]) != "\xff\xff\xff\xff" {
		t.Errorf("not a streaming WAV: %q", body[:12])
	}
	calls := ledger.take()
	if len(calls) != 2 || calls[1]["call"] != "settle" || calls[1]["quantity"] != float64(len(story)) {
		t.Errorf("billing %v", calls)
	}
}

// TestAFirstChunkThatFailsIsA502AndNothingIsCharged: the answer has not started, so it is a
// clean envelope and the hold goes back.
func TestAFirstChunkThatFailsIsA502AndNothingIsCharged(t *testing.T) {
	ledger := &fakeLedger{}
	rec := httptest.NewRecorder()
	req := streamRequest("/text-to-speech/stream", story, "mp3")
	newTTSServer(ledger, &failingSpeech{failAt: 1}).ServeHTTP(rec, req)
	if rec.Code != 502 || !strings.Contains(rec.Body.String(), "the speech model answered 500") {
		t.Errorf("%d %s", rec.Code, rec.Body.String())
	}
	if calls := ledger.take(); len(calls) != 2 || calls[1]["call"] != "release" {
		t.Errorf("billing %v", calls)
	}
}

// TestAStreamCutShortIsChargedWhatWasSentAndDropped: a model failure after audio went out
// settles the characters sent and drops the connection, so the client sees a truncated body
// (an error reading it), never an end that looks complete.
func TestAStreamCutShortIsChargedWhatWasSentAndDropped(t *testing.T) {
	ledger := &fakeLedger{}
	srv := httptest.NewServer(newTTSServer(ledger, &failingSpeech{failAt: 4}))
	defer srv.Close()
	resp, err := http.DefaultClient.Do(streamRequest(srv.URL+"/text-to-speech/stream", story, "linear16"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("%d, reading the body: %v; want a truncated stream", resp.StatusCode, err)
	}
	calls := ledger.take()
	if len(calls) != 2 || calls[1]["call"] != "settle" || calls[1]["quantity"].(float64) >= float64(len(story)) || calls[1]["quantity"].(float64) == 0 {
		t.Errorf("billing %v; want the characters of the chunks sent", calls)
	}
}

// cutWriter takes half of the first body write, then reports the connection gone: a client
// that hung up while the first piece's audio was on its way.
type cutWriter struct {
	*httptest.ResponseRecorder
	writes int
}

func (c *cutWriter) Write(p []byte) (int, error) {
	c.writes++
	if c.writes == 1 {
		n, _ := c.ResponseRecorder.Write(p[:len(p)/2])
		return n, errors.New("write: broken pipe")
	}
	return 0, errors.New("write: broken pipe")
}

// TestAClientGoneDuringAPieceIsChargedForThatPiece: part of the first piece's audio reached
// the connection, so its characters are charged (legacy counts a chunk its transport took);
// the rest of the text is not. Before, such a client was charged nothing (CI, 2026-12-04).
func TestAClientGoneDuringAPieceIsChargedForThatPiece(t *testing.T) {
	ledger := &fakeLedger{}
	w := &cutWriter{ResponseRecorder: httptest.NewRecorder()}
	newTTSServer(ledger, &failingSpeech{failAt: 1000}).ServeHTTP(w, streamRequest("/text-to-speech/stream", story, "wav"))
	calls := ledger.take()
	if len(calls) != 2 || calls[1]["call"] != "settle" {
		t.Fatalf("billing %v", calls)
	}
	charged := calls[1]["quantity"].(float64)
	if charged <= 0 || charged > 250 {
		t.Errorf("charged %v characters; want the first piece's (1..250)", charged)
	}
}

package stt

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"banyan/candidate/internal/vad"
)

// TestFitToContextIsLegacys replays testdata/fit_cases.json (legacy's fit_to_context, run by
// gen/gen_cases.py): where long segments are cut, to the millisecond.
func TestFitToContextIsLegacys(t *testing.T) {
	raw, err := os.ReadFile("testdata/fit_cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var data struct {
		Patterns map[string][]int16 `json:"patterns"`
		Cases    []struct {
			Pattern  string       `json:"pattern"`
			Segments [][2]float64 `json:"segments"`
			Pieces   [][2]float64 `json:"pieces"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &data); err != nil {
		t.Fatal(err)
	}
	if len(data.Cases) == 0 {
		t.Fatal("no cases")
	}
	cut := 0
	for _, tc := range data.Cases {
		levels := data.Patterns[tc.Pattern]
		pcm := make([]byte, 0, len(levels)*vad.FrameBytes)
		for _, v := range levels {
			for range vad.FrameSamples {
				pcm = binary.LittleEndian.AppendUint16(pcm, uint16(v))
			}
		}
		var segments []vad.Segment
		for _, s := range tc.Segments {
			segments = append(segments, vad.Segment{Start: s[0], End: s[1]})
		}
		var got [][2]float64
		for _, p := range FitToContext(pcm, segments, ModelMaxSeconds) {
			got = append(got, [2]float64{p.Start, p.End})
		}
		if !reflect.DeepEqual(got, tc.Pieces) {
			t.Errorf("%s %v: pieces %v, legacy %v", tc.Pattern, tc.Segments, got, tc.Pieces)
		}
		cut += len(tc.Pieces) - len(tc.Segments)
	}
	if cut == 0 {
		t.Error("no case cuts a segment")
	}
}

// scripted is a Model answering by language and piece length, recording calls.
type scripted struct {
	mu       sync.Mutex
	calls    []Call
	inFlight atomic.Int32
	peak     atomic.Int32
	answer   func(call Call) (Answer, error)
}

func (s *scripted) Recognize(_ context.Context, call Call, _ Headers) (Answer, error) {
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for {
		peak := s.peak.Load()
		if n <= peak || s.peak.CompareAndSwap(peak, n) {
			break
		}
	}
	time.Sleep(2 * time.Millisecond)
	s.mu.Lock()
	s.calls = append(s.calls, call)
	s.mu.Unlock()
	return s.answer(call)
}

func pieces(n int) []vad.Segment {
	var out []vad.Segment
	for i := range n {
		out = append(out, vad.Segment{Start: float64(i), End: float64(i) + 0.5})
	}
	return out
}

// TestDetectionHoldsTheRestToTheLanguage: with "unknown", pieces are asked one at a time
// until one detects a language; every other piece is then asked in it, at most Concurrency
// at once, and merged in order with their words moved to the recording's time.
func TestDetectionHoldsTheRestToTheLanguage(t *testing.T) {
	pcm := make([]byte, 16000*2*10)
	model := &scripted{answer: func(call Call) (Answer, error) {
		if call.Language == "unknown" && len(call.PCM) == 16000 && binary.LittleEndian.Uint16(call.PCM) == 0 {
			// The first piece has no speech: no language.
			return Answer{"transcript": "", "language_code": nil, "words": []any{}}, nil
		}
		if call.Language == "unknown" {
			return Answer{"transcript": "first", "language_code": "ta-IN", "language_probability": 0.8125,
				"words": []any{map[string]any{"text": "first", "start_s": 0.104, "end_s": 0.3}}}, nil
		}
		return Answer{"transcript": call.Language, "words": []any{map[string]any{"text": "w", "start_s": 0.0, "end_s": 0.125}}}, nil
	}}
	binary.LittleEndian.PutUint16(pcm[32000:], 7) // piece 1 starts with a non-zero sample
	got, err := Transcribe(context.Background(), model, pcm, pieces(9), Request{Language: "unknown", Mode: "transcribe"}, Headers{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Transcript != "first ta-IN ta-IN ta-IN ta-IN ta-IN ta-IN ta-IN" {
		t.Errorf("transcript %q", got.Transcript)
	}
	if got.LanguageCode == nil || *got.LanguageCode != "ta-IN" || got.LanguageProbability == nil || *got.LanguageProbability != 0.8125 {
		t.Errorf("language %v %v", got.LanguageCode, got.LanguageProbability)
	}
	if len(got.Words) != 8 || got.Words[0].Start != 1.1 || got.Words[1].Start != 2 || got.Words[1].End != 2.12 { // round(2.125, 2) is 2.12 in Python
		t.Errorf("words %+v", got.Words)
	}
	unknown := 0
	for _, c := range model.calls {
		if c.Language == "unknown" {
			unknown++
		}
	}
	if unknown != 2 || len(model.calls) != 9 {
		t.Errorf("%d calls, %d of them to detect; want 9 and 2", len(model.calls), unknown)
	}
	if peak := model.peak.Load(); peak > Concurrency || peak < 2 {
		t.Errorf("%d calls in flight at once; want 2 to %d", peak, Concurrency)
	}
}

func TestNoPiecesNoLanguage(t *testing.T) {
	got, err := Transcribe(context.Background(), &scripted{}, nil, nil, Request{Language: "unknown"}, Headers{})
	if err != nil || got.Transcript != "" || got.LanguageCode != nil || got.LanguageProbability != nil || len(got.Words) != 0 {
		t.Errorf("%+v %v", got, err)
	}
}

func TestAFailedPieceFailsTheWhole(t *testing.T) {
	model := &scripted{answer: func(call Call) (Answer, error) {
		if len(call.PCM) > 0 && call.PCM[0] == 1 {
			return nil, &Failed{Message: "the recognition model refused a piece (500)"}
		}
		return Answer{"transcript": "ok"}, nil
	}}
	pcm := make([]byte, 16000*2*10)
	pcm[16000*2*5] = 1
	_, err := Transcribe(context.Background(), model, pcm, pieces(9), Request{Language: "hi-IN", Mode: "transcribe"}, Headers{})
	var failed *Failed
	if !errors.As(err, &failed) || failed.Message != "the recognition model refused a piece (500)" {
		t.Errorf("error %v", err)
	}
}

// TestClientSpeaksTheInferenceServersAPI: the query, the body, the headers forwarded, and
// the failures in legacy's words.
func TestClientSpeaksTheInferenceServersAPI(t *testing.T) {
	var seen *http.Request
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, body = r, nil
		body, _ = io.ReadAll(r.Body)
		switch r.URL.Query().Get("mode") {
		case "refuse":
			w.WriteHeader(500)
		case "garbage":
			_, _ = io.WriteString(w, "<html>")
		case "hangup":
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		default:
			_, _ = io.WriteString(w, `{"transcript":"x","words":[]}`)
		}
	}))
	defer srv.Close()
	c := New(srv.URL+"/", srv.Client(), time.Second)
	h := Headers{RequestID: "rid-1", Traceparent: "00-abc-def-01", Shadow: "1", HasShadow: true}
	answer, err := c.Recognize(context.Background(), Call{PCM: []byte{1, 2}, Language: "hi-IN", Mode: "verbatim", Keyterms: []string{"New Delhi", "x&y"}}, h)
	if err != nil || answer["transcript"] != "x" {
		t.Fatalf("%v %v", answer, err)
	}
	q := seen.URL.Query()
	if seen.URL.Path != "/v1/asr" || q.Get("language") != "hi-IN" || q.Get("mode") != "verbatim" ||
		!reflect.DeepEqual(q["keyterm"], []string{"New Delhi", "x&y"}) || string(body) != "\x01\x02" {
		t.Errorf("call %s body %v", seen.URL, body)
	}
	if seen.Header.Get("Content-Type") != "audio/L16; rate=16000" || seen.Header.Get("X-Request-ID") != "rid-1" ||
		seen.Header.Get("Traceparent") != "00-abc-def-01" || seen.Header.Get("X-Banyan-Shadow") != "1" {
		t.Errorf("headers %v", seen.Header)
	}
	for mode, want := range map[string]string{
		"refuse": "the recognition model refused a piece (500)",
		"hangup": "the recognition model is unreachable: Server disconnected without sending a response.",
	} {
		_, err := c.Recognize(context.Background(), Call{PCM: []byte{0, 0}, Language: "unknown", Mode: mode}, h)
		var failed *Failed
		if !errors.As(err, &failed) || failed.Message != want {
			t.Errorf("%s: %v, want %q", mode, err, want)
		}
	}
	_, err = c.Recognize(context.Background(), Call{PCM: []byte{0, 0}, Language: "unknown", Mode: "garbage"}, h)
	var failed *Failed
	if err == nil || errors.As(err, &failed) {
		t.Errorf("garbage: %v; want an error that is not a Failed (legacy's 500)", err)
	}
	listener, _ := net.Listen("tcp", "127.0.0.1:0")
	nowhere := fmt.Sprintf("http://%s", listener.Addr())
	listener.Close()
	_, err = New(nowhere, http.DefaultClient, time.Second).Recognize(context.Background(), Call{Language: "unknown"}, h)
	if !errors.As(err, &failed) || failed.Message != "the recognition model is unreachable: All connection attempts failed" {
		t.Errorf("refused: %v", err)
	}
}

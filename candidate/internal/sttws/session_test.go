package sttws

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"banyan/candidate/internal/realtime/realtimetest"
)

const rawQuery = "language-code=hi-IN&input_audio_codec=pcm_s16le"

// noise is n samples of loud noise (speech to the VAD), deterministic.
func noise(n int) []byte {
	out := make([]byte, 2*n)
	seed := uint32(7)
	for i := 0; i < n; i++ {
		seed = seed*1664525 + 1013904223
		v := int16(seed>>16) / 3
		out[2*i], out[2*i+1] = byte(v), byte(uint16(v)>>8)
	}
	return out
}

func kindOf(t *testing.T, message string) (string, map[string]any) {
	t.Helper()
	var m struct {
		Type string         `json:"type"`
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal([]byte(message), &m); err != nil {
		t.Fatalf("%s: %v", message, err)
	}
	return m.Type, m.Data
}

// TestBackPressureStopsReadingWhileRecognitionIsBehind: with recognition stuck, the receiver
// takes the utterance being recognised, QueueDepth more, and the one it waits to queue, then
// stops reading: a message after them is not answered until recognition moves on.
func TestBackPressureStopsReadingWhileRecognitionIsBehind(t *testing.T) {
	model := &fakeModel{gate: make(chan struct{})}
	l := newLab(t, false, realtimetest.NewLedger(), model)
	c := l.open(t, rawQuery)
	speech := audioFrame(noise(8000))
	for i := 0; i < 5; i++ {
		c.Send(t, speech)
		c.Send(t, `{"type": "flush"}`)
	}
	c.Send(t, "not json")
	if e, ok := c.Next(300 * time.Millisecond); ok {
		t.Fatalf("the receiver answered while recognition was stuck: %+v", e)
	}
	if n := model.calls.Load(); n != 1 {
		t.Fatalf("%d recognitions started, want 1", n)
	}
	close(model.gate)
	var kinds []string
	for len(kinds) < 6 {
		kind, _ := kindOf(t, c.Recv(t))
		kinds = append(kinds, kind)
	}
	// The error comes once the receiver could read on: after the first transcripts.
	joined := strings.Join(kinds, " ")
	if strings.Count(joined, "data") != 5 || kinds[0] != "data" || strings.Index(joined, "error") < len("data data ") {
		t.Fatalf("messages %v", kinds)
	}
}

// TestAClientGoneAbandonsRecognitionAndSettles: the recognition in flight when the client
// leaves is cancelled (legacy cancels its worker), and the audio received is billed.
func TestAClientGoneAbandonsRecognitionAndSettles(t *testing.T) {
	model := &fakeModel{gate: make(chan struct{})}
	ledger := realtimetest.NewLedger()
	l := newLab(t, false, ledger, model)
	c := l.open(t, rawQuery)
	c.Send(t, audioFrame(noise(16001)))
	c.Send(t, `{"type": "flush"}`)
	deadline := time.Now().Add(5 * time.Second)
	for model.inFlight.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	_ = c.UnderlyingConn().Close() // no close frame: the connection just drops
	if got := ledger.WaitSettled(t); got != "1.001" {
		t.Fatalf("settled %s, want 1.001 (16001 samples in whole ms, rounded up)", got)
	}
	if model.cancelled.Load() != 1 {
		t.Fatalf("the recognition in flight was not cancelled")
	}
}

// TestNonASCIIBase64IsAnError: a str that is not ASCII is bad base64, answered in Python's
// words, and the session goes on (legacy's session used to die of it; fixed there too).
func TestNonASCIIBase64IsAnError(t *testing.T) {
	l := newLab(t, false, realtimetest.NewLedger(), &fakeModel{})
	c := l.open(t, rawQuery)
	for _, data := range []string{`"é"`, `"AAAA\u0905"`, `"\ud800"`} {
		c.Send(t, `{"audio": {"data": `+data+`}}`)
		if got := c.Recv(t); got != `{"type": "error", "data": {"error": "audio.data: string argument should contain only ASCII characters", "code": "invalid_request_error"}}` {
			t.Fatalf("%s: %s", data, got)
		}
	}
	c.Send(t, strings.Repeat("[", 100000)) // legacy: RecursionError, the session dies; here: not JSON
	if _, data := kindOf(t, c.Recv(t)); data["error"] != msgNotJSON {
		t.Fatalf("deep JSON: %v", data)
	}
	c.Send(t, `{"type": "flush"}`)
	c.Send(t, "{}")
	if kind, _ := kindOf(t, c.Recv(t)); kind != "error" {
		t.Fatalf("the session did not go on: %s", kind)
	}
}

// TestOtherContainersAreNamed: the candidate decodes WAV only; an audio message of another
// container (legacy's FFmpeg decodes it) gets an error naming it, and the session goes on.
func TestOtherContainersAreNamed(t *testing.T) {
	l := newLab(t, false, realtimetest.NewLedger(), &fakeModel{})
	c := l.open(t, "")
	c.Send(t, audioFrame(append([]byte("fLaC"), make([]byte, 64)...)))
	want := `{"type": "error", "data": {"error": "audio.data: FLAC input is not ported to the candidate yet; legacy serves it", "code": "internal_server_error"}}`
	if got := c.Recv(t); got != want {
		t.Fatalf("%s", got)
	}
}

// TestServerFaultsEndTheSessionWith1011: a ledger that cannot be reached (legacy: the
// exception ends the session, 1011) and a model whose answer is not one (legacy's worker dies
// of it and the session hangs until the client leaves; the candidate ends it).
func TestServerFaultsEndTheSessionWith1011(t *testing.T) {
	for name, setup := range map[string]func(*realtimetest.Ledger, *fakeModel){
		"ledger": func(b *realtimetest.Ledger, _ *fakeModel) { b.FailExtend = true },
		"model":  func(_ *realtimetest.Ledger, m *fakeModel) { m.garbage = true },
	} {
		t.Run(name, func(t *testing.T) {
			ledger, model := realtimetest.NewLedger(), &fakeModel{}
			setup(ledger, model)
			l := newLab(t, false, ledger, model)
			c := l.open(t, rawQuery)
			c.Send(t, audioFrame(noise(16000*11))) // past the 10 s held: an extension
			c.Send(t, `{"type": "flush"}`)
			for {
				e, ok := c.Next(5 * time.Second)
				if !ok {
					t.Fatal("the session did not end")
				}
				var ce *websocket.CloseError
				if errors.As(e.Err, &ce) {
					if ce.Code != websocket.CloseInternalServerErr {
						t.Fatalf("closed %d", ce.Code)
					}
					break
				}
				if e.Err != nil {
					t.Fatal(e.Err)
				}
			}
			ledger.WaitSettled(t)
		})
	}
}

// TestTheHoldGrowsTenSecondsAtATime: 25 s of audio in 1 s messages holds 10, then 10 and 10
// more, and settles the exact total.
func TestTheHoldGrowsTenSecondsAtATime(t *testing.T) {
	ledger := realtimetest.NewLedger()
	l := newLab(t, false, ledger, &fakeModel{})
	c := l.open(t, "input_audio_codec=pcm_s16le&sample_rate=8000")
	second := base64.StdEncoding.EncodeToString(make([]byte, 16000))
	for i := 0; i < 25; i++ {
		c.Send(t, `{"audio": {"data": "`+second+`"}}`)
	}
	c.Send(t, "stop")
	c.Recv(t)
	_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""), time.Now().Add(time.Second))
	got := ledger.WaitSettled(t)
	// 25 s at 8 kHz is 200000 samples; soxr hands over 1660 per 830 after the first 927.
	if want := "24.9"; got != want {
		t.Fatalf("settled %s, want %s; calls %v", got, want, ledger.Calls())
	}
	if calls := strings.Join(ledger.Calls(), ","); calls != "authorize 10,extend 10,extend 10,settle 24.9" {
		t.Fatalf("calls %s", calls)
	}
}

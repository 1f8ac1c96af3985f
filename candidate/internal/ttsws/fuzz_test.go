package ttsws

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// randomJSON is a value of every JSON kind, nested a little (as test_ws_fuzz.py's strategy).
func randomJSON(r *rand.Rand, depth int) any {
	switch k := r.IntN(8); {
	case k == 0:
		return nil
	case k == 1:
		return r.IntN(2) == 0
	case k == 2:
		return r.IntN(4001) - 2000
	case k == 3:
		return r.NormFloat64() * 100
	case k == 4 || depth > 2:
		return randomText(r)
	case k == 5:
		items := make([]any, r.IntN(3))
		for i := range items {
			items[i] = randomJSON(r, depth+1)
		}
		return items
	default:
		m := map[string]any{}
		keys := []string{"language_code", "text", "speaker", "pace", "min_buffer_size", "max_chunk_length", "output_audio_codec", "x"}
		for range r.IntN(4) {
			m[keys[r.IntN(len(keys))]] = randomJSON(r, depth+1)
		}
		return m
	}
}

func randomText(r *rand.Rand) string {
	pieces := []string{"", "a", "hi-IN", "en-IN", " ", "नमस्ते", "😀", "\"", "\\", "\n", "{", "wav", "0.5", "ping", "."}
	var b strings.Builder
	for range r.IntN(6) {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

// randomFrame is a known message type with arbitrary data, any JSON, text that is not JSON,
// or bytes.
func randomFrame(r *rand.Rand) (int, []byte) {
	kinds := []string{"config", "text", "flush", "ping", "nonsense"}
	var v any
	switch r.IntN(5) {
	case 0, 1:
		v = map[string]any{"type": kinds[r.IntN(len(kinds))], "data": randomJSON(r, 0)}
	case 2:
		v = randomJSON(r, 0)
	case 3:
		return websocket.TextMessage, []byte(randomText(r))
	default:
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return websocket.BinaryMessage, b
	}
	b, _ := json.Marshal(v)
	return websocket.TextMessage, b
}

// TestNoMessageBreaksASession is test_ws_fuzz.py's property for this route: whatever a
// client sends, the server answers in the route's own message types, never closes with an
// internal error, and stays usable.
func TestNoMessageBreaksASession(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	l := newLab(t, nil, nil)
	for session := range 12 {
		ws := l.dial("?send_completion_event=true")
		for range 1 + r.IntN(4) {
			kind, data := randomFrame(r)
			if err := ws.WriteMessage(kind, data); err != nil {
				t.Fatal(err)
			}
		}
		ws.Send(t, config(`, "output_audio_codec": "wav"`))
		ws.Send(t, textMessage("Still working."))
		ws.Send(t, `{"type": "flush"}`)
		for done := false; !done; {
			e, ok := ws.Next(5 * time.Second)
			if !ok || e.Err != nil {
				t.Fatalf("session %d: %v %v", session, ok, e.Err)
			}
			var m struct {
				Type string `json:"type"`
			}
			if err := json.Unmarshal([]byte(e.Message), &m); err != nil || (m.Type != "audio" && m.Type != "event" && m.Type != "error") {
				t.Fatalf("session %d: %s", session, e.Message)
			}
			done = m.Type == "event"
		}
		ws.Close()
		l.ledger.WaitSettled(t)
	}
}

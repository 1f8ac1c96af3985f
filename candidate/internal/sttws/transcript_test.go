package sttws

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"banyan/candidate/internal/realtime"
	"banyan/candidate/internal/realtime/realtimetest"
)

type recipe struct {
	Signal string `json:"signal"`
	From   int    `json:"from"`
	To     int    `json:"to"`
	Wrap   string `json:"wrap"`
	Odd    bool   `json:"odd"`
	Binary string `json:"binary"`
}

type transcriptCase struct {
	Name    string            `json:"name"`
	Route   string            `json:"route"`
	Query   map[string]string `json:"query"`
	Limit   *string           `json:"limit"`
	Frames  []json.RawMessage `json:"frames"`
	Refused [][2]any          `json:"refused"`
	Steps   []struct {
		Sent   []string `json:"sent"`
		Closed [][2]any `json:"closed"`
	} `json:"steps"`
	Ledger []string `json:"ledger"`
}

// signals are the audio of internal/vad's generated cases, by name (16 kHz s16le), plus the
// 25 s of loud noise the transcripts make of them.
func signals(t *testing.T) map[string][]byte {
	t.Helper()
	var cases []struct {
		Name string `json:"name"`
		PCM  string `json:"pcm"`
	}
	realtimetest.Load(t, "../vad/testdata/cases.json.gz", &cases)
	out := map[string][]byte{}
	for _, c := range cases {
		out[c.Name], _ = base64.StdEncoding.DecodeString(c.PCM)
	}
	out["noise-loud-25s"] = bytes.Repeat(out["noise-loud"], 17)
	return out
}

// wavFile is gen_transcripts.py's wav(): a 44-byte header and the samples.
func wavFile(pcm []byte, rate int) []byte {
	h := []byte("RIFF")
	h = binary.LittleEndian.AppendUint32(h, uint32(36+len(pcm)))
	h = append(h, "WAVEfmt "...)
	h = binary.LittleEndian.AppendUint32(h, 16)
	h = binary.LittleEndian.AppendUint16(h, 1)
	h = binary.LittleEndian.AppendUint16(h, 1)
	h = binary.LittleEndian.AppendUint32(h, uint32(rate))
	h = binary.LittleEndian.AppendUint32(h, uint32(2*rate))
	h = binary.LittleEndian.AppendUint16(h, 2)
	h = binary.LittleEndian.AppendUint16(h, 16)
	h = append(h, "data"...)
	h = binary.LittleEndian.AppendUint32(h, uint32(len(pcm)))
	return append(h, pcm...)
}

// audioFrame is an audio message as the SDK writes it.
func audioFrame(data []byte) string {
	return `{"audio": {"data": "` + base64.StdEncoding.EncodeToString(data) + `", "sample_rate": 16000, "encoding": "audio/wav"}}`
}

// build is gen_transcripts.py's build(): a frame recipe as the message the client sends.
func build(t *testing.T, raw json.RawMessage, sig map[string][]byte) (int, []byte) {
	t.Helper()
	var text string
	if json.Unmarshal(raw, &text) == nil {
		return websocket.TextMessage, []byte(text)
	}
	var r recipe
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	if r.Signal == "" {
		b, _ := base64.StdEncoding.DecodeString(r.Binary)
		return websocket.BinaryMessage, b
	}
	pcm := sig[r.Signal]
	data := append([]byte(nil), pcm[min(2*r.From, len(pcm)):min(2*r.To, len(pcm))]...)
	if r.Odd {
		data = append(data, 0x7f)
	}
	switch r.Wrap {
	case "wav":
		data = wavFile(data, 16000)
	case "wav22050":
		data = wavFile(data, 22050)
	}
	return websocket.TextMessage, []byte(audioFrame(data))
}

// TestSessionsAreLegacys replays testdata/transcripts.json.gz (gen/gen_transcripts.py): each
// scripted session against the real handler on a real server, with the generator's model and
// ledger; every server message must be legacy's, byte for byte, after each client frame,
// then the server's close and the ledger calls.
func TestSessionsAreLegacys(t *testing.T) {
	var cases []transcriptCase
	realtimetest.Load(t, "testdata/transcripts.json.gz", &cases)
	sig := signals(t)
	compared := 0
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			ledger := realtimetest.NewLedger()
			if tc.Limit != nil {
				ledger.Limit, _ = realtime.ParseQuantity(*tc.Limit)
			}
			l := newLab(t, tc.Route == "speech-to-text-translate", ledger, &fakeModel{})
			q := url.Values{}
			for k, v := range tc.Query {
				q.Set(k, v)
			}
			ws, resp, err := l.dial(q.Encode())
			if len(tc.Refused) > 0 {
				if err == nil {
					t.Fatal("the handshake was accepted")
				}
				var envelope struct {
					Error struct{ Message string } `json:"error"`
				}
				_ = json.NewDecoder(resp.Body).Decode(&envelope)
				if float64(resp.StatusCode) != tc.Refused[0][0] || envelope.Error.Message != tc.Refused[0][1] {
					t.Fatalf("refused %d %q, legacy %v", resp.StatusCode, envelope.Error.Message, tc.Refused[0])
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			closedBy := 0
			for i, step := range tc.Steps {
				kind, frame := build(t, tc.Frames[i], sig)
				if err := ws.WriteMessage(kind, frame); err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				for j, want := range step.Sent {
					got, err := readMessage(t, ws)
					if err != nil {
						t.Fatalf("frame %d message %d: %v; legacy sent %s", i, j, err, want)
					}
					if got != want {
						t.Fatalf("frame %d message %d:\n got %s\nwant %s", i, j, got, want)
					}
					compared++
				}
				if len(step.Closed) > 0 {
					closedBy = int(step.Closed[0][0].(float64))
				}
			}
			if closedBy != 0 {
				_, err := readMessage(t, ws)
				var ce *websocket.CloseError
				if !errors.As(err, &ce) || ce.Code != closedBy || ce.Text != "" {
					t.Fatalf("after the last frame: %v, legacy closed %d", err, closedBy)
				}
			} else {
				_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""), time.Now().Add(time.Second))
				if msg, err := readMessage(t, ws); err == nil {
					t.Fatalf("after the last frame the server sent %s", msg)
				}
			}
			ledger.WaitSettled(t)
			if got := ledger.Calls(); !reflect.DeepEqual(got, tc.Ledger) {
				t.Fatalf("ledger %v, legacy %v", got, tc.Ledger)
			}
		})
	}
	if compared < 80 {
		t.Errorf("only %d messages compared", compared)
	}
}

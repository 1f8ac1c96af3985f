package ttsws

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"banyan/candidate/internal/chunking"
	"banyan/candidate/internal/realtime"
)

// transcriptSpeaker is gen_transcripts.py's stand-in model (speech_of), behind the Speaker
// interface: per code point c of a chunk, 4 samples of c % 30000 at 16 kHz, or 170 at 8 kHz
// for a chunk starting with "LONG".
type transcriptSpeaker struct{}

func (transcriptSpeaker) Speak(ctx context.Context, req SpeechRequest) iter.Seq2[Chunk, error] {
	return func(yield func(Chunk, error) bool) {
		for _, text := range chunking.Split(req.Text, req.MaxChars) {
			n, rate := 4, 16000
			if strings.HasPrefix(text, "LONG") {
				n, rate = 170, 8000
			}
			var pcm []byte
			for _, c := range text {
				for range n {
					pcm = binary.LittleEndian.AppendUint16(pcm, uint16(int16(c%30000)))
				}
			}
			if ctx.Err() != nil || !yield(Chunk{Text: text, PCM: pcm, SampleRate: rate}, nil) {
				return
			}
		}
	}
}

// transcriptAudio encodes as legacy does for the codecs the transcripts use: wav is
// Python's wave module (a plain 44-byte header), linear16 the samples as they are. The
// scripts never resample or scale (every voice is at the model's rate, gain 1).
type transcriptAudio struct{ t *testing.T }

func (a transcriptAudio) Resample(pcm []byte, from, to int) []byte {
	if from != to {
		a.t.Errorf("resample %d → %d: the transcripts never resample", from, to)
	}
	return pcm
}

func (a transcriptAudio) Scale(pcm []byte, gain float64) []byte {
	if gain != 1 {
		a.t.Errorf("scale by %v: the transcripts never scale", gain)
	}
	return pcm
}

func (a transcriptAudio) Encode(pcm []byte, rate int, codec string, _ int) ([]byte, error) {
	switch codec {
	case "linear16":
		return pcm, nil
	case "wav":
		h := []byte("RIFF")
		h = binary.LittleEndian.AppendUint32(h, uint32(36+len(pcm)))
		h = append(h, "WAVEfmt "...)
		h = binary.LittleEndian.AppendUint32(h, 16)
		h = binary.LittleEndian.AppendUint16(h, 1) // PCM
		h = binary.LittleEndian.AppendUint16(h, 1) // mono
		h = binary.LittleEndian.AppendUint32(h, uint32(rate))
		h = binary.LittleEndian.AppendUint32(h, uint32(2*rate))
		h = binary.LittleEndian.AppendUint16(h, 2)
		h = binary.LittleEndian.AppendUint16(h, 16)
		h = append(h, "data"...)
		h = binary.LittleEndian.AppendUint32(h, uint32(len(pcm)))
		return append(h, pcm...), nil
	}
	return nil, fmt.Errorf("codec %s is not in the transcripts", codec)
}

func (transcriptAudio) MediaType(codec string) string {
	return map[string]string{"wav": "audio/wav", "linear16": "audio/pcm"}[codec]
}

type transcript struct {
	Name   string            `json:"name"`
	Query  map[string]string `json:"query"`
	Limit  *string           `json:"limit"`
	Frames []any             `json:"frames"` // a text frame, or {"binary": hex}
	Sent   []string          `json:"sent"`
	Closed []any             `json:"closed"` // [code, reason] of the server's close, or null
	Ledger []string          `json:"ledger"`
}

// TestTranscriptsAsLegacy replays testdata/transcripts.json.gz (gen/gen_transcripts.py: whole
// sessions run by legacy's _Conversation): the same frames, sent after the server goes quiet,
// must draw the same server frames byte for byte, the same close and the same ledger calls.
func TestTranscriptsAsLegacy(t *testing.T) {
	var transcripts []transcript
	load(t, "transcripts.json.gz", &transcripts)
	for _, tc := range transcripts {
		t.Run(tc.Name, func(t *testing.T) {
			l := newLab(t, nil, func(c *Config) {
				c.Speaker, c.Audio = transcriptSpeaker{}, transcriptAudio{t}
			})
			if tc.Limit != nil {
				limit, err := realtime.ParseQuantity(*tc.Limit)
				if err != nil {
					t.Fatal(err)
				}
				l.biller.limit = limit
			}
			query := ""
			for k, v := range tc.Query {
				query += "&" + k + "=" + v
			}
			if query != "" {
				query = "?" + query[1:]
			}
			h := http.Header{"Api-Subscription-Key": {"sk_test"}, "X-Request-Id": {"rid-transcript"}}
			ws, _, err := websocket.DefaultDialer.Dial(l.url+query, h)
			if err != nil {
				t.Fatal(err)
			}
			c := l.adopt(ws)
			var sent []string
			var closed *websocket.CloseError
			quiet := func() {
				for closed == nil {
					e, ok := c.next(t, 120*time.Millisecond)
					if !ok {
						return
					}
					if e.err != nil {
						if !errors.As(e.err, &closed) {
							t.Fatalf("read: %v", e.err)
						}
						return
					}
					sent = append(sent, e.message)
				}
			}
			for _, frame := range tc.Frames {
				if closed != nil {
					break // legacy's client sees the close too, and sends nothing more
				}
				switch f := frame.(type) {
				case string:
					err = ws.WriteMessage(websocket.TextMessage, []byte(f))
				case map[string]any:
					data, _ := hex.DecodeString(f["binary"].(string))
					err = ws.WriteMessage(websocket.BinaryMessage, data)
				}
				if err != nil {
					t.Fatal(err)
				}
				quiet()
			}
			if closed == nil {
				_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""), time.Now().Add(time.Second))
			}
			settled := l.settled()
			if len(sent) != len(tc.Sent) {
				t.Errorf("%d frames, legacy sends %d", len(sent), len(tc.Sent))
			}
			for i := range min(len(sent), len(tc.Sent)) {
				if sent[i] != tc.Sent[i] {
					t.Errorf("frame %d:\n got  %.300s\n want %.300s", i, sent[i], tc.Sent[i])
				}
			}
			switch {
			case tc.Closed == nil && closed != nil:
				t.Errorf("closed %d %q; legacy does not close", closed.Code, closed.Text)
			case tc.Closed != nil && (closed == nil || float64(closed.Code) != tc.Closed[0].(float64) || closed.Text != tc.Closed[1].(string)):
				t.Errorf("close %v, want %v", closed, tc.Closed)
			}
			calls := l.biller.recorded()[1:] // after the authorize, which legacy's script did not run
			if strings.Join(calls, "; ") != strings.Join(tc.Ledger, "; ") {
				t.Errorf("ledger %v, want %v (settled %s)", calls, tc.Ledger, settled)
			}
		})
	}
}

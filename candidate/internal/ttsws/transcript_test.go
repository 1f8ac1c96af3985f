package ttsws

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"banyan/candidate/internal/audio"
	"banyan/candidate/internal/chunking"
	"banyan/candidate/internal/realtime"
	"banyan/candidate/internal/realtime/realtimetest"
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

// transcriptAudio encodes the codecs the transcripts use with the candidate's encoder
// (internal/audio, legacy's codecs.encode): wav is Python's wave module (a plain 44-byte
// header), linear16 the samples as they are. The scripts never resample or scale (every
// voice is at the model's rate, gain 1).
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
	if codec != "wav" && codec != "linear16" {
		return nil, fmt.Errorf("codec %s is not in the transcripts", codec)
	}
	return audio.Encode(pcm, rate, codec, 0)
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
	realtimetest.Load(t, "testdata/transcripts.json.gz", &transcripts)
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
				l.ledger.Limit = limit
			}
			query := ""
			for k, v := range tc.Query {
				query += "&" + k + "=" + v
			}
			if query != "" {
				query = "?" + query[1:]
			}
			c := realtimetest.Open(t, l.url+query, "rid-transcript")
			var sent []string
			var closed *websocket.CloseError
			quiet := func() {
				for closed == nil {
					e, ok := c.Next(120 * time.Millisecond)
					if !ok {
						return
					}
					if e.Err != nil {
						if !errors.As(e.Err, &closed) {
							t.Fatalf("read: %v", e.Err)
						}
						return
					}
					sent = append(sent, e.Message)
				}
			}
			for _, frame := range tc.Frames {
				if closed != nil {
					break // legacy's client sees the close too, and sends nothing more
				}
				var err error
				switch f := frame.(type) {
				case string:
					err = c.WriteMessage(websocket.TextMessage, []byte(f))
				case map[string]any:
					data, _ := hex.DecodeString(f["binary"].(string))
					err = c.WriteMessage(websocket.BinaryMessage, data)
				}
				if err != nil {
					t.Fatal(err)
				}
				quiet()
			}
			if closed == nil {
				_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""), time.Now().Add(time.Second))
			}
			settled := l.ledger.WaitSettled(t)
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
			calls := l.ledger.Calls()[1:] // after the authorize, which legacy's script did not run
			if strings.Join(calls, "; ") != strings.Join(tc.Ledger, "; ") {
				t.Errorf("ledger %v, want %v (settled %s)", calls, tc.Ledger, settled)
			}
		})
	}
}

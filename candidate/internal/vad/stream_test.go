package vad

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"
)

type streamCase struct {
	Signal  string  `json:"signal"`
	Script  string  `json:"script"`
	Config  string  `json:"config"`
	MaxS    float64 `json:"max_utterance_s"`
	Steps   [][]any `json:"steps"`
	Answers []struct {
		Events []struct {
			Started   *float64    `json:"started"`
			Ended     *[2]float64 `json:"ended"`
			Utterance []any       `json:"utterance"`
		} `json:"events"`
		Buffered int `json:"buffered"`
	} `json:"answers"`
}

// TestStreamIsLegacysUtteranceStream replays testdata/stream_cases.json.gz
// (gen/gen_stream_cases.py): every event, every utterance's bounds and PCM, and the bytes the
// stream holds after every step.
func TestStreamIsLegacysUtteranceStream(t *testing.T) {
	signals := map[string][]byte{}
	for _, c := range loadCases(t) {
		signals[c.Name], _ = base64.StdEncoding.DecodeString(c.PCM)
	}
	f, err := os.Open("testdata/stream_cases.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var cases []streamCase
	if err := json.NewDecoder(z).Decode(&cases); err != nil {
		t.Fatal(err)
	}
	utterances := 0
	for _, tc := range cases {
		name := tc.Signal + "/" + tc.Script + "/" + tc.Config
		pcm := signals[tc.Signal]
		s, err := NewStream(ForSensitivity(tc.Config == "high"), tc.MaxS, 1.0)
		if err != nil {
			t.Fatal(err)
		}
		offset := 0
		for i, step := range tc.Steps {
			var got []StreamEvent
			if step[0] == "flush" {
				got = s.Flush()
			} else {
				n := int(step[1].(float64))
				got = s.Feed(pcm[min(offset, len(pcm)):min(offset+n, len(pcm))])
				offset += n
			}
			want := tc.Answers[i]
			if len(got) != len(want.Events) {
				t.Fatalf("%s max %v step %d: %d events, legacy %d", name, tc.MaxS, i, len(got), len(want.Events))
			}
			for j, e := range got {
				w := want.Events[j]
				switch {
				case w.Started != nil:
					if !e.Started || e.Segment.Start != *w.Started {
						t.Fatalf("%s step %d event %d: %+v, legacy started at %v", name, i, j, e, *w.Started)
					}
				case w.Ended != nil:
					if !e.Ended || e.Segment.Start != w.Ended[0] || e.Segment.End != w.Ended[1] {
						t.Fatalf("%s step %d event %d: %+v, legacy ended %v", name, i, j, e, *w.Ended)
					}
				default:
					u := e.Utterance
					if u == nil {
						t.Fatalf("%s step %d event %d: %+v, legacy an utterance", name, i, j, e)
					}
					sum := sha256.Sum256(u.PCM)
					if u.StartSeconds() != w.Utterance[0].(float64) || u.EndSeconds() != w.Utterance[1].(float64) ||
						len(u.PCM) != int(w.Utterance[2].(float64)) || hex.EncodeToString(sum[:]) != w.Utterance[3] {
						t.Fatalf("%s step %d event %d: utterance %d..%d (%d bytes), legacy %v", name, i, j, u.Start, u.End, len(u.PCM), w.Utterance)
					}
					utterances++
				}
			}
			if s.BufferedBytes() != want.Buffered {
				t.Fatalf("%s step %d: holds %d bytes, legacy %d", name, i, s.BufferedBytes(), want.Buffered)
			}
		}
	}
	if utterances < 400 {
		t.Errorf("only %d utterances compared", utterances)
	}
}

// TestStreamMemoryIsBounded feeds a minute of loud noise (never-ending speech to the VAD)
// and of silence: the stream never holds more than an utterance's context plus the keep.
func TestStreamMemoryIsBounded(t *testing.T) {
	s, err := NewStream(DefaultConfig(), 2.0, 1.0)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 3200)
	seed := uint32(1)
	for i := 0; i < 600; i++ {
		for j := 0; j < len(chunk); j += 2 {
			seed = seed*1664525 + 1013904223
			v := int16(seed >> 16)
			if i >= 300 {
				v = 0
			}
			chunk[j], chunk[j+1] = byte(v), byte(v>>8)
		}
		s.Feed(chunk)
		if s.BufferedBytes() > (2+1)*Rate*2+len(chunk) {
			t.Fatalf("after %d chunks the stream holds %d bytes", i+1, s.BufferedBytes())
		}
	}
}

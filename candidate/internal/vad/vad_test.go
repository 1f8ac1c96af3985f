package vad

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strconv"
	"testing"

	"banyan/candidate/internal/casefile"
)

type genCase struct {
	Name     string                  `json:"name"`
	PCM      string                  `json:"pcm"`
	Verdicts map[string]string       `json:"verdicts"`
	Segments map[string][][2]float64 `json:"segments"`
	Configs  map[string]struct {
		Aggressiveness int     `json:"aggressiveness"`
		WindowFrames   int     `json:"window_frames"`
		StartRatio     float64 `json:"start_ratio"`
		EndRatio       float64 `json:"end_ratio"`
		PadMS          int     `json:"pad_ms"`
	} `json:"configs"`
	Events map[string][]struct {
		Start float64 `json:"start"`
		End   float64 `json:"end"`
		Ended bool    `json:"ended"`
	} `json:"events"`
}

func loadCases(t *testing.T) []genCase {
	t.Helper()
	raw, err := casefile.Read("testdata/cases.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	var cases []genCase
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("no cases")
	}
	return cases
}

func samples(pcm []byte) []int16 {
	out := make([]int16, len(pcm)/2)
	for i := range out {
		out[i] = int16(uint16(pcm[2*i]) | uint16(pcm[2*i+1])<<8)
	}
	return out
}

// TestVerdictsAreWebrtcvads compares every frame's verdict, at every mode, with the Python
// webrtcvad's on the same audio (gen/gen_cases.py).
func TestVerdictsAreWebrtcvads(t *testing.T) {
	frames, mismatches := 0, 0
	for _, tc := range loadCases(t) {
		pcm, _ := base64.StdEncoding.DecodeString(tc.PCM)
		s := samples(pcm)
		for mode := 0; mode < 4; mode++ {
			want := tc.Verdicts[strconv.Itoa(mode)]
			c, err := NewClassifier(mode)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]byte, 0, len(want))
			for i := 0; i+FrameSamples <= len(s); i += FrameSamples {
				if c.IsSpeech(s[i : i+FrameSamples]) {
					got = append(got, '1')
				} else {
					got = append(got, '0')
				}
			}
			if len(got) != len(want) {
				t.Fatalf("%s mode %d: %d frames, webrtcvad %d", tc.Name, mode, len(got), len(want))
			}
			for i := range got {
				frames++
				if got[i] != want[i] {
					mismatches++
					if mismatches < 10 {
						t.Errorf("%s mode %d frame %d: %c, webrtcvad %c", tc.Name, mode, i, got[i], want[i])
					}
				}
			}
		}
	}
	t.Logf("%d frames compared, %d mismatches", frames, mismatches)
	if frames < 4000 {
		t.Errorf("only %d frames compared", frames)
	}
}

// TestSegmentsAreLegacys replays find_speech and VoiceActivity's incremental events.
func TestSegmentsAreLegacys(t *testing.T) {
	for _, tc := range loadCases(t) {
		pcm, _ := base64.StdEncoding.DecodeString(tc.PCM)
		for key, c := range tc.Configs {
			cfg := Config{c.Aggressiveness, c.WindowFrames, c.StartRatio, c.EndRatio, c.PadMS}
			segments, err := FindSpeech(pcm, cfg)
			if err != nil {
				t.Fatal(err)
			}
			var got [][2]float64
			for _, s := range segments {
				got = append(got, [2]float64{s.Start, s.End})
			}
			want := tc.Segments[key]
			if len(want) == 0 {
				want = nil
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s %s: segments %v, legacy %v", tc.Name, key, got, want)
			}
			a, _ := NewActivity(cfg)
			var events []Event
			for off := 0; off < len(pcm); off += 1001 {
				events = append(events, a.Feed(pcm[off:min(off+1001, len(pcm))])...)
			}
			events = append(events, a.Finish()...)
			if len(events) != len(tc.Events[key]) {
				t.Errorf("%s %s: %d events, legacy %d", tc.Name, key, len(events), len(tc.Events[key]))
				continue
			}
			for i, e := range events {
				w := tc.Events[key][i]
				if e.Ended != w.Ended || e.Segment.Start != w.Start || e.Segment.End != w.End {
					t.Errorf("%s %s event %d: %+v, legacy %+v", tc.Name, key, i, e, w)
				}
			}
		}
	}
}

func TestRoundIsPythons(t *testing.T) {
	for _, c := range []struct{ x, want float64 }{
		{0.0005, 0.001}, {0.0015, 0.002}, {2.675, 2.675}, {1.2345, 1.234}, {0.06 - 0.06, 0},
		{3*0.03 - 0.06, 0.03},
	} {
		if got := Round(c.x, 3); got != c.want {
			t.Errorf("Round(%v, 3) = %v, want %v", c.x, got, c.want)
		}
	}
}

func TestModeOutOfRange(t *testing.T) {
	if _, err := NewClassifier(4); err == nil {
		t.Error("mode 4 accepted")
	}
}

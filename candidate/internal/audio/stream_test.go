package audio

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"

	"banyan/candidate/internal/flacenc"
)

// TestStreamingAsLegacy replays testdata/stream_cases.json (legacy's AudioEncoder on a pipe,
// gen/gen_stream_cases.py): every feed's and the finish's bytes, for the sample formats.
func TestStreamingAsLegacy(t *testing.T) {
	var data struct {
		Pieces []int `json:"pieces"`
		Cases  []struct {
			Codec   string        `json:"codec"`
			Rate    int           `json:"rate"`
			Outputs []expectation `json:"outputs"`
		} `json:"cases"`
	}
	load(t, "stream_cases.json", &data)
	speech, err := os.ReadFile("testdata/speech_22050.pcm")
	if err != nil {
		t.Fatal(err)
	}
	if len(data.Cases) != 12 {
		t.Fatalf("%d cases", len(data.Cases))
	}
	for _, tc := range data.Cases {
		e, err := NewStreamEncoder(tc.Codec, tc.Rate, 0)
		if err != nil {
			t.Fatal(err)
		}
		at := 0
		for i, size := range data.Pieces {
			tc.Outputs[i].check(t, e.Feed(speech[at:at+size]))
			at += size
		}
		tc.Outputs[len(data.Pieces)].check(t, e.Finish())
	}
}

// TestStreamsSplitAnywhereAreOneFile: pieces cut mid-sample make the same stream as whole
// ones, and the encoded codecs' pieces make one file (flac's decodes to every sample: its
// STREAMINFO says the total is unknown, as on a pipe).
func TestStreamsSplitAnywhereAreOneFile(t *testing.T) {
	speech, _ := os.ReadFile("testdata/speech_22050.pcm")
	speech = speech[:26000]
	for _, codec := range []string{"wav", "linear16", "mulaw", "alaw", "mp3", "flac"} {
		whole, _ := NewStreamEncoder(codec, 22050, 0)
		split, _ := NewStreamEncoder(codec, 22050, 0)
		a := append(whole.Feed(speech[:25999]), whole.Finish()...)
		var b []byte
		for _, piece := range [][]byte{speech[:7], speech[7:8], speech[8:12345], speech[12345:25999]} {
			b = append(b, split.Feed(piece)...)
		}
		b = append(b, split.Finish()...)
		if !bytes.Equal(a, b) || len(a) == 0 {
			t.Errorf("%s: %d bytes whole, %d split", codec, len(a), len(b))
		}
	}
	e, _ := NewStreamEncoder("flac", 16000, 0)
	out := append(e.Feed(speech[:20000]), e.Finish()...)
	if !bytes.HasPrefix(out, []byte("fLaC")) || binary.BigEndian.Uint64(out[18:26])&(1<<36-1) != 0 {
		t.Errorf("flac stream header %x", out[:min(len(out), 42)])
	}
	if flacenc.BlockSize(16000) != 1152 {
		t.Error("block size")
	}
	if _, err := NewStreamEncoder("opus", 24000, 0); err == nil {
		t.Error("opus is not ported")
	}
}

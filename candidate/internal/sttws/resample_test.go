package sttws

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"testing"

	"banyan/candidate/internal/audio"
	"banyan/candidate/internal/realtime/realtimetest"
)

type upsampleCases struct {
	Input string `json:"input"`
	Cases []struct {
		Name   string `json:"name"`
		Sizes  []int  `json:"sizes"`
		Counts []int  `json:"counts"`
		Output string `json:"output"`
	} `json:"cases"`
}

func int16s(b []byte) []float64 {
	out := make([]float64, len(b)/2)
	for i := range out {
		out[i] = float64(int16(binary.LittleEndian.Uint16(b[2*i:])))
	}
	return out
}

// streamed feeds in in messages of sizes bytes (each cut to whole samples, as the session
// does) and returns what the upsampler handed over after each, and all of it.
func streamed(in []byte, sizes []int) ([]int, []byte) {
	var u upsampler
	var counts []int
	var out []byte
	offset := 0
	for _, n := range sizes {
		data := in[min(offset, len(in)):min(offset+n, len(in))]
		offset += n
		block := u.feed(data[:len(data)-len(data)%2])
		counts = append(counts, len(block)/2)
		out = append(out, block...)
	}
	return counts, out
}

// TestUpsamplerHandsOverWhatSoxrDoes replays testdata/upsample_cases.json.gz
// (gen/gen_upsample.py): after every message the upsampler hands over as many samples as
// legacy's soxr stream, so the bill, the VAD's timing and the utterance bounds are legacy's.
// It then measures how far the samples are from soxr's (a different filter, and soxr's
// dither) and from a one-shot resampling of the whole stream (the block edges).
func TestUpsamplerHandsOverWhatSoxrDoes(t *testing.T) {
	var data upsampleCases
	realtimetest.Load(t, "testdata/upsample_cases.json.gz", &data)
	in, _ := base64.StdEncoding.DecodeString(data.Input)
	for _, c := range data.Cases {
		counts, out := streamed(in, c.Sizes)
		for i := range counts {
			if counts[i] != c.Counts[i] {
				t.Fatalf("%s message %d: %d samples, soxr %d", c.Name, i, counts[i], c.Counts[i])
			}
		}
		if c.Output == "" {
			continue
		}
		soxr, _ := base64.StdEncoding.DecodeString(c.Output)
		snr := snrDB(int16s(soxr), int16s(out))
		oneShot := int16s(audio.Resample(in, 8000, 16000))
		worst, differing := 0.0, 0
		for i, v := range int16s(out) {
			if d := math.Abs(v - oneShot[i]); d > 0 {
				differing++
				worst = max(worst, d)
			}
		}
		t.Logf("%s: %d samples; SNR against soxr %.1f dB; against one-shot: %d differ, by at most %v",
			c.Name, len(out)/2, snr, differing, worst)
		if snr < 60 {
			t.Errorf("%s: SNR against soxr %.1f dB", c.Name, snr)
		}
		if worst > 1 || differing > len(out)/2/100 {
			t.Errorf("%s: %d samples differ from the one-shot resampling, by up to %v", c.Name, differing, worst)
		}
	}
}

func snrDB(reference, test []float64) float64 {
	var signal, noise float64
	for i := range reference {
		signal += reference[i] * reference[i]
		d := reference[i] - test[i]
		noise += d * d
	}
	return 10 * math.Log10(signal/noise)
}

// TestUpsamplerHasNoClicksAtBoundaries: a sine fed in tiny messages comes out as smooth as
// one fed whole.
func TestUpsamplerHasNoClicksAtBoundaries(t *testing.T) {
	in := make([]byte, 2*8000)
	for i := 0; i < 8000; i++ {
		binary.LittleEndian.PutUint16(in[2*i:], uint16(int16(12000*math.Sin(2*math.Pi*440*float64(i)/8000))))
	}
	sizes := make([]int, 0, 200)
	for n := 0; n < len(in); n += 82 {
		sizes = append(sizes, 82)
	}
	_, out := streamed(in, sizes)
	whole := int16s(audio.Resample(in, 8000, 16000))
	for i, v := range int16s(out) {
		if math.Abs(v-whole[i]) > 1 {
			t.Fatalf("sample %d: %v, whole %v", i, v, whole[i])
		}
	}
}

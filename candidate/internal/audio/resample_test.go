package audio

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"testing"
)

// The Go resampler against legacy's (soxr HQ) on real eSpeak NG speech at 22050 Hz, the
// model's native rate, to every other rate the API takes (gen/gen_cases.py wrote both).
// soxr dithers its 16-bit output and its filter is not this one, so the samples differ a
// little; the sample count must not. The thresholds are what a listener (and the shadow
// comparator, which needs a correlation of 0.9) cannot tell apart, with margin; the numbers
// themselves are logged (go test -v -run TestResampleAgainstSoxr).
var minSNR = map[int]float64{8000: 60, 16000: 60, 24000: 70, 32000: 70, 44100: 70, 48000: 70}

func samples(b []byte) []float64 {
	out := make([]float64, len(b)/2)
	for i := range out {
		out[i] = float64(int16(binary.LittleEndian.Uint16(b[2*i:])))
	}
	return out
}

func TestResampleAgainstSoxr(t *testing.T) {
	speech, err := os.ReadFile("testdata/speech_22050.pcm")
	if err != nil {
		t.Fatal(err)
	}
	for rate, floor := range minSNR {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			want, err := os.ReadFile(fmt.Sprintf("testdata/soxr_%d.pcm", rate))
			if err != nil {
				t.Fatal(err)
			}
			got := Resample(speech, 22050, rate)
			if len(got) != len(want) {
				t.Fatalf("%d samples, soxr %d", len(got)/2, len(want)/2)
			}
			g, w := samples(got), samples(want)
			var signal, noise, maxDiff float64
			for i := range w {
				d := g[i] - w[i]
				signal += w[i] * w[i]
				noise += d * d
				maxDiff = math.Max(maxDiff, math.Abs(d))
			}
			snr := 10 * math.Log10(signal/noise)
			t.Logf("22050→%d: %d samples (soxr %d), SNR %.1f dB, max |diff| %.0f, RMS diff %.2f",
				rate, len(g), len(w), snr, maxDiff, math.Sqrt(noise/float64(len(w))))
			if snr < floor {
				t.Errorf("SNR %.1f dB against soxr, want at least %.0f", snr, floor)
			}
		})
	}
}

func TestResampleLengthIsSoxrs(t *testing.T) {
	// soxr's one-shot lengths, from legacy's resample (python-soxr 1.1.0).
	for _, c := range []struct{ n, rate, want int }{
		{1, 8000, 0}, {1, 16000, 1}, {2, 8000, 1}, {3, 48000, 7}, {1001, 8000, 363},
		{22051, 16000, 16001}, {12345, 48000, 26873}, {12345, 44100, 24690},
	} {
		got := len(Resample(make([]byte, 2*c.n), 22050, c.rate)) / 2
		if got != c.want {
			t.Errorf("%d samples to %d Hz: %d, soxr %d", c.n, c.rate, got, c.want)
		}
	}
	same := []byte{1, 2, 3, 4}
	if got := Resample(same, 22050, 22050); &got[0] != &same[0] {
		t.Error("resampled to the same rate")
	}
}

func TestResampleKeepsATonesLevelAndRemovesAliases(t *testing.T) {
	// A 1 kHz tone keeps its amplitude; a 6 kHz tone, above 8 kHz's Nyquist frequency, is
	// gone (not folded to 2 kHz).
	tone := func(freq float64) []byte {
		out := make([]byte, 2*22050)
		for i := 0; i < 22050; i++ {
			binary.LittleEndian.PutUint16(out[2*i:], uint16(int16(math.Round(10000*math.Sin(2*math.Pi*freq*float64(i)/22050)))))
		}
		return out
	}
	rms := func(b []byte) float64 {
		s := samples(b)
		var sum float64
		for _, v := range s[1000 : len(s)-1000] {
			sum += v * v
		}
		return math.Sqrt(sum / float64(len(s)-2000))
	}
	if r := rms(Resample(tone(1000), 22050, 8000)); math.Abs(r-10000/math.Sqrt2) > 10 {
		t.Errorf("1 kHz at 8000 Hz: RMS %.1f, want %.1f", r, 10000/math.Sqrt2)
	}
	if r := rms(Resample(tone(6000), 22050, 8000)); r > 1 {
		t.Errorf("6 kHz at 8000 Hz: RMS %.2f, want silence", r)
	}
}

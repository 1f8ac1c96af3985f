package audioin

import (
	"testing"

	"banyan/candidate/internal/vad"
)

// BenchmarkDecode30s44kStereo is the most expensive upload the route takes in time: 30 s of
// 44.1 kHz stereo s16, resampled (float) and downmixed.
func BenchmarkDecode30s44kStereo(b *testing.B) {
	src := make([]int16, 44100*30-100)
	for i := range src {
		src[i] = int16((i * 7919) % 20000)
	}
	data := buildWAV(src, 44100, 2, "s16", "plain", 0, 0)
	b.ResetTimer()
	for range b.N {
		if _, err := Decode(data, "", 30); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVAD30s(b *testing.B) {
	pcm := make([]byte, 16000*2*30)
	for i := range pcm {
		pcm[i] = byte(i * 31)
	}
	for range b.N {
		if _, err := vad.FindSpeech(pcm, vad.DefaultConfig()); err != nil {
			b.Fatal(err)
		}
	}
}

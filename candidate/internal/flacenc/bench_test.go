package flacenc

import "testing"

func BenchmarkEncodeNoise48k(b *testing.B) {
	x := signals(48000)["noise"]
	b.SetBytes(int64(2 * len(x)))
	for b.Loop() {
		Encode(x, 48000)
	}
}

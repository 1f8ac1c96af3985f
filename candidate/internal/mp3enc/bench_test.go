package mp3enc

import "testing"

func BenchmarkEncode48k(b *testing.B) {
	x := tone(48000, 48000)
	b.SetBytes(int64(2 * len(x)))
	for b.Loop() {
		Encode(x, 48000, 128000)
	}
}

func BenchmarkEncode22k(b *testing.B) {
	x := tone(22050, 22050)
	b.SetBytes(int64(2 * len(x)))
	for b.Loop() {
		Encode(x, 22050, 64000)
	}
}

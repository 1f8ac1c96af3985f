package audio

import (
	"encoding/binary"
	"math"
)

// Scale is legacy's audio.scale: every sample multiplied by gain in float64, clipped to the
// 16-bit range, then converted as numpy's astype("<i2") converts a float: truncated toward
// zero (so 1.9 is 1 and -1.9 is -1), not rounded. Gain 1 or no samples return pcm itself.
func Scale(pcm []byte, gain float64) []byte {
	if gain == 1 || len(pcm) == 0 {
		return pcm
	}
	out := make([]byte, len(pcm)&^1)
	for i := 0; i+1 < len(pcm); i += 2 {
		v := float64(int16(binary.LittleEndian.Uint16(pcm[i:]))) * gain
		binary.LittleEndian.PutUint16(out[i:], uint16(clipTruncate(v)))
	}
	return out
}

// clipTruncate is np.clip(v, -32768, 32767).astype(int16) for one value. NaN (a NaN gain,
// which validation never lets through) gives 0 rather than numpy's undefined cast.
func clipTruncate(v float64) int16 {
	switch {
	case math.IsNaN(v):
		return 0
	case v <= -32768:
		return -32768
	case v >= 32767:
		return 32767
	}
	return int16(math.Trunc(v))
}

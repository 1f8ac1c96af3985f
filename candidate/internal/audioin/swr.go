package audioin

import (
	"math"
	"sync"
)

// A port of what libswresample does between the WAV decoder and legacy's 16 kHz mono s16:
// the choice of the internal sample format, the channel matrix (swr_build_matrix2 for a mono
// output, native_matrix/matrix32 in s16), the order of the steps (every channel resampled,
// then downmixed: swr's resample_first is always true for fewer output channels), the
// polyphase filter bank, and the way the signal's ends are extended. Every path is bit-exact
// with legacy on the parity cases: the integer ones by construction, the float ones because
// the filter sums as FFmpeg's x86-64 FMA3 kernel does (fmaSum8). With no resampling and no
// downmix, swr converts each sample directly (fullConvert).

// OutRate is the rate recognition reads.
const OutRate = 16000

// swr's options as legacy's AudioResampler leaves them.
const (
	filterSize = 32
	phaseShift = 10
	cutoff     = 0.97
	kaiserBeta = 9.0
)

// clev and slev are swr's center and surround mix levels: -3 dB, stored as float options.
var (
	clev = float64(float32(math.Sqrt2 / 2))
	slev = float64(float32(math.Sqrt2 / 2))
)

// internal is swr's int_sample_fmt for a conversion to s16.
type internal int

const (
	intS16 internal = iota
	intFlt
	intDbl
)

func internalFormat(f sampleFormat) internal {
	switch f {
	case fmtU8, fmtS16:
		return intS16
	case fmtDbl:
		return intDbl
	}
	return intFlt
}

// toMono16k converts a parsed WAV to 16 kHz mono s16, as swr does.
func toMono16k(s *wavStream) []int16 {
	if s.channels == 1 && s.rate == OutRate {
		return fullConvert(s)
	}
	in := internalFormat(s.format)
	if s.format == fmtS16 && s.rate != OutRate {
		// Measured, not derived: when it resamples s16 to s16, legacy's swr works in float
		// (its output equals internal_sample_fmt=fltp's, never s16p's); u8 input, and s16
		// that is only downmixed, go through the s16 path.
		in = intFlt
	}
	planes := deinterleave(s, in)
	s.ints, s.floats = nil, nil // the planes hold the samples now
	if s.rate != OutRate {
		// The channels are independent (swr resamples each before downmixing) and the
		// resampler is read-only once built: one goroutine per channel.
		r := newResampler(s.rate, OutRate, in)
		var wg sync.WaitGroup
		for c := range planes {
			wg.Go(func() { planes[c] = r.run(planes[c]) })
		}
		wg.Wait()
	}
	if s.channels > 1 {
		planes = [][]float64{downmix(planes, channelMatrix(s.channels, s.mask), in)}
	}
	return toS16(planes[0], in)
}

// fullConvert is swr's direct conversion when there is neither resampling nor a matrix.
func fullConvert(s *wavStream) []int16 {
	out := make([]int16, s.frameLength)
	for i := range out {
		switch s.format {
		case fmtU8:
			out[i] = int16((uint32(s.ints[i]) - 0x80) << 8)
		case fmtS16:
			out[i] = int16(s.ints[i])
		case fmtS32:
			out[i] = int16(s.ints[i] >> 16)
		case fmtFlt:
			out[i] = clip16(math.RoundToEven(float64(float32(s.floats[i]) * 32768)))
		case fmtDbl:
			out[i] = clip16(math.RoundToEven(s.floats[i] * 32768))
		}
	}
	return out
}

// deinterleave converts the decoder's samples to swr's internal format, one plane per
// channel (s16 values and float32 values are held exactly in float64).
func deinterleave(s *wavStream, in internal) [][]float64 {
	planes := make([][]float64, s.channels)
	for c := range planes {
		p := make([]float64, s.frameLength)
		for i := range p {
			k := i*s.channels + c
			switch s.format {
			case fmtU8:
				p[i] = float64(int16((uint32(s.ints[k]) - 0x80) << 8))
				if in == intFlt {
					p[i] = float64(float32(int32(s.ints[k])-0x80) * (1.0 / (1 << 7)))
				}
			case fmtS16:
				p[i] = float64(s.ints[k])
				if in == intFlt {
					p[i] = float64(float32(s.ints[k]) * (1.0 / (1 << 15)))
				}
			case fmtS32:
				p[i] = float64(float32(s.ints[k]) * float32(1.0/(1<<31)))
			case fmtFlt, fmtDbl:
				p[i] = s.floats[k]
			}
		}
		planes[c] = p
	}
	return planes
}

func toS16(p []float64, in internal) []int16 {
	out := make([]int16, len(p))
	for i, v := range p {
		switch in {
		case intS16:
			out[i] = int16(v)
		case intFlt:
			out[i] = clip16(math.RoundToEven(float64(float32(v) * 32768)))
		case intDbl:
			out[i] = clip16(math.RoundToEven(v * 32768))
		}
	}
	return out
}

func clip16(v float64) int16 {
	switch {
	case v > 32767:
		return 32767
	case v < -32768:
		return -32768
	}
	return int16(v)
}

// Channel bits of a WAVE_FORMAT_EXTENSIBLE mask (FFmpeg's AV_CH_*).
const (
	chFL  = 1 << 0
	chFR  = 1 << 1
	chFC  = 1 << 2
	chLFE = 1 << 3
	chBL  = 1 << 4
	chBR  = 1 << 5
	chFLC = 1 << 6
	chFRC = 1 << 7
	chBC  = 1 << 8
	chSL  = 1 << 9
	chSR  = 1 << 10
)

// defaultLayouts are FFmpeg's default layouts by channel count (av_channel_layout_default),
// what a WAV without a channel mask is taken as.
var defaultLayouts = map[int]uint64{
	1: chFC,
	2: chFL | chFR,
	3: chFL | chFR | chLFE,                                    // 2.1
	4: chFL | chFR | chFC | chBC,                              // 4.0
	5: chFL | chFR | chFC | chBL | chBR,                       // 5.0
	6: chFL | chFR | chFC | chLFE | chBL | chBR,               // 5.1
	7: chFL | chFR | chFC | chLFE | chBC | chSL | chSR,        // 6.1
	8: chFL | chFR | chFC | chLFE | chBL | chBR | chSL | chSR, // 7.1
}

// channelMatrix is swr_build_matrix2's row for a mono (front centre) output: each input
// channel's coefficient, in the layout's (bit) order, normalised so they sum to at most 1.
func channelMatrix(channels int, mask uint64) []float64 {
	if mask == 0 {
		mask = defaultLayouts[channels]
	}
	var coef [64]float64
	if mask&chFC != 0 {
		coef[2] = 1
	}
	if mask&(chFL|chFR) != 0 {
		coef[0] += math.Sqrt2 / 2
		coef[1] += math.Sqrt2 / 2
		if mask&chFC != 0 {
			coef[2] = clev * math.Sqrt(2)
		}
	}
	if mask&chBC != 0 {
		coef[8] += slev * (math.Sqrt2 / 2)
	}
	if mask&chBL != 0 {
		coef[4] += slev * (math.Sqrt2 / 2)
		coef[5] += slev * (math.Sqrt2 / 2)
	}
	if mask&chSL != 0 {
		coef[9] += slev * (math.Sqrt2 / 2)
		coef[10] += slev * (math.Sqrt2 / 2)
	}
	if mask&chFLC != 0 {
		coef[6] += math.Sqrt2 / 2
		coef[7] += math.Sqrt2 / 2
	}
	// LFE: lfe_mix_level is 0.
	var row []float64
	sum := 0.0
	for bit := 0; bit < 64; bit++ {
		if mask&(1<<bit) == 0 {
			continue
		}
		row = append(row, coef[bit])
		sum += math.Abs(coef[bit])
	}
	if sum > 1 {
		for i := range row {
			row[i] /= sum
		}
	}
	return row
}

// downmix is swri_rematrix into one output channel, in the internal format.
func downmix(planes [][]float64, row []float64, in internal) []float64 {
	n := len(planes[0])
	out := make([]float64, n)
	var used []int
	for c, v := range row {
		if v != 0 {
			used = append(used, c)
		}
	}
	switch in {
	case intS16:
		// One or two inputs mix with native_matrix (lrintf of each coefficient times 32768,
		// the rounding error carried to the next); more with matrix32 (no carry).
		native := make([]int32, len(row))
		rem := 0.0
		for j, v := range row {
			target := v*32768 + rem
			native[j] = int32(math.RoundToEven(float64(float32(target))))
			if len(used) > 2 {
				native[j] = int32(math.RoundToEven(float64(float32(v * 32768))))
			}
			rem += target - float64(native[j])
		}
		for i := 0; i < n; i++ {
			var v int32
			for _, c := range used {
				v += int32(planes[c][i]) * native[c]
			}
			out[i] = float64(int16((v + 16384) >> 15))
		}
	case intFlt:
		for i := 0; i < n; i++ {
			if len(used) == 2 {
				a, b := used[0], used[1]
				x := float32(float32(row[a]) * float32(planes[a][i]))
				y := float32(float32(row[b]) * float32(planes[b][i]))
				out[i] = float64(x + y)
				continue
			}
			var v float32
			for _, c := range used {
				v += float32(float32(planes[c][i]) * float32(row[c]))
			}
			out[i] = float64(v)
		}
	case intDbl:
		for i := 0; i < n; i++ {
			if len(used) == 2 {
				a, b := used[0], used[1]
				x := float64(row[a] * planes[a][i])
				y := float64(row[b] * planes[b][i])
				out[i] = x + y
				continue
			}
			var v float64
			for _, c := range used {
				v += float64(planes[c][i] * row[c])
			}
			out[i] = v
		}
	}
	return out
}

package audioin

import "math"

// resampler is libswresample's polyphase resampler (resample.c, resample_template.c) for one
// rate pair, over a whole signal at once. swr extends the signal's start by mirroring it
// about the first sample (invert_initial_buffer) and, when flushed at the end, by mirroring
// half a filter's worth (or less) about the last (resample_flush), and emits an output sample
// while the filter fits in what it has; with the phase arithmetic below, the count and every
// sample come out as swr's.
type resampler struct {
	in         internal
	length     int // taps per phase
	alloc      int // a phase's stride in the bank
	phases     int
	srcIncr    int64
	dstIncrDiv int64
	dstIncrMod int64
	linear     bool
	bankS16    []int16
	bankFlt    []float32
	bankDbl    []float64
	startPhase int64 // c->index at the start: -phases*((length-1)/2)
}

func newResampler(inRate, outRate int, in internal) *resampler {
	r := resamplerShape(inRate, outRate)
	r.in = in
	r.buildFilter(math.Min(float64(outRate)*cutoff/float64(inRate), 1.0))
	return r
}

// resamplerShape is the resampler's lengths and steps, without its filter bank.
func resamplerShape(inRate, outRate int) *resampler {
	factor := math.Min(float64(outRate)*cutoff/float64(inRate), 1.0)
	phases := 1 << phaseShift
	length := max(int(math.Ceil(filterSize/factor)), 1)
	if length > 1 {
		length = (length + 1) &^ 1
	}
	// exact_rational: as many phases as the reduced ratio's numerator, when it fits in
	// 1 << phase_shift, so every output falls on a phase and no interpolation is needed.
	if num, _ := reduce(int64(outRate), int64(inRate)); num <= int64(phases) {
		phases = int(num)
	}
	r := &resampler{length: length, alloc: (length + 7) &^ 7, phases: phases, linear: true}
	srcIncr, dstIncr := reduce(int64(outRate), int64(inRate)*int64(phases))
	for dstIncr < 1<<20 && srcIncr < 1<<20 {
		dstIncr *= 2
		srcIncr *= 2
	}
	r.srcIncr, r.dstIncrDiv, r.dstIncrMod = srcIncr, dstIncr/srcIncr, dstIncr%srcIncr
	r.startPhase = -int64(phases) * int64((length-1)/2)
	return r
}

// outputsFrom is how many samples swr has emitted once it holds n input samples, before
// the flush: output k needs its filter's last tap, first + floor(k*dstIncr/srcIncr/phases)
// + length <= n (swr's delta_n).
func (r *resampler) outputsFrom(n int) int {
	first := r.startPhase / int64(r.phases)
	m := (int64(n) - int64(r.length) - first + 1) * int64(r.phases)
	if m <= 0 {
		return 0
	}
	dst := r.dstIncrDiv*r.srcIncr + r.dstIncrMod
	return int((m*r.srcIncr + dst - 1) / dst)
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// reduce is av_reduce for the small exact ratios here.
func reduce(num, den int64) (int64, int64) {
	g := gcd(num, den)
	return num / g, den / g
}

// buildFilter is build_filter with the Kaiser window: phase ph's taps are a windowed sinc
// shifted by ph/phases, all normalised by phase 0's sum; for an even phase count the phases
// past the middle are the mirror images of those before it.
func (r *resampler) buildFilter(factor float64) {
	tapCount, phaseCount := r.length, r.phases
	phNb := phaseCount
	if phaseCount%2 == 0 {
		phNb = phaseCount/2 + 1
	}
	center := (tapCount - 1) / 2
	size := r.alloc * (phaseCount + 1)
	switch r.in {
	case intS16:
		r.bankS16 = make([]int16, size)
	case intFlt:
		r.bankFlt = make([]float32, size)
	default:
		r.bankDbl = make([]float64, size)
	}
	if factor > 1 {
		factor = 1
	}
	sinLUT := make([]float64, phNb)
	if factor == 1.0 {
		sign := -1.0
		if center&1 != 0 {
			sign = 1
		}
		for ph := range sinLUT {
			sinLUT[ph] = math.Sin(math.Pi*float64(ph)/float64(phaseCount)) * sign
		}
	}
	tab := make([]float64, tapCount)
	norm := 0.0
	scale := 1.0
	if r.in == intS16 {
		scale = 1 << 15
	}
	for ph := 0; ph < phNb; ph++ {
		s := sinLUT[ph]
		for i := 0; i < tapCount; i++ {
			x := math.Pi * (float64(i-center) - float64(ph)/float64(phaseCount)) * factor
			var y float64
			switch {
			case x == 0:
				y = 1.0
			case factor == 1.0:
				y = s / x
			default:
				y = math.Sin(x) / x
			}
			w := 2.0 * x / (factor * float64(tapCount) * math.Pi)
			y *= besselI0(kaiserBeta * math.Sqrt(math.Max(1-w*w, 0)))
			tab[i] = y
			s = -s
			if ph == 0 {
				norm += y
			}
		}
		for i := 0; i < tapCount; i++ {
			v := tab[i] * scale / norm
			switch r.in {
			case intS16:
				r.bankS16[ph*r.alloc+i] = clip16(math.RoundToEven(float64(float32(v))))
			case intFlt:
				r.bankFlt[ph*r.alloc+i] = float32(v)
			default:
				r.bankDbl[ph*r.alloc+i] = v
			}
		}
		if phaseCount%2 != 0 {
			continue
		}
		for i := 0; i < tapCount; i++ {
			dst, src := (phaseCount-ph)*r.alloc+tapCount-1-i, ph*r.alloc+i
			switch r.in {
			case intS16:
				r.bankS16[dst] = r.bankS16[src]
			case intFlt:
				r.bankFlt[dst] = r.bankFlt[src]
			default:
				r.bankDbl[dst] = r.bankDbl[src]
			}
		}
	}
	// The extra phase (for linear interpolation) is phase 0 delayed by one tap.
	last := phaseCount * r.alloc
	switch r.in {
	case intS16:
		copy(r.bankS16[last+1:], r.bankS16[:r.alloc-1])
		r.bankS16[last] = r.bankS16[r.alloc-1]
	case intFlt:
		copy(r.bankFlt[last+1:], r.bankFlt[:r.alloc-1])
		r.bankFlt[last] = r.bankFlt[r.alloc-1]
	default:
		copy(r.bankDbl[last+1:], r.bankDbl[:r.alloc-1])
		r.bankDbl[last] = r.bankDbl[r.alloc-1]
	}
}

// besselI0 is av_bessel_i0 on [0, 15] (the Kaiser window's arguments are at most beta = 9):
// Blair and Edwards' rational approximation, as FFmpeg (from Boost) evaluates it.
func besselI0(x float64) float64 {
	p1 := [...]float64{
		-2.2335582639474375249e+15, -5.5050369673018427753e+14,
		-3.2940087627407749166e+13, -8.4925101247114157499e+11,
		-1.1912746104985237192e+10, -1.0313066708737980747e+08,
		-5.9545626019847898221e+05, -2.4125195876041896775e+03,
		-7.0935347449210549190e+00, -1.5453977791786851041e-02,
		-2.5172644670688975051e-05, -3.0517226450451067446e-08,
		-2.6843448573468483278e-11, -1.5982226675653184646e-14,
		-5.2487866627945699800e-18,
	}
	q1 := [...]float64{
		-2.2335582639474375245e+15, 7.8858692566751002988e+12,
		-1.2207067397808979846e+10, 1.0377081058062166144e+07,
		-4.8527560179962773045e+03, 1.0,
	}
	if x == 0 {
		return 1
	}
	x = math.Abs(x)
	y := x * x
	return evalPoly(p1[:], y) / evalPoly(q1[:], y)
}

func evalPoly(coef []float64, x float64) float64 {
	sum := coef[len(coef)-1]
	for i := len(coef) - 2; i >= 0; i-- {
		sum = float64(sum * x)
		sum += coef[i]
	}
	return sum
}

// run resamples one channel's whole signal.
func (r *resampler) run(x []float64) []float64 {
	n := len(x)
	L := r.length
	phases := int64(r.phases)
	first := r.startPhase / phases // the first output's first tap: -(L-1)/2
	// What swr holds when it is flushed, past the end of x: a mirror image of the end (half
	// a filter, or half of what it still holds). A signal shorter than L+1 samples is still
	// waiting for its start then; if the mirror does not make up L+1 samples nothing is
	// ever emitted.
	var reflection int
	if n < L+1 {
		reflection = (min(n, L) + 1) / 2
		if n+reflection < L+1 {
			return nil
		}
	} else {
		before := r.outputsFrom(n)
		next := first + r.phaseOf(before)/phases
		left := int64(n) - max(next, 0)
		reflection = int((min(left, int64(L)) + 1) / 2)
	}
	// sig(i) is x followed by its mirrored end; ext holds it after the start mirrored about
	// the first sample (x[-k] = x[k]) and before zeros under the padding taps. Only the float
	// path reads ext32, the others ext: one copy of the signal either way.
	length := n + reflection
	sig := func(i int) float64 {
		if i < n {
			return x[i]
		}
		return x[n-1-(i-n)]
	}
	var ext []float64
	var ext32 []float32
	size := L + length + r.alloc
	if r.in == intFlt {
		ext32 = make([]float32, size)
	} else {
		ext = make([]float64, size)
	}
	put := func(at int, v float64) {
		if ext32 != nil {
			ext32[at] = float32(v)
		} else {
			ext[at] = v
		}
	}
	for k := 1; k <= L && k < length; k++ {
		put(L-k, sig(k))
	}
	for i := range length {
		put(L+i, sig(i))
	}
	total := r.outputsFrom(length)
	out := make([]float64, total)
	index, frac := int64(0), int64(0) // phases from the first output's position
	for k := range out {
		at := int(first+index/phases) + L
		out[k] = r.one(ext, ext32, at, index%phases, frac)
		frac += r.dstIncrMod
		index += r.dstIncrDiv
		if frac >= r.srcIncr {
			frac -= r.srcIncr
			index++
		}
	}
	return out
}

// phaseOf is output k's position in phases from the first output's: floor(k*dstIncr/srcIncr).
func (r *resampler) phaseOf(k int) int64 {
	dst := r.dstIncrDiv*r.srcIncr + r.dstIncrMod
	return int64(k) * dst / r.srcIncr
}

// one is a single output sample: the phase's filter over the taps from ext[at] on, with the
// linear interpolation toward the next phase when the step is not a whole number of phases.
func (r *resampler) one(ext []float64, ext32 []float32, at int, phase, frac int64) float64 {
	L := r.length
	base := int(phase) * r.alloc
	interpolate := r.linear && (frac != 0 || r.dstIncrMod != 0)
	switch r.in {
	case intS16:
		src := ext[at : at+L]
		taps, next := r.bankS16[base:base+L], r.bankS16[base+r.alloc:base+r.alloc+L]
		var val, v2 int32
		for i, x := range src {
			val += int32(x) * int32(taps[i])
		}
		if interpolate {
			for i, x := range src {
				v2 += int32(x) * int32(next[i])
			}
			val += int32((int64(v2) - int64(val)) * frac / r.srcIncr)
		}
		return float64(clip16(float64((val + 1<<14) >> 15)))
	case intFlt:
		src := ext32[at : at+r.alloc]
		val := fmaSum8(src, r.bankFlt[base:base+r.alloc])
		if interpolate {
			v2 := fmaSum8(src, r.bankFlt[base+r.alloc:base+2*r.alloc])
			inv := 1.0 / float64(r.srcIncr)
			step := float64(float64(v2-val) * inv)
			step = float64(step * float64(frac))
			val = float32(float64(val) + step)
		}
		return float64(val)
	default:
		src := ext[at : at+L]
		taps, next := r.bankDbl[base:base+L], r.bankDbl[base+r.alloc:base+r.alloc+L]
		var val, v2 float64
		for i, x := range src {
			val += float64(x * taps[i])
		}
		if interpolate {
			for i, x := range src {
				v2 += float64(x * next[i])
			}
			inv := 1.0 / float64(r.srcIncr)
			step := float64((v2 - val) * inv)
			val += float64(step * float64(frac))
		}
		return val
	}
}

// fmaSum8 is the float filter as FFmpeg's x86-64 kernel computes it
// (resample_common_float_fma3, in 256-bit registers): eight running sums, lane l over taps
// l, l+8, … of the phase's whole allocation (its padding taps are zero), each step a fused
// multiply-add, then ((v0+v4)+(v2+v6)) + ((v1+v5)+(v3+v7)). FFmpeg picks that kernel on
// every CPU with FMA3 (legacy's hosts); the sum in another order differs in the last bit,
// and now and then by one after rounding to 16 bits.
func fmaSum8(src, taps []float32) float32 {
	var v [8]float32
	for i := 0; i+8 <= len(taps); i += 8 {
		s, t := src[i:i+8:i+8], taps[i:i+8:i+8]
		for l := range 8 {
			// A float32 product is exact in float64, so this is a fused multiply-add
			// rounded to float32 (through float64: the two roundings agree but for a
			// sum landing exactly between two float32s, which the parity cases never meet).
			v[l] = float32(float64(s[l])*float64(t[l]) + float64(v[l]))
		}
	}
	a0, a1, a2, a3 := v[0]+v[4], v[1]+v[5], v[2]+v[6], v[3]+v[7]
	return (a0 + a2) + (a1 + a3)
}

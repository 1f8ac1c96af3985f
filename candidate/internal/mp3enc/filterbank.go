package mp3enc

import "math"

// The hybrid analysis filterbank of ISO/IEC 11172-3 Annex C.1.5.3: a 32-band polyphase
// filterbank (C.1.3, Figure C.4) followed by an 18-line MDCT per subband with the long
// (type 0) window and the alias-reduction butterflies, the exact inverse of what a
// decoder does in 2.4.3.4.

// polyMatrix is M[i][k] = cos((2i+1)(k-16)pi/64), the matrixing step of C.1.3.
var polyMatrix = func() (m [32][64]float64) {
	for i := range 32 {
		for k := range 64 {
			m[i][k] = math.Cos(float64((2*i+1)*(k-16)) * math.Pi / 64)
		}
	}
	return m
}()

// mdctTable folds the long-block window sin(pi/36 (k+1/2)) into the MDCT kernel
// cos(pi/72 (2k+1+18)(2i+1)), scaled by 1/9: an unnormalised MDCT followed by the
// decoder's unnormalised IMDCT and overlap-add returns 9 times the input, and the
// decoder's requantisation expects the plain spectral value.
var mdctTable = func() (t [18][36]float64) {
	for i := range 18 {
		for k := range 36 {
			w := math.Sin(math.Pi / 36 * (float64(k) + 0.5))
			t[i][k] = w * math.Cos(math.Pi/72*float64((2*k+1+18)*(2*i+1))) / 9
		}
	}
	return t
}()

// filterbank holds the analysis state: the last 512 input samples and the previous
// granule's subband samples (the first half of each MDCT window).
type filterbank struct {
	hist [512]float64    // chronological, hist[511] newest
	prev [32][18]float64 // previous granule, per subband
}

// analyze turns one granule of 576 samples (scaled to [-1, 1)) into 576 MDCT lines.
func (fb *filterbank) analyze(in []float64, xr *[granuleSize]float64) {
	var cur [32][18]float64
	var y [64]float64
	for slot := range 18 {
		copy(fb.hist[:480], fb.hist[32:])
		copy(fb.hist[480:], in[slot*32:slot*32+32])
		// Z[i] = C[i]*X[i] with X[0] the newest sample; Y[k] = sum_j Z[k+64j].
		for k := range 64 {
			s := 0.0
			for j := 0; j < 8; j++ {
				i := k + 64*j
				s += analysisWindow[i] * fb.hist[511-i]
			}
			y[k] = s
		}
		for sb := range 32 {
			row := &polyMatrix[sb]
			s := 0.0
			for k := range 64 {
				s += row[k] * y[k]
			}
			// The decoder inverts every odd time sample of every odd subband (2.4.3.4.10,
			// "frequency inversion"); doing it here as well cancels it.
			if sb&1 == 1 && slot&1 == 1 {
				s = -s
			}
			cur[sb][slot] = s
		}
	}
	var z [36]float64
	for sb := range 32 {
		copy(z[:18], fb.prev[sb][:])
		copy(z[18:], cur[sb][:])
		for i := range 18 {
			row := &mdctTable[i]
			s := 0.0
			for k := range 36 {
				s += row[k] * z[k]
			}
			xr[sb*18+i] = s
		}
	}
	fb.prev = cur
	// Alias reduction (C.1.5.3.3): the inverse of the decoder's butterflies of 2.4.3.4.9.
	for sb := 1; sb < 32; sb++ {
		for i := range 8 {
			lo, hi := sb*18-1-i, sb*18+i
			a, b := xr[lo], xr[hi]
			xr[lo] = a*aliasCS[i] + b*aliasCA[i]
			xr[hi] = b*aliasCS[i] - a*aliasCA[i]
		}
	}
}

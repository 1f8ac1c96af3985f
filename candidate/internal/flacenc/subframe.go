package flacenc

import (
	"math"
	"math/bits"
)

// Subframe types and limits (RFC 9639 9.2).
const (
	maxFixedOrder  = 4
	maxLPCOrder    = 8  // FFmpeg's default (compression level 5) uses up to 8 too
	maxRiceOrder   = 8  // partition order searched up to 2^8 partitions
	riceEscape4    = 15 // parameter value reserved as escape with 4-bit parameters
	maxRiceParam4  = 14
	maxRiceParam5  = 30
	subframeHeader = 8 // zero bit, 6-bit type, wasted-bits flag
)

// scratch holds per-encoder buffers so a block allocates nothing.
type scratch struct {
	res, best []int64
	u         []uint64
	params    [1 << maxRiceOrder]int
	bestParam [1 << maxRiceOrder]int
	window    []float64
	wlen      int
	wx        []float64
}

func (s *scratch) grow(n int) {
	if cap(s.res) < n {
		s.res = make([]int64, n)
		s.best = make([]int64, n)
		s.u = make([]uint64, n)
		s.wx = make([]float64, n)
	}
	s.res, s.best, s.u, s.wx = s.res[:n], s.best[:n], s.u[:n], s.wx[:n]
}

// choice is a coded residual: predictor description and Rice partitioning.
type choice struct {
	kind      int // kindConstant, kindVerbatim, kindFixed, kindLPC
	order     int
	coefs     [maxLPCOrder]int32
	precision int // bits per quantized LPC coefficient
	shift     int
	porder    int
	wide      bool // 5-bit Rice parameters
	bits      int  // total subframe bits
}

const (
	kindConstant = iota
	kindVerbatim
	kindFixed
	kindLPC
)

// encodeSubframe writes the cheapest subframe for x.
func encodeSubframe(w *bitWriter, x []int32, s *scratch) {
	n := len(x)
	s.grow(n)
	constant := true
	for _, v := range x[1:] {
		if v != x[0] {
			constant = false
			break
		}
	}
	if constant {
		w.put(0, 8) // zero bit, type 000000 (CONSTANT), no wasted bits
		w.put(uint64(uint32(x[0])), bitsPerSample)
		return
	}
	best := choice{kind: kindVerbatim, bits: subframeHeader + n*bitsPerSample}
	consider := func(c choice) {
		if c.bits < best.bits {
			best = c
			copy(s.best, s.res)
			copy(s.bestParam[:], s.params[:])
		}
	}
	for order := 0; order <= maxFixedOrder && order < n; order++ {
		fixedResidual(x, order, s.res)
		c := choice{kind: kindFixed, order: order}
		c.porder, c.wide, c.bits = riceSearch(s.res[order:], n, order, s)
		c.bits += subframeHeader + order*bitsPerSample + 6
		consider(c)
	}
	if n > maxLPCOrder*2 {
		lpcCandidates(x, s, consider)
	}
	if best.kind == kindFixed || best.kind == kindLPC {
		refineParams(&best, n, s)
	}
	writeChoice(w, x, &best, s)
}

// fixedResidual is the residual of the fixed polynomial predictor of the order
// (RFC 9639 9.2.5), for samples order..n-1.
func fixedResidual(x []int32, order int, res []int64) {
	for i := order; i < len(x); i++ {
		a := int64(x[i])
		switch order {
		case 0:
			res[i] = a
		case 1:
			res[i] = a - int64(x[i-1])
		case 2:
			res[i] = a - 2*int64(x[i-1]) + int64(x[i-2])
		case 3:
			res[i] = a - 3*int64(x[i-1]) + 3*int64(x[i-2]) - int64(x[i-3])
		case 4:
			res[i] = a - 4*int64(x[i-1]) + 6*int64(x[i-2]) - 4*int64(x[i-3]) + int64(x[i-4])
		}
	}
}

// lpcCandidates offers LPC predictors (RFC 9639 9.2.6): autocorrelation of the windowed
// block, Levinson-Durbin recursion, coefficients quantized with the rounding error carried
// to the next one. Two windows (Welch, which suits noisy sound, and a flat one, which suits
// stationary tones), for each the orders the recursion's prediction error says are
// cheapest, and two coefficient precisions: 12 bits costs fewer header bits, 15 (the most
// FFmpeg uses) predicts strongly periodic sound (vowels, tones) better.
func lpcCandidates(x []int32, s *scratch, consider func(choice)) {
	n := len(x)
	if s.wlen != n {
		s.window = make([]float64, n)
		for i := range n {
			t := 2*float64(i)/float64(n-1) - 1
			s.window[i] = 1 - t*t
		}
		s.wlen = n
	}
	for _, windowed := range [...]bool{true, false} {
		tries := 1
		if windowed {
			tries = 2
		}
		lpc, orders := levinson(x, s, windowed, tries)
		for _, order := range orders {
			for _, precision := range [...]int{12, 15} {
				c := choice{kind: kindLPC, order: order, precision: precision}
				if !quantizeLPC(lpc[order][:order], &c) {
					continue
				}
				lpcResidual(x, &c, s.res)
				c.porder, c.wide, c.bits = riceSearch(s.res[order:], n, order, s)
				c.bits += subframeHeader + order*bitsPerSample + 4 + 5 + order*precision
				consider(c)
			}
		}
	}
}

// levinson returns the predictors of every order for x (windowed or not) and the tries
// orders whose estimated cost (half a bit per sample per halving of the prediction error,
// plus the warm-up samples and coefficients) is lowest.
func levinson(x []int32, s *scratch, windowed bool, tries int) (lpc [maxLPCOrder + 1][maxLPCOrder]float64, orders []int) {
	n := len(x)
	var ac [maxLPCOrder + 1]float64
	wx := s.wx[:n]
	for i, v := range x {
		wx[i] = float64(v)
		if windowed {
			wx[i] *= s.window[i]
		}
	}
	for lag := 0; lag <= maxLPCOrder; lag++ {
		sum := 0.0
		for i := lag; i < n; i++ {
			sum += wx[i] * wx[i-lag]
		}
		ac[lag] = sum
	}
	if ac[0] == 0 {
		return lpc, nil
	}
	ac[0] *= 1 + 1e-9 // a touch of white noise keeps the recursion stable
	var a, tmp [maxLPCOrder]float64
	var cost [maxLPCOrder + 1]float64
	errv := ac[0]
	maxOrder := 0
	for m := range maxLPCOrder {
		r := -ac[m+1]
		for j := range m {
			r -= a[j] * ac[m-j]
		}
		k := r / errv
		copy(tmp[:], a[:])
		for j := range m {
			a[j] = tmp[j] + k*tmp[m-1-j]
		}
		a[m] = k
		errv *= 1 - k*k
		if !(errv > 0) { // exact prediction or numerical trouble: stop here
			break
		}
		for j := 0; j <= m; j++ {
			lpc[m+1][j] = -a[j] // predictor: x[i] ~ sum lpc[j] x[i-1-j]
		}
		maxOrder = m + 1
		cost[m+1] = 0.5*float64(n)*math.Log2(errv) + float64((m+1)*(bitsPerSample+12))
	}
	for range tries {
		best := 0
		for m := 1; m <= maxOrder; m++ {
			if cost[m] != math.Inf(1) && (best == 0 || cost[m] < cost[best]) {
				best = m
			}
		}
		if best == 0 {
			break
		}
		orders = append(orders, best)
		cost[best] = math.Inf(1)
	}
	return lpc, orders
}

// quantizeLPC sets c.coefs and c.shift for c.precision; false when the coefficients are
// unusable.
func quantizeLPC(coefs []float64, c *choice) bool {
	cmax := 0.0
	for _, v := range coefs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
		cmax = max(cmax, math.Abs(v))
	}
	if cmax == 0 {
		return false
	}
	_, exp := math.Frexp(cmax) // cmax = frac * 2^exp, frac in [0.5, 1)
	if exp > 8 {
		// An ill-conditioned predictor (coefficients of 256 and more) would make residuals
		// beyond 32 bits, which decoders need not handle; it never pays anyway.
		return false
	}
	shift := c.precision - 1 - exp
	shift = min(shift, 15) // a 5-bit signed field; negative shifts are not allowed
	if shift < 0 {
		return false
	}
	limit := float64(int(1)<<(c.precision-1)) - 1
	errv := 0.0
	for i, v := range coefs {
		q := math.Round(v*float64(int(1)<<shift) + errv)
		q = max(-limit-1, min(limit, q))
		errv += v*float64(int(1)<<shift) - q
		c.coefs[i] = int32(q)
	}
	c.shift = shift
	return true
}

// lpcResidual is the residual of the quantized predictor for samples order..n-1.
func lpcResidual(x []int32, c *choice, res []int64) {
	for i := c.order; i < len(x); i++ {
		var sum int64
		for j := range c.order {
			sum += int64(c.coefs[j]) * int64(x[i-1-j])
		}
		res[i] = int64(x[i]) - sum>>c.shift
	}
}

// riceSearch finds the partition order and Rice parameters (left in s.params) for res (the
// residual after the order warm-up samples of an n-sample block) and returns them with the
// bit count of the residual section: method, partition order and every partition. The
// sums of the finest partitions are merged pairwise for the coarser orders, and each
// partition's parameter and cost come from its sum (riceFromSum), so a search costs one
// pass over the residual whatever the number of orders tried.
func riceSearch(res []int64, n, order int, s *scratch) (porder int, wide bool, total int) {
	maxP := 0
	for p := 1; p <= maxRiceOrder; p++ {
		if n%(1<<p) != 0 || n>>p <= order {
			break
		}
		maxP = p
	}
	var sums [1 << maxRiceOrder]uint64
	size := n >> maxP
	pos := 0
	for k := range 1 << maxP {
		cnt := size
		if k == 0 {
			cnt -= order
		}
		var sum uint64
		for _, r := range res[pos : pos+cnt] {
			sum += uint64(r<<1) ^ uint64(r>>63) // zigzag: 0, -1, 1, -2 ... -> 0, 1, 2, 3 ...
		}
		sums[k] = sum
		pos += cnt
	}
	bestBits := math.MaxInt
	for p := maxP; p >= 0; p-- {
		if p < maxP { // merge pairs: partition k of order p covers 2k and 2k+1 of p+1
			for k := range 1 << p {
				sums[k] = sums[2*k] + sums[2*k+1]
			}
		}
		parts := 1 << p
		bitsP, w := 0, false
		var params [1 << maxRiceOrder]int
		for k := range parts {
			cnt := n >> p
			if k == 0 {
				cnt -= order
			}
			param, b := riceFromSum(sums[k], cnt)
			params[k] = param
			bitsP += b
			w = w || param > maxRiceParam4
		}
		if w {
			bitsP += parts * 5
		} else {
			bitsP += parts * 4
		}
		if bitsP < bestBits {
			bestBits, porder, wide = bitsP, p, w
			copy(s.params[:parts], params[:parts])
		}
	}
	return porder, wide, bestBits + 2 + 4 // coding method, partition order
}

// riceFromSum picks the Rice parameter for cnt values summing to sum, and bounds the cost:
// cnt*(k+1) unary stops and low bits plus sum>>k quotient bits, never less than the exact
// cost (floor(sum/2^k) >= the sum of each value's floor), so a predictor judged cheaper than
// VERBATIM by these numbers really is.
func riceFromSum(sum uint64, cnt int) (param, cost int) {
	if cnt == 0 {
		return 0, 0
	}
	est := 0
	if mean := sum / uint64(cnt); mean > 0 {
		est = bits.Len64(mean) - 1
	}
	best, bestCost := 0, math.MaxInt
	for k := max(est-1, 0); k <= min(est+1, maxRiceParam5); k++ {
		c := cnt*(k+1) + int(sum>>k)
		if c < bestCost {
			best, bestCost = k, c
		}
	}
	return best, bestCost
}

// riceParam picks the Rice parameter for the zigzagged values u with their exact cost: the
// estimate from their mean, refined by the exact cost of its neighbours. It settles the
// parameters of the predictor finally chosen.
func riceParam(u []uint64) (param, cost int) {
	n := len(u)
	if n == 0 {
		return 0, 0
	}
	var sum uint64
	for _, v := range u {
		sum += v
	}
	est := 0
	if mean := sum / uint64(n); mean > 0 {
		est = bits.Len64(mean) - 1
	}
	best, bestCost := 0, math.MaxInt
	for k := max(est-2, 0); k <= min(est+2, maxRiceParam5); k++ {
		b := n * (k + 1)
		for _, v := range u {
			b += int(v >> k)
		}
		if b < bestCost {
			best, bestCost = k, b
		}
	}
	return best, bestCost
}

// refineParams replaces the estimated parameters of the chosen subframe with exact ones
// and settles whether it needs 5-bit parameters.
func refineParams(c *choice, n int, s *scratch) {
	u := s.u
	pos := c.order
	c.wide = false
	for k := range 1 << c.porder {
		end := pos + n>>c.porder
		if k == 0 {
			end -= c.order
		}
		m := 0
		for _, r := range s.best[pos:end] {
			u[m] = uint64(r<<1) ^ uint64(r>>63)
			m++
		}
		s.bestParam[k], _ = riceParam(u[:m])
		c.wide = c.wide || s.bestParam[k] > maxRiceParam4
		pos = end
	}
}

// writeChoice writes the chosen subframe; s.best and s.bestParam hold its residual and
// Rice parameters.
func writeChoice(w *bitWriter, x []int32, c *choice, s *scratch) {
	switch c.kind {
	case kindVerbatim:
		w.put(0x02, 8) // type 000001
		for _, v := range x {
			w.put(uint64(uint32(v)), bitsPerSample)
		}
		return
	case kindFixed:
		w.put(uint64(0x08|c.order)<<1, 8) // type 001xxx
	case kindLPC:
		w.put(uint64(0x20|(c.order-1))<<1, 8) // type 1xxxxx
	}
	for _, v := range x[:c.order] {
		w.put(uint64(uint32(v)), bitsPerSample)
	}
	if c.kind == kindLPC {
		w.put(uint64(c.precision-1), 4)
		w.put(uint64(c.shift), 5)
		for _, q := range c.coefs[:c.order] {
			w.put(uint64(uint32(q)), uint(c.precision))
		}
	}
	pbits := uint(4)
	if c.wide {
		w.put(1, 2)
		pbits = 5
	} else {
		w.put(0, 2)
	}
	w.put(uint64(c.porder), 4)
	n := len(x)
	parts := 1 << c.porder
	pos := c.order
	for k := range parts {
		end := pos + n>>c.porder
		if k == 0 {
			end -= c.order
		}
		param := s.bestParam[k]
		w.put(uint64(param), pbits)
		for _, r := range s.best[pos:end] {
			v := uint64(r<<1) ^ uint64(r>>63)
			w.putUnary(v >> param)
			w.put(v&(1<<param-1), uint(param))
		}
		pos = end
	}
}

package mp3enc

import "math"

// granule is one coded granule: the side-information fields of 11172-3 2.4.1.7 for a
// long-block granule without scalefactors (scalefac_compress 0: part2 is empty), and the
// quantized lines they describe.
type granule struct {
	part23      int // part2_3_length in bits
	bigValues   int // pairs in the big-values region
	globalGain  int
	tables      [3]int
	region0     int // region0_count
	region1     int // region1_count
	count1Table int // 0: table A, 1: table B
	count1End   int // first line of the all-zero "rzero" region
	ix          [granuleSize]int32
}

// quantize sets g.ix for global gain gg: ix = nint(|xr|^(3/4) * 2^(-3/16 (gg-210)) - 0.0946)
// (the quantizer of 11172-3 C.1.5.4.4.2, scalefactors zero). It reports the largest value.
func quantize(xr34 *[granuleSize]float64, limit int, gg int, ix *[granuleSize]int32) int {
	step := math.Exp2(-0.1875 * float64(gg-210))
	maxv := 0
	for i := range limit {
		v := int(xr34[i]*step + 0.4054)
		if v > maxQuant+1 { // saturate: the caller rejects the gain anyway
			v = maxQuant + 1
		}
		ix[i] = int32(v)
		maxv = max(maxv, v)
	}
	for i := limit; i < granuleSize; i++ {
		ix[i] = 0
	}
	return maxv
}

// partition finds the count1 and big-values regions of ix (2.4.2.7 "big_values",
// "count1"): trailing zero pairs form rzero, then trailing quadruples of magnitude <= 1.
func partition(ix *[granuleSize]int32) (bigEnd, count1End int) {
	i := granuleSize
	for i > 1 && ix[i-1] == 0 && ix[i-2] == 0 {
		i -= 2
	}
	count1End = i
	for i > 3 && ix[i-1] <= 1 && ix[i-2] <= 1 && ix[i-3] <= 1 && ix[i-4] <= 1 {
		i -= 4
	}
	return i, count1End
}

// pairBits is the length of the pairs in ix[lo:hi] coded with table t, signs and linbits
// included.
func pairBits(ix *[granuleSize]int32, lo, hi, t int) int {
	if t == 0 || lo >= hi {
		return 0
	}
	tab := &bigTables[t]
	n := 0
	for i := lo; i < hi; i += 2 {
		x, y := int(ix[i]), int(ix[i+1])
		if tab.linbits > 0 {
			if x >= 15 {
				x = 15
				n += tab.linbits
			}
			if y >= 15 {
				y = 15
				n += tab.linbits
			}
		}
		n += int(tab.lens[x*tab.xlen+y])
		if ix[i] != 0 {
			n++
		}
		if ix[i+1] != 0 {
			n++
		}
	}
	return n
}

// candidates lists the tables that can code a region whose largest value is maxv: the
// smallest tables that fit (they are tuned to that range, 11172-3 Annex B), or for
// values above 15 the smallest linbits of each escape family.
func candidates(maxv int, out *[3]int) []int {
	switch {
	case maxv == 0:
		out[0] = 0
		return out[:1]
	case maxv == 1:
		out[0] = 1
		return out[:1]
	case maxv == 2:
		out[0], out[1] = 2, 3
		return out[:2]
	case maxv == 3:
		out[0], out[1] = 5, 6
		return out[:2]
	case maxv <= 5:
		out[0], out[1], out[2] = 7, 8, 9
		return out[:3]
	case maxv <= 7:
		out[0], out[1], out[2] = 10, 11, 12
		return out[:3]
	case maxv <= 15:
		out[0], out[1] = 13, 15
		return out[:2]
	}
	n := 0
	for t := 16; t < 24; t++ {
		if maxv-15 < 1<<bigTables[t].linbits {
			out[n] = t
			n++
			break
		}
	}
	for t := 24; t < 32; t++ {
		if maxv-15 < 1<<bigTables[t].linbits {
			out[n] = t
			n++
			break
		}
	}
	return out[:n]
}

// bestTable picks the cheapest table for ix[lo:hi].
func bestTable(ix *[granuleSize]int32, lo, hi int) (table, bits int) {
	maxv := 0
	for i := lo; i < hi; i++ {
		maxv = max(maxv, int(ix[i]))
	}
	var buf [3]int
	best, bestBits := 0, math.MaxInt
	for _, t := range candidates(maxv, &buf) {
		if b := pairBits(ix, lo, hi, t); b < bestBits {
			best, bestBits = t, b
		}
	}
	return best, bestBits
}

// count1Bits is the cost of the quadruples in ix[lo:hi] with table A and with table B.
func count1Bits(ix *[granuleSize]int32, lo, hi int) (a, b int) {
	for i := lo; i < hi; i += 4 {
		idx := ix[i]<<3 | ix[i+1]<<2 | ix[i+2]<<1 | ix[i+3]
		signs := int(ix[i] + ix[i+1] + ix[i+2] + ix[i+3])
		a += int(quadLenA[idx]) + signs
		b += 4 + signs
	}
	return a, b
}

// regionBounds returns where region1 and region2 start for the region counts, clipped to
// the end of the big-values region (2.4.2.7 "region0_count", "region1_count").
func regionBounds(sfb *[23]int, r0, r1, bigEnd int) (int, int) {
	a := sfb[min(r0+1, 22)]
	b := sfb[min(r0+r1+2, 22)]
	return min(a, bigEnd), min(b, bigEnd)
}

// layout fills the region, table and count1 fields of g for its quantized lines and
// returns part3 length. With search it tries every region split (the side information
// allows region0_count < 16, region1_count < 8) and keeps the cheapest; otherwise it splits
// the used scalefactor bands roughly in thirds, which is what the rate loop needs to judge
// a gain quickly.
func layout(g *granule, sfb *[23]int, search bool) int {
	bigEnd, c1End := partition(&g.ix)
	g.bigValues = bigEnd / 2
	g.count1End = c1End
	a, b := count1Bits(&g.ix, bigEnd, c1End)
	bits := a
	g.count1Table = 0
	if b < a {
		bits, g.count1Table = b, 1
	}
	if bigEnd == 0 {
		g.tables = [3]int{}
		g.region0, g.region1 = 0, 0
		return bits
	}
	bands := 0 // scalefactor bands touched by the big-values region
	for bands < 22 && sfb[bands] < bigEnd {
		bands++
	}
	if !search {
		r0 := max((bands+2)/3, 1)
		r1 := max((2*bands+2)/3-r0, 1)
		g.region0, g.region1 = min(r0-1, 15), min(r1-1, 7)
		return bits + g.regionCost(sfb, bigEnd, g.region0, g.region1, true)
	}
	bc := newBandCoster(&g.ix, sfb, bigEnd)
	best := math.MaxInt
	var bestR0, bestR1 int
	for r0 := 0; r0 < 16; r0++ {
		if r0 > 0 && r0+1 > bc.nb {
			break
		}
		for r1 := 0; r1 < 8; r1++ {
			a, b := min(r0+1, bc.nb), min(r0+r1+2, bc.nb)
			_, c0 := bc.region(0, a)
			_, c1 := bc.region(a, b)
			_, c2 := bc.region(b, bc.nb)
			if c := c0 + c1 + c2; c < best {
				best, bestR0, bestR1 = c, r0, r1
			}
			if r0+r1+2 >= bc.nb {
				break
			}
		}
	}
	g.region0, g.region1 = bestR0, bestR1
	return bits + g.regionCost(sfb, bigEnd, bestR0, bestR1, true)
}

// bandCoster memoizes the cost of each scalefactor band (clipped to the big-values region)
// under each table, so the search over region splits adds up band costs instead of
// recounting lines.
type bandCoster struct {
	ix     *[granuleSize]int32
	lo, hi [22]int
	maxv   [22]int
	nb     int
	cost   [22][32]int32 // -1: not computed yet
}

func newBandCoster(ix *[granuleSize]int32, sfb *[23]int, bigEnd int) *bandCoster {
	bc := &bandCoster{ix: ix}
	for b := 0; b < 22 && sfb[b] < bigEnd; b++ {
		bc.lo[b], bc.hi[b] = sfb[b], min(sfb[b+1], bigEnd)
		for i := bc.lo[b]; i < bc.hi[b]; i++ {
			bc.maxv[b] = max(bc.maxv[b], int(ix[i]))
		}
		for t := range bc.cost[b] {
			bc.cost[b][t] = -1
		}
		bc.nb = b + 1
	}
	return bc
}

// region is the cheapest table and its cost for bands [b0, b1).
func (bc *bandCoster) region(b0, b1 int) (table, cost int) {
	if b0 >= b1 {
		return 0, 0
	}
	maxv := 0
	for b := b0; b < b1; b++ {
		maxv = max(maxv, bc.maxv[b])
	}
	var buf [3]int
	best, bestCost := 0, math.MaxInt
	for _, t := range candidates(maxv, &buf) {
		c := 0
		for b := b0; b < b1; b++ {
			if bc.cost[b][t] < 0 {
				bc.cost[b][t] = int32(pairBits(bc.ix, bc.lo[b], bc.hi[b], t))
			}
			c += int(bc.cost[b][t])
		}
		if c < bestCost {
			best, bestCost = t, c
		}
	}
	return best, bestCost
}

// regionCost is the cost of the three big-values regions for one split; with set it also
// stores the chosen tables.
func (g *granule) regionCost(sfb *[23]int, bigEnd, r0, r1 int, set bool) int {
	a, b := regionBounds(sfb, r0, r1, bigEnd)
	t0, n0 := bestTable(&g.ix, 0, a)
	t1, n1 := bestTable(&g.ix, a, b)
	t2, n2 := bestTable(&g.ix, b, bigEnd)
	if set {
		g.tables = [3]int{t0, t1, t2}
	}
	return n0 + n1 + n2
}

// rateLoop quantizes xr into g with the smallest global gain (finest quantizer) whose
// Huffman coding fits budget bits: the inner iteration loop of 11172-3 C.1.5.4.4. Lines
// at and above limit are not coded (the low-pass).
func rateLoop(xr *[granuleSize]float64, limit, budget int, sfb *[23]int, g *granule) {
	budget = min(budget, 4095) // part2_3_length is 12 bits
	var xr34 [granuleSize]float64
	peak := 0.0
	for i := range limit {
		v := math.Sqrt(math.Sqrt(math.Abs(xr[i])))
		v = v * v * v // |xr|^(3/4)
		xr34[i] = v
		peak = max(peak, v)
	}
	g.count1Table = 0
	if peak == 0 || budget <= 0 {
		*g = granule{globalGain: 0}
		return
	}
	// The smallest gain whose largest value stays codable: peak*2^(-3/16 (gg-210)) < maxQuant.
	lo := int(math.Ceil(210 - 16.0/3*math.Log2(float64(maxQuant)/peak)))
	lo = max(min(lo, 255), 0)
	hi := 255
	fits := func(gg int) bool {
		if quantize(&xr34, limit, gg, &g.ix) > maxQuant {
			return false
		}
		return layout(g, sfb, false) <= budget
	}
	if !fits(hi) {
		*g = granule{globalGain: 0} // nothing codable fits: silence is valid
		return
	}
	for lo < hi {
		mid := (lo + hi) / 2
		if fits(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	g.globalGain = hi
	quantize(&xr34, limit, hi, &g.ix)
	g.part23 = layout(g, sfb, true)
	// The searched layout can only be cheaper; now spend what is left on a finer gain when
	// the better split makes room for it.
	for hi > 0 {
		var trial granule
		if quantize(&xr34, limit, hi-1, &trial.ix) > maxQuant {
			break
		}
		bits := layout(&trial, sfb, true)
		if bits > budget {
			break
		}
		trial.globalGain = hi - 1
		trial.part23 = bits
		*g = trial
		hi--
	}
}

// writeHuffman appends the Huffman-coded lines of g (part3, 2.4.1.7 "huffmancodebits").
// The sign of each nonzero line comes from xr (1 is negative, 2.4.2.7 "signv").
func writeHuffman(w *bitWriter, g *granule, sfb *[23]int, xr *[granuleSize]float64) {
	sign := func(i int) {
		if xr[i] < 0 {
			w.put(1, 1)
		} else {
			w.put(0, 1)
		}
	}
	bigEnd := g.bigValues * 2
	a, b := regionBounds(sfb, g.region0, g.region1, bigEnd)
	for i := 0; i < bigEnd; i += 2 {
		t := g.tables[2]
		if i < a {
			t = g.tables[0]
		} else if i < b {
			t = g.tables[1]
		}
		if t == 0 {
			continue
		}
		tab := &bigTables[t]
		x, y := int(g.ix[i]), int(g.ix[i+1])
		cx, cy := x, y
		if tab.linbits > 0 {
			cx, cy = min(x, 15), min(y, 15)
		}
		k := cx*tab.xlen + cy
		w.put(uint32(tab.codes[k]), uint(tab.lens[k]))
		if tab.linbits > 0 && x >= 15 {
			w.put(uint32(x-15), uint(tab.linbits))
		}
		if x != 0 {
			sign(i)
		}
		if tab.linbits > 0 && y >= 15 {
			w.put(uint32(y-15), uint(tab.linbits))
		}
		if y != 0 {
			sign(i + 1)
		}
	}
	for i := bigEnd; i < g.count1End; i += 4 {
		idx := g.ix[i]<<3 | g.ix[i+1]<<2 | g.ix[i+2]<<1 | g.ix[i+3]
		if g.count1Table == 0 {
			w.put(uint32(quadCodeA[idx]), uint(quadLenA[idx]))
		} else {
			w.put(uint32(15-idx), 4)
		}
		for j := range 4 {
			if g.ix[i+j] != 0 {
				sign(i + j)
			}
		}
	}
}

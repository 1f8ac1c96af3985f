package mp3enc

import (
	"errors"
	"math"
	"testing"
)

// A minimal Layer III decoder for exactly what this package writes (single channel, long
// blocks, no scalefactors, the bit reservoir), written from the decoding process of
// 11172-3 2.4.3.4 and the synthesis of 2.4.3.2 (Figure A.2), to prove the round trip in Go.
// tests/candidate/test_audio_encoders.py checks the same against FFmpeg.

type reader struct {
	b   []byte
	pos int
}

func (r *reader) bits(n int) int {
	v := 0
	for range n {
		bit := 0
		if r.pos < 8*len(r.b) {
			bit = int(r.b[r.pos/8] >> (7 - r.pos%8) & 1)
		}
		v = v<<1 | bit
		r.pos++
	}
	return v
}

// huffDecode reads one code of a table given as codes/lengths.
func huffDecode(r *reader, codes []uint16, lens []uint8) (int, error) {
	code, n := 0, 0
	for n < 20 {
		code = code<<1 | r.bits(1)
		n++
		for i := range codes {
			if int(lens[i]) == n && int(codes[i]) == code {
				return i, nil
			}
		}
	}
	return 0, errors.New("no code matches")
}

type synth struct {
	prev [32][18]float64 // IMDCT overlap
	v    [1024]float64
}

// decodeStream decodes frames (ID3 tag and Info frame skipped) to samples, trimming nothing.
func decodeStream(t *testing.T, data []byte) (samples []float64, begins []int) {
	t.Helper()
	frames := splitFrames(t, data)
	var out []float64
	var s synth
	var reservoir []byte // main data stream: every payload so far
	for _, fr := range frames {
		h := parseHeader(fr)
		var f format
		for _, c := range formats {
			if c.version == h.version && c.rateIndex == h.rateIndex {
				f = c
			}
		}
		if string(fr[4+f.sideInfo:4+f.sideInfo+4]) == "Info" {
			continue
		}
		r := &reader{b: fr[4:]}
		mpeg1 := f.version == versionMPEG1
		var begin int
		if mpeg1 {
			begin = r.bits(9)
			r.bits(5 + 4)
		} else {
			begin = r.bits(8)
			r.bits(1)
		}
		if begin > len(reservoir) {
			t.Fatalf("main_data_begin %d reaches before the stream (%d bytes)", begin, len(reservoir))
		}
		gs := make([]granule, f.granules)
		for i := range gs {
			g := &gs[i]
			g.part23, g.bigValues, g.globalGain = r.bits(12), r.bits(9), r.bits(8)
			sfc := 9
			if mpeg1 {
				sfc = 4
			}
			if r.bits(sfc) != 0 || r.bits(1) != 0 {
				t.Fatal("scalefac_compress and window switching are always 0")
			}
			for j := range g.tables {
				g.tables[j] = r.bits(5)
			}
			g.region0, g.region1 = r.bits(4), r.bits(3)
			if mpeg1 {
				r.bits(1)
			}
			r.bits(1)
			g.count1Table = r.bits(1)
		}
		if r.pos != 8*f.sideInfo {
			t.Fatalf("side info is %d bits", r.pos)
		}
		begins = append(begins, begin)
		start := len(reservoir) - begin
		reservoir = append(reservoir, fr[4+f.sideInfo:]...)
		r = &reader{b: reservoir[start:]}
		for i := range gs {
			g := &gs[i]
			start := r.pos
			var xr [granuleSize]float64
			if err := decodeGranule(r, g, f.sfb, &xr, start+g.part23); err != nil {
				t.Fatal(err)
			}
			if r.pos != start+g.part23 {
				t.Fatalf("granule read %d bits, part2_3_length %d", r.pos-start, g.part23)
			}
			out = append(out, s.hybrid(&xr)...)
		}
	}
	return out, begins
}

func decodeGranule(r *reader, g *granule, sfb *[23]int, xr *[granuleSize]float64, end int) error {
	var ix [granuleSize]int
	bigEnd := 2 * g.bigValues
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
		k, err := huffDecode(r, tab.codes, tab.lens)
		if err != nil {
			return err
		}
		for j, v := range [2]int{k / tab.xlen, k % tab.xlen} {
			if tab.linbits > 0 && v == 15 {
				v += r.bits(tab.linbits)
			}
			if v != 0 && r.bits(1) == 1 {
				v = -v
			}
			ix[i+j] = v
		}
	}
	for i := bigEnd; r.pos < end && i+4 <= granuleSize; i += 4 {
		var q int
		if g.count1Table == 0 {
			lens := quadLenA[:]
			codes := make([]uint16, 16)
			for j, c := range quadCodeA {
				codes[j] = uint16(c)
			}
			var err error
			if q, err = huffDecode(r, codes, lens); err != nil {
				return err
			}
		} else {
			q = 15 - r.bits(4)
		}
		for j := range 4 {
			v := q >> (3 - j) & 1
			if v != 0 && r.bits(1) == 1 {
				v = -v
			}
			ix[i+j] = v
		}
	}
	// Requantization (2.4.3.4.7) with scalefactors 0.
	gain := math.Exp2(0.25 * float64(g.globalGain-210))
	for i, v := range ix {
		m := math.Pow(math.Abs(float64(v)), 4.0/3) * gain
		if v < 0 {
			m = -m
		}
		xr[i] = m
	}
	return nil
}

// hybrid is the decoder's synthesis of one granule: alias reduction, IMDCT with the long
// window and overlap-add, frequency inversion, and the polyphase synthesis filterbank.
func (s *synth) hybrid(xr *[granuleSize]float64) []float64 {
	x := *xr
	for sb := 1; sb < 32; sb++ {
		for i := range 8 {
			lo, hi := sb*18-1-i, sb*18+i
			a, b := x[lo], x[hi]
			x[lo] = a*aliasCS[i] - b*aliasCA[i]
			x[hi] = b*aliasCS[i] + a*aliasCA[i]
		}
	}
	var sub [18][32]float64
	for sb := range 32 {
		var y [36]float64
		for k := range 36 {
			sum := 0.0
			for i := range 18 {
				sum += x[sb*18+i] * math.Cos(math.Pi/72*float64((2*k+1+18)*(2*i+1)))
			}
			y[k] = sum * math.Sin(math.Pi/36*(float64(k)+0.5))
		}
		for k := range 18 {
			v := y[k] + s.prev[sb][k]
			if sb%2 == 1 && k%2 == 1 {
				v = -v
			}
			sub[k][sb] = v
			s.prev[sb][k] = y[k+18]
		}
	}
	out := make([]float64, 0, granuleSize)
	for slot := range 18 {
		copy(s.v[64:], s.v[:1024-64])
		for i := range 64 {
			sum := 0.0
			for k := range 32 {
				sum += math.Cos(float64((16+i)*(2*k+1))*math.Pi/64) * sub[slot][k]
			}
			s.v[i] = sum
		}
		var u [512]float64
		for i := range 8 {
			for j := range 32 {
				u[64*i+j] = s.v[128*i+j]
				u[64*i+32+j] = s.v[128*i+96+j]
			}
		}
		for j := range 32 {
			sum := 0.0
			for i := range 16 {
				sum += u[j+32*i] * 32 * analysisWindow[j+32*i] // D[i] = 32 C[i]
			}
			out = append(out, sum*32768)
		}
	}
	return out
}

func snr(ref []int16, got []float64) float64 {
	var sig, noise float64
	for i, v := range ref {
		sig += float64(v) * float64(v)
		d := got[i] - float64(v)
		noise += d * d
	}
	return 10 * math.Log10(sig/noise)
}

// The decoded stream holds the input exactly codecDelay samples in, at a good SNR for
// every rate, and streams are whole frames covering input and delay.
func TestRoundTripAndCodecDelay(t *testing.T) {
	for _, f := range formats {
		x := tone(f.rate/2, f.rate)
		data, _ := Encode(x, f.rate, 128000)
		y, _ := decodeStream(t, data)
		if len(y) < len(x)+codecDelay {
			t.Fatalf("%d Hz: %d samples decoded for %d", f.rate, len(y), len(x))
		}
		x = x[:len(x)-64] // room for the shifted comparisons below
		got := snr(x, y[codecDelay:])
		if got < 25 {
			t.Errorf("%d Hz: SNR %.1f dB at the codec delay", f.rate, got)
		}
		for _, off := range []int{-32, -1, 1, 32} { // a wrong delay ruins it
			if s := snr(x, y[codecDelay+off:]); s > got-3 {
				t.Errorf("%d Hz: SNR %.1f dB at offset %d rivals %.1f", f.rate, s, off, got)
			}
		}
	}
}

// Quiet frames leave bytes in the reservoir and the loud ones after them use them.
func TestBitReservoir(t *testing.T) {
	for _, rate := range []int{8000, 22050, 44100} {
		x := append(make([]int16, rate/2), tone(rate/2, rate)...)
		data, _ := Encode(x, rate, 32000)
		y, begins := decodeStream(t, data)
		maxBegin := 0
		for _, b := range begins {
			maxBegin = max(maxBegin, b)
		}
		if maxBegin < 100 {
			t.Errorf("%d Hz: main_data_begin never above %d", rate, maxBegin)
		}
		if got := snr(x[:len(x)-64], y[codecDelay:]); got < 10 {
			t.Errorf("%d Hz: SNR %.1f dB", rate, got)
		}
	}
}

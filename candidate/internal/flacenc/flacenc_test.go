package flacenc

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// bitReader and decode are a minimal FLAC decoder for what this package writes (mono,
// 16-bit, CONSTANT/VERBATIM/FIXED/LPC subframes, Rice and Rice2 residuals), to prove the
// round trip inside Go; tests/candidate/test_audio_encoders.py checks against FFmpeg.
type bitReader struct {
	b   []byte
	pos int // bit position
}

func (r *bitReader) bits(n int) (uint64, error) {
	var v uint64
	for range n {
		if r.pos >= 8*len(r.b) {
			return 0, errors.New("read past end")
		}
		v = v<<1 | uint64(r.b[r.pos/8]>>(7-r.pos%8)&1)
		r.pos++
	}
	return v, nil
}

func (r *bitReader) signed(n int) (int64, error) {
	v, err := r.bits(n)
	if n > 0 && v&(1<<(n-1)) != 0 {
		return int64(v) - 1<<n, err
	}
	return int64(v), err
}

func (r *bitReader) must(n int) uint64 {
	v, err := r.bits(n)
	if err != nil {
		panic(err)
	}
	return v
}

type streamInfo struct {
	minBlock, maxBlock, minFrame, maxFrame int
	rate, channels, bps                    int
	total                                  uint64
	md5                                    [16]byte
}

func decode(data []byte) (info streamInfo, samples []int16, frameSizes []int, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("decode: %v", p)
		}
	}()
	if !bytes.HasPrefix(data, []byte("fLaC")) {
		return info, nil, nil, errors.New("no fLaC marker")
	}
	pos := 4
	for {
		last, kind := data[pos]>>7, data[pos]&0x7f
		n := int(data[pos+1])<<16 | int(data[pos+2])<<8 | int(data[pos+3])
		body := data[pos+4 : pos+4+n]
		if kind == 0 {
			r := &bitReader{b: body}
			info.minBlock, info.maxBlock = int(r.must(16)), int(r.must(16))
			info.minFrame, info.maxFrame = int(r.must(24)), int(r.must(24))
			info.rate = int(r.must(20))
			info.channels = int(r.must(3)) + 1
			info.bps = int(r.must(5)) + 1
			info.total = r.must(36)
			copy(info.md5[:], body[18:34])
		}
		pos += 4 + n
		if last == 1 {
			break
		}
	}
	for pos < len(data) {
		start := pos
		r := &bitReader{b: data[pos:]}
		if r.must(15) != 0xfff8>>1 || r.must(1) != 0 {
			return info, nil, nil, fmt.Errorf("bad sync at %d", pos)
		}
		bsCode, rateCode := r.must(4), r.must(4)
		if ch, ss, res := r.must(4), r.must(3), r.must(1); ch != 0 || ss != 4 || res != 0 {
			return info, nil, nil, errors.New("not mono 16-bit")
		}
		first := r.must(8) // UTF-8 frame number: skip continuation bytes
		for m := byte(first); m&0xc0 == 0xc0; m <<= 1 {
			r.must(8)
		}
		var n int
		switch {
		case bsCode == 1:
			n = 192
		case bsCode >= 2 && bsCode <= 5:
			n = 576 << (bsCode - 2)
		case bsCode == 6:
			n = int(r.must(8)) + 1
		case bsCode == 7:
			n = int(r.must(16)) + 1
		case bsCode >= 8:
			n = 256 << (bsCode - 8)
		default:
			return info, nil, nil, errors.New("reserved block size")
		}
		switch rateCode {
		case 12:
			r.must(8)
		case 13, 14:
			r.must(16)
		}
		hdrLen := r.pos / 8
		if crc := r.must(8); uint8(crc) != crc8(data[start:start+hdrLen]) {
			return info, nil, nil, errors.New("header CRC-8 mismatch")
		}
		x, err := decodeSubframe(r, n)
		if err != nil {
			return info, nil, nil, err
		}
		if r.pos%8 != 0 {
			r.must(8 - r.pos%8)
		}
		body := r.pos / 8
		if crc := r.must(16); uint16(crc) != crc16(data[start:start+body]) {
			return info, nil, nil, errors.New("frame CRC-16 mismatch")
		}
		for _, v := range x {
			samples = append(samples, int16(v))
		}
		pos = start + body + 2
		frameSizes = append(frameSizes, body+2)
	}
	return info, samples, frameSizes, nil
}

func decodeSubframe(r *bitReader, n int) ([]int64, error) {
	if r.must(1) != 0 {
		return nil, errors.New("subframe padding bit set")
	}
	kind := int(r.must(6))
	if r.must(1) != 0 {
		return nil, errors.New("wasted bits are never written")
	}
	x := make([]int64, n)
	sample := func() int64 { v, _ := r.signed(16); return v }
	switch {
	case kind == 0:
		v := sample()
		for i := range x {
			x[i] = v
		}
		return x, nil
	case kind == 1:
		for i := range x {
			x[i] = sample()
		}
		return x, nil
	case kind >= 8 && kind <= 12:
		order := kind - 8
		for i := range order {
			x[i] = sample()
		}
		if err := residual(r, x, order); err != nil {
			return nil, err
		}
		coefs := [][]int64{{}, {1}, {2, -1}, {3, -3, 1}, {4, -6, 4, -1}}[order]
		for i := order; i < n; i++ {
			for j, c := range coefs {
				x[i] += c * x[i-1-j]
			}
		}
		return x, nil
	case kind >= 32:
		order := kind - 31
		for i := range order {
			x[i] = sample()
		}
		prec := int(r.must(4)) + 1
		shift, _ := r.signed(5)
		coefs := make([]int64, order)
		for i := range coefs {
			coefs[i], _ = r.signed(prec)
		}
		if err := residual(r, x, order); err != nil {
			return nil, err
		}
		for i := order; i < n; i++ {
			var sum int64
			for j, c := range coefs {
				sum += c * x[i-1-j]
			}
			x[i] += sum >> shift
		}
		return x, nil
	}
	return nil, fmt.Errorf("reserved subframe type %d", kind)
}

func residual(r *bitReader, x []int64, order int) error {
	method := r.must(2)
	pbits := 4 + int(method)
	porder := int(r.must(4))
	n := len(x)
	pos := order
	for k := range 1 << porder {
		cnt := n >> porder
		if k == 0 {
			cnt -= order
		}
		param := int(r.must(pbits))
		if param == 1<<pbits-1 {
			return errors.New("escape partitions are never written")
		}
		for range cnt {
			q := 0
			for r.must(1) == 0 {
				q++
			}
			u := uint64(q)<<param | r.must(param)
			x[pos] = int64(u>>1) ^ -int64(u&1)
			pos++
		}
	}
	return nil
}

func signals(n int) map[string][]int16 {
	rng := rand.New(rand.NewPCG(1, 2))
	out := map[string][]int16{}
	mk := func(name string, f func(i int) float64) {
		x := make([]int16, n)
		for i := range x {
			x[i] = int16(max(-32768, min(32767, math.Round(f(i)))))
		}
		out[name] = x
	}
	mk("silence", func(int) float64 { return 0 })
	mk("dc", func(int) float64 { return -1234 })
	mk("sine", func(i int) float64 { return 12000 * math.Sin(float64(i)*0.05) })
	mk("noise", func(int) float64 { return rng.NormFloat64() * 4000 })
	mk("fullscale", func(i int) float64 { // the worst case for every predictor
		if i%2 == 0 {
			return 32767
		}
		return -32768
	})
	mk("random", func(int) float64 { return float64(rng.IntN(65536) - 32768) })
	var a, b float64 // a resonant AR(2) process: what LPC is for
	mk("ar2", func(int) float64 {
		v := 1.8*a - 0.9*b + rng.NormFloat64()*300
		b, a = a, v
		return v
	})
	return out
}

func TestRoundTrip(t *testing.T) {
	for _, rate := range []int{8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000} {
		for _, n := range []int{0, 1, 2, 17, 575, 576, 577, 4608, 10007} {
			for name, x := range signals(n) {
				data, err := Encode(x, rate)
				if err != nil {
					t.Fatal(err)
				}
				info, got, sizes, err := decode(data)
				if err != nil {
					t.Fatalf("%d Hz %s n=%d: %v", rate, name, n, err)
				}
				if !slicesEqual(got, x) {
					t.Fatalf("%d Hz %s n=%d: samples differ", rate, name, n)
				}
				pcm := make([]byte, 2*len(x))
				for i, v := range x {
					binary.LittleEndian.PutUint16(pcm[2*i:], uint16(v))
				}
				want := streamInfo{BlockSize(rate), BlockSize(rate), 0, 0, rate, 1, 16, uint64(n), md5.Sum(pcm)}
				if len(sizes) > 0 {
					want.minFrame, want.maxFrame = sizes[0], sizes[0]
					for _, s := range sizes {
						want.minFrame, want.maxFrame = min(want.minFrame, s), max(want.maxFrame, s)
					}
				}
				if info != want {
					t.Fatalf("%d Hz %s n=%d: STREAMINFO %+v, want %+v", rate, name, n, info, want)
				}
			}
		}
	}
}

func slicesEqual(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Streaming in pieces of any size gives the one-shot frames behind a STREAMINFO of
// unknown length.
func TestStreamingEqualsOneShot(t *testing.T) {
	x := signals(30011)["ar2"]
	whole, _ := Encode(x, 16000)
	for _, piece := range []int{1, 7, 575, 1152, 5000, 40000} {
		e, _ := NewEncoder(16000)
		var out []byte
		pcm := make([]byte, 2*len(x))
		for i, v := range x {
			binary.LittleEndian.PutUint16(pcm[2*i:], uint16(v))
		}
		for len(pcm) > 0 { // odd byte counts: samples split across calls
			k := min(2*piece+1, len(pcm))
			out = append(out, e.WriteBytes(pcm[:k])...)
			pcm = pcm[k:]
		}
		out = append(out, e.Flush()...)
		if e.Flush() != nil || e.Write(x) != nil {
			t.Fatal("a flushed encoder must stay finished")
		}
		if !bytes.Equal(out[42:], whole[42:]) {
			t.Fatalf("piece %d: frames differ from the one-shot encoding", piece)
		}
		info, got, _, err := decode(out)
		if err != nil || !slicesEqual(got, x) {
			t.Fatalf("piece %d: %v", piece, err)
		}
		if info.total != 0 || info.md5 != [16]byte{} || info.minFrame != 0 || info.maxFrame != 16+3+2*1152+2 {
			t.Fatalf("piece %d: streaming STREAMINFO %+v", piece, info)
		}
	}
}

// The CRCs against the catalogued check values for "123456789" (CRC-8/SMBUS and
// CRC-16/UMTS, which are FLAC's parameters).
func TestCRCCheckValues(t *testing.T) {
	if got := crc8([]byte("123456789")); got != 0xf4 {
		t.Errorf("crc8 = %#x, want 0xf4", got)
	}
	if got := crc16([]byte("123456789")); got != 0xfee8 {
		t.Errorf("crc16 = %#x, want 0xfee8", got)
	}
}

func TestUTF8FrameNumbers(t *testing.T) {
	for _, c := range []struct {
		v    uint64
		want []byte
	}{
		{0, []byte{0x00}},
		{0x7f, []byte{0x7f}},
		{0x80, []byte{0xc2, 0x80}},
		{0x7ff, []byte{0xdf, 0xbf}},
		{0x800, []byte{0xe0, 0xa0, 0x80}},
		{0xffff, []byte{0xef, 0xbf, 0xbf}},
		{0x10000, []byte{0xf0, 0x90, 0x80, 0x80}},
		{0x7fffffff, []byte{0xfd, 0xbf, 0xbf, 0xbf, 0xbf, 0xbf}},
		{1<<36 - 1, []byte{0xfe, 0xbf, 0xbf, 0xbf, 0xbf, 0xbf, 0xbf}},
	} {
		var w bitWriter
		w.putUTF8(c.v)
		if got := w.bytes(); !bytes.Equal(got, c.want) {
			t.Errorf("%#x: % x, want % x", c.v, got, c.want)
		}
	}
}

func TestBitWriter(t *testing.T) {
	var w bitWriter
	w.put(1, 1)
	w.put(0, 2)
	w.put(0x1f, 5)
	w.put(0xabc, 12)
	w.putUnary(40)
	w.put(3, 2)
	got := w.bytes()
	want := []byte{0x9f, 0xab, 0xc0, 0, 0, 0, 0, 0, 0x00, 0x80 | 0x60>>1}
	_ = want
	r := &bitReader{b: got}
	if r.must(1) != 1 || r.must(2) != 0 || r.must(5) != 0x1f || r.must(12) != 0xabc {
		t.Fatal("fields")
	}
	for range 40 {
		if r.must(1) != 0 {
			t.Fatal("unary zeros")
		}
	}
	if r.must(1) != 1 || r.must(2) != 3 || r.pos != 63 || len(got) != 8 {
		t.Fatalf("unary end / padding: pos %d len %d", r.pos, len(got))
	}
}

// The Rice parameter is the one with the fewest bits among all parameters.
func TestRiceParameterIsOptimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, scale := range []float64{0, 0.3, 1, 5, 40, 700, 20000, 1e6} {
		u := make([]uint64, 500)
		for i := range u {
			u[i] = uint64(rng.ExpFloat64() * scale)
		}
		k, cost := riceParam(u)
		for p := 0; p <= maxRiceParam5; p++ {
			c := len(u) * (p + 1)
			for _, v := range u {
				c += int(v >> p)
			}
			if c < cost {
				t.Errorf("scale %g: parameter %d costs %d < %d of chosen %d", scale, p, c, cost, k)
			}
		}
	}
	if k, cost := riceParam(make([]uint64, 10)); k != 0 || cost != 10 {
		t.Errorf("zeros: %d %d", k, cost)
	}
}

func TestBlockSizes(t *testing.T) {
	want := map[int]int{8000: 576, 16000: 1152, 22050: 2304, 24000: 2304, 32000: 2304, 44100: 4608, 48000: 4608}
	for rate, n := range want {
		if got := BlockSize(rate); got != n {
			t.Errorf("%d Hz: %d, want %d (FFmpeg's choice)", rate, got, n)
		}
	}
}

func TestBadRate(t *testing.T) {
	for _, rate := range []int{0, -1, 1 << 20} {
		if _, err := NewEncoder(rate); !errors.Is(err, ErrFormat) {
			t.Errorf("%d: %v", rate, err)
		}
	}
}

// The predictors earn their keep: an AR(2) signal codes well below 16 bits per sample.
func TestCompression(t *testing.T) {
	x := signals(48000)["ar2"]
	data, _ := Encode(x, 48000)
	if ratio := float64(len(data)) / float64(2*len(x)); ratio > 0.75 {
		t.Errorf("ratio %.3f", ratio)
	}
}

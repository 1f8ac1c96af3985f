package mp3enc

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// Every big-values table and count1 table A is a complete prefix code: the Kraft sum of
// its code lengths is exactly 1 and no code word is a prefix of another. A transcription
// error in a code or a length breaks one or the other.
func TestHuffmanTablesArePrefixCodes(t *testing.T) {
	check := func(name string, codes []uint32, lens []uint8) {
		kraft := 0.0
		for i, l := range lens {
			if l == 0 || l > 19 || codes[i] >= 1<<l {
				t.Fatalf("%s[%d]: code %#x does not fit %d bits", name, i, codes[i], l)
			}
			kraft += math.Ldexp(1, -int(l))
		}
		if kraft != 1 {
			t.Errorf("%s: Kraft sum %v, want 1", name, kraft)
		}
		for i := range codes {
			for j := range codes {
				if i != j && lens[i] <= lens[j] && codes[j]>>(lens[j]-lens[i]) == codes[i] {
					t.Fatalf("%s: code %d is a prefix of code %d", name, i, j)
				}
			}
		}
	}
	seen := map[*uint16]bool{}
	for n, tab := range bigTables {
		if tab.xlen == 0 || seen[&tab.codes[0]] {
			continue
		}
		seen[&tab.codes[0]] = true
		if len(tab.codes) != tab.xlen*tab.xlen || len(tab.lens) != len(tab.codes) {
			t.Fatalf("table %d: %d codes, %d lengths for xlen %d", n, len(tab.codes), len(tab.lens), tab.xlen)
		}
		codes := make([]uint32, len(tab.codes))
		for i, c := range tab.codes {
			codes[i] = uint32(c)
		}
		check(fmt.Sprint("table ", n), codes, tab.lens)
	}
	if len(seen) != 15 {
		t.Errorf("%d distinct tables, want 15 (1-3, 5-13, 15, 16, 24)", len(seen))
	}
	codes := make([]uint32, 16)
	for i, c := range quadCodeA {
		codes[i] = uint32(c)
	}
	check("count1 A", codes, quadLenA[:])
}

// The analysis window has the symmetry the standard's table shows and matches a few of
// its printed values (11172-3 Table C.1).
func TestAnalysisWindow(t *testing.T) {
	for i, want := range map[int]float64{1: -0.000000477, 64: 0.000101566, 128: 0.000971317, 255: -0.035758972, 256: 0.035780907, 257: 0.035758972, 511: 0.000000477} {
		if got := analysisWindow[i]; math.Abs(got-want) > 1e-9 {
			t.Errorf("C[%d] = %.9f, want %.9f", i, got, want)
		}
	}
}

func TestBitWriter(t *testing.T) {
	var w bitWriter
	w.put(0x7ff, 11)
	w.put(3, 2)
	w.put(1, 2)
	w.put(1, 1)
	w.put(0x5, 3)
	if got := w.bytes(); !bytes.Equal(got, []byte{0xff, 0xfb, 0xa0}) || w.nbits != 19 {
		t.Fatalf("% x (%d bits)", got, w.nbits)
	}
}

// CRC-16/ARC check value: the LAME tag's CRC parameters.
func TestCRC16(t *testing.T) {
	if got := crc16([]byte("123456789"), 0); got != 0xbb3d {
		t.Fatalf("%#x, want 0xbb3d", got)
	}
}

// legacy's LAME, as observed through PyAV: per rate, the bitrate coded for each request.
func TestEffectiveBitrate(t *testing.T) {
	want := map[int][5]int{ // for 32, 64, 96, 128, 192 kb/s
		8000:  {32, 64, 64, 64, 64},
		16000: {32, 64, 96, 128, 160},
		22050: {32, 64, 96, 128, 160},
		24000: {32, 64, 96, 128, 160},
		32000: {32, 64, 96, 128, 192},
		44100: {32, 64, 96, 128, 192},
		48000: {32, 64, 96, 128, 192},
	}
	for rate, kbps := range want {
		for i, req := range []int{32, 64, 96, 128, 192} {
			got, err := EffectiveBitrate(rate, req*1000)
			if err != nil || got != kbps[i]*1000 {
				t.Errorf("%d Hz, %d kb/s: %d %v, want %d", rate, req, got, err, kbps[i]*1000)
			}
		}
		if got, _ := EffectiveBitrate(rate, 0); got != min(DefaultBitrate, kbps[3]*1000) {
			t.Errorf("%d Hz default: %d", rate, got)
		}
	}
	if _, err := EffectiveBitrate(44000, 0); !errors.Is(err, ErrFormat) {
		t.Errorf("44000 Hz: %v", err)
	}
}

// header is a parsed frame header.
type header struct {
	version, layer, protection, brIndex, rateIndex, pad, mode, original int
}

func parseHeader(b []byte) header {
	return header{int(b[1] >> 3 & 3), int(b[1] >> 1 & 3), int(b[1] & 1), int(b[2] >> 4), int(b[2] >> 2 & 3), int(b[2] >> 1 & 1), int(b[3] >> 6), int(b[3] >> 2 & 1)}
}

// splitFrames cuts a stream (after the ID3 tag) into frames by their headers.
func splitFrames(t *testing.T, data []byte) [][]byte {
	t.Helper()
	if !bytes.HasPrefix(data, id3Tag) {
		t.Fatal("no ID3 tag")
	}
	data = data[len(id3Tag):]
	var frames [][]byte
	for len(data) > 0 {
		n := frameLength(data)
		if n == 0 || n > len(data) {
			t.Fatalf("lost sync with %d bytes left", len(data))
		}
		frames = append(frames, data[:n])
		data = data[n:]
	}
	return frames
}

func tone(n, rate int) []int16 {
	x := make([]int16, n)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range x {
		v := 9000*math.Sin(2*math.Pi*440*float64(i)/float64(rate)) + 3000*math.Sin(2*math.Pi*3100*float64(i)/float64(rate)) + rng.NormFloat64()*500
		x[i] = int16(v)
	}
	return x
}

// Header fields and frame lengths for every rate and bitrate: Layer III, no CRC, single
// channel, "original", and lengths averaging exactly slotCoef*bitrate/rate bytes.
func TestFramesPerRateAndBitrate(t *testing.T) {
	for _, f := range formats {
		for _, req := range []int{32000, 64000, 96000, 128000, 192000} {
			br, _ := EffectiveBitrate(f.rate, req)
			x := tone(f.rate*2, f.rate)
			data, err := Encode(x, f.rate, req)
			if err != nil {
				t.Fatal(err)
			}
			frames := splitFrames(t, data)
			if !bytes.Contains(frames[0][:40], []byte("Info")) {
				t.Fatalf("%d Hz: first frame is not the Info frame", f.rate)
			}
			total := 0
			for _, fr := range frames[1:] {
				h := parseHeader(fr)
				want := header{f.version, 1, 1, f.bitrateIndex(br), f.rateIndex, h.pad, 3, 1}
				if h != want {
					t.Fatalf("%d Hz %d b/s: header %+v, want %+v", f.rate, br, h, want)
				}
				total += len(fr)
			}
			n := len(frames) - 1
			exact := float64(n) * float64(f.slotCoef()*br) / float64(f.rate)
			if math.Abs(float64(total)-exact) > 1 {
				t.Errorf("%d Hz %d b/s: %d bytes in %d frames, want %.1f", f.rate, br, total, n, exact)
			}
			spf := f.samplesPerFrame()
			if want := (len(x) + codecDelay + spf - 1) / spf; n != want {
				t.Errorf("%d Hz: %d audio frames, want %d", f.rate, n, want)
			}
		}
	}
}

// Known frame lengths (2.4.3.1): 44.1 kHz 128 kb/s is 417 or 418 bytes, 48 kHz 384,
// 8 kHz 64 kb/s 576, 22.05 kHz 64 kb/s 208 or 209.
func TestKnownFrameLengths(t *testing.T) {
	for _, c := range []struct{ rate, br, lo, hi int }{
		{44100, 128000, 417, 418}, {48000, 128000, 384, 384}, {32000, 32000, 144, 144},
		{8000, 64000, 576, 576}, {22050, 64000, 208, 209}, {16000, 32000, 144, 144},
	} {
		data, _ := Encode(tone(c.rate, c.rate), c.rate, c.br)
		for _, fr := range splitFrames(t, data)[1:] {
			if len(fr) < c.lo || len(fr) > c.hi {
				t.Errorf("%d Hz %d b/s: frame of %d bytes", c.rate, c.br, len(fr))
			}
		}
	}
}

// The Info frame: counts, the delay and padding that trim the stream to the input, and
// valid CRCs.
func TestInfoFrame(t *testing.T) {
	x := tone(12345, 22050)
	data, _ := Encode(x, 22050, 64000)
	frames := splitFrames(t, data)
	info := frames[0]
	p := info[4+9:]
	if string(p[:4]) != "Info" || p[7] != 0x0f {
		t.Fatalf("tag % x", p[:8])
	}
	count := int(p[8])<<24 | int(p[9])<<16 | int(p[10])<<8 | int(p[11])
	size := int(p[12])<<24 | int(p[13])<<16 | int(p[14])<<8 | int(p[15])
	if count != len(frames)-1 || size != len(data)-len(id3Tag) {
		t.Fatalf("frames %d bytes %d, want %d %d", count, size, len(frames)-1, len(data)-len(id3Tag))
	}
	lame := p[120:156]
	if !strings.HasPrefix(string(lame), "Lavf") {
		t.Fatalf("encoder string %q", lame[:9])
	}
	delay := int(lame[21])<<4 | int(lame[22])>>4
	padding := int(lame[22]&0x0f)<<8 | int(lame[23])
	if delay != codecDelay-decoderDelay || count*576-delay-padding != len(x) {
		t.Fatalf("delay %d padding %d for %d samples in %d frames", delay, padding, len(x), count)
	}
	if got := uint16(lame[32])<<8 | uint16(lame[33]); got != crc16(data[len(id3Tag)+len(info):], 0) {
		t.Errorf("music CRC %#x", got)
	}
	head := append([]byte(nil), info[:190]...)
	head[4+9+120+34], head[4+9+120+35] = 0, 0
	if got := uint16(lame[34])<<8 | uint16(lame[35]); got != crc16(head, 0) {
		t.Errorf("tag CRC %#x", got)
	}
}

// Streaming in pieces of any size (odd byte counts included) gives the ID3 tag and the
// one-shot audio frames; a flushed encoder stays finished.
func TestStreamingEqualsOneShot(t *testing.T) {
	x := tone(30011, 16000)
	whole, _ := Encode(x, 16000, 64000)
	info := frameLength(whole[len(id3Tag):])
	want := append(append([]byte(nil), id3Tag...), whole[len(id3Tag)+info:]...)
	pcm := make([]byte, 2*len(x))
	for i, v := range x {
		pcm[2*i], pcm[2*i+1] = byte(v), byte(uint16(v)>>8)
	}
	for _, piece := range []int{1, 3, 575, 576, 1153, 1 << 20} {
		e, _ := NewEncoder(16000, 64000)
		var out []byte
		for rest := pcm; len(rest) > 0; {
			k := min(piece, len(rest))
			out = append(out, e.WriteBytes(rest[:k])...)
			rest = rest[k:]
		}
		out = append(out, e.Flush()...)
		if !bytes.Equal(out, want) {
			t.Fatalf("piece %d: stream differs from the one-shot frames", piece)
		}
		if e.Flush() != nil || e.Write(x) != nil {
			t.Fatal("a flushed encoder must stay finished")
		}
	}
}

// No input length panics or breaks the framing; nothing in, nothing out.
func TestAnyLength(t *testing.T) {
	for _, rate := range []int{8000, 22050, 48000} {
		for _, n := range []int{0, 1, 2, 31, 32, 575, 576, 577, 1151, 1152, 1153, 4097} {
			data, err := Encode(tone(n, rate), rate, 0)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				if len(data) != 0 {
					t.Fatalf("empty input gave %d bytes", len(data))
				}
				continue
			}
			splitFrames(t, data)
		}
	}
	e, _ := NewEncoder(8000, 0)
	if out := append(e.Write(nil), e.Flush()...); len(out) != 0 {
		t.Fatal("an empty stream must be empty")
	}
}

// Full-scale square waves and clipping noise still fit the budget and the syntax (the
// largest quantized values need the linbits tables).
func TestLoudInput(t *testing.T) {
	x := make([]int16, 44100)
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range x {
		if i < len(x)/2 {
			x[i] = int16(32767 - 65535*((i/20)%2))
		} else {
			x[i] = int16(rng.IntN(65536) - 32768)
		}
	}
	for _, br := range []int{32000, 320000} {
		data, _ := Encode(x, 44100, br)
		splitFrames(t, data)
	}
}

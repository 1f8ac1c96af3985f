package audio

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"testing"
)

// decodeFLAC is an independent reading of the subset of FLAC the encoder writes (one
// channel, 16 bits, CONSTANT/VERBATIM/FIXED subframes, Rice partitions), checking every CRC
// and the STREAMINFO's MD5, so a test can require the decoded samples to be the input.
func decodeFLAC(t *testing.T, data []byte) (rate int, pcm []byte) {
	t.Helper()
	if !bytes.HasPrefix(data, []byte("fLaC")) || data[4] != 0x80 || data[7] != 34 {
		t.Fatalf("not a FLAC with one STREAMINFO block: %x", data[:min(len(data), 8)])
	}
	info := data[8:42]
	packed := binary.BigEndian.Uint64(info[10:18])
	rate = int(packed >> 44)
	if ch, bps := packed>>41&7, packed>>36&31; ch != 0 || bps != 15 {
		t.Fatalf("channels-1 %d, bits-1 %d", ch, bps)
	}
	total := int(packed & (1<<36 - 1))
	r := &bitReader{data: data[42:]}
	var out []int32
	for r.pos/8 < len(r.data) {
		start := r.pos / 8
		if r.read(16) != 0xFFF8 {
			t.Fatalf("no frame sync at byte %d", 42+start)
		}
		sizeCode, rateCode := r.read(4), r.read(4)
		if rateCode != uint64(flacSampleRateCodes[rate]) || r.read(8) != 0x08 {
			t.Fatalf("frame header at byte %d", 42+start)
		}
		first := r.read(8) // frame number: skip its continuation bytes
		for b := first; b&0xC0 == 0xC0; b <<= 1 {
			r.read(8)
		}
		size := 4096
		switch sizeCode {
		case 0b0110:
			size = int(r.read(8)) + 1
		case 0b0111:
			size = int(r.read(16)) + 1
		case 0b1100:
		default:
			t.Fatalf("block size code %b", sizeCode)
		}
		if crc := byte(r.read(8)); crc != crc8(r.data[start:r.pos/8-1]) {
			t.Fatalf("header CRC-8 at byte %d", 42+start)
		}
		out = append(out, readSubframe(t, r, size)...)
		r.pos = (r.pos + 7) &^ 7
		end := r.pos / 8
		if crc := uint16(r.read(16)); crc != crc16(r.data[start:end]) {
			t.Fatalf("frame CRC-16 at byte %d", 42+start)
		}
	}
	if len(out) != total {
		t.Fatalf("%d samples decoded, STREAMINFO says %d", len(out), total)
	}
	for _, s := range out {
		pcm = binary.LittleEndian.AppendUint16(pcm, uint16(int16(s)))
	}
	if sum := md5.Sum(pcm); !bytes.Equal(sum[:], info[18:34]) {
		t.Fatal("MD5 of the decoded samples is not STREAMINFO's")
	}
	return rate, pcm
}

func readSubframe(t *testing.T, r *bitReader, size int) []int32 {
	header := r.read(8)
	kind := header >> 1 & 0x3F
	out := make([]int32, 0, size)
	switch {
	case kind == 0:
		v := r.signed(16)
		for range size {
			out = append(out, v)
		}
		return out
	case kind == 1:
		for range size {
			out = append(out, r.signed(16))
		}
		return out
	case kind&0x38 != 0x08:
		t.Fatalf("subframe type %06b", kind)
	}
	order := int(kind & 7)
	for range order {
		out = append(out, r.signed(16))
	}
	if r.read(2) != 0 {
		t.Fatal("not 4-bit Rice")
	}
	partOrder := r.read(4)
	for p := 0; p < 1<<partOrder; p++ {
		n := size >> partOrder
		if p == 0 {
			n -= order
		}
		k := uint(r.read(4))
		for range n {
			q := 0
			for r.read(1) == 0 {
				q++
			}
			u := uint64(q)<<k | r.read(k)
			res := int64(u>>1) ^ -int64(u&1)
			i := len(out)
			x := func(j int) int64 { return int64(out[i-j]) }
			var pred int64
			switch order {
			case 1:
				pred = x(1)
			case 2:
				pred = 2*x(1) - x(2)
			case 3:
				pred = 3*x(1) - 3*x(2) + x(3)
			case 4:
				pred = 4*x(1) - 6*x(2) + 4*x(3) - x(4)
			}
			out = append(out, int32(pred+res))
		}
	}
	return out
}

type bitReader struct {
	data []byte
	pos  int // in bits
}

func (r *bitReader) read(n uint) uint64 {
	var v uint64
	for range n {
		v = v<<1 | uint64(r.data[r.pos/8]>>(7-r.pos%8)&1)
		r.pos++
	}
	return v
}

func (r *bitReader) signed(n uint) int32 { return int32(int64(r.read(n)<<(64-n)) >> (64 - n)) }

// FLAC is lossless: every input comes back sample for sample, with the rate declared.
func TestFLACDecodesToItsInput(t *testing.T) {
	speech, err := os.ReadFile("testdata/speech_22050.pcm")
	if err != nil {
		t.Fatal(err)
	}
	noise := make([]byte, 2*5000)
	seed := uint32(1)
	for i := 0; i < len(noise); i += 2 {
		seed = seed*1664525 + 1013904223
		binary.LittleEndian.PutUint16(noise[i:], uint16(seed>>16))
	}
	tone := make([]byte, 0, 2*9000)
	for i := range 9000 {
		tone = binary.LittleEndian.AppendUint16(tone, uint16(int16(math.Round(32767*math.Sin(float64(i)/7)))))
	}
	inputs := map[string][]byte{
		"speech": speech, "noise": noise, "every-sample": everySample(), "tone": tone,
		"silence": make([]byte, 2*10000), "one": {0x39, 0x30}, "empty": nil,
		"short-last": speech[:2*(4096+17)], "256": speech[:512], "4096": speech[:8192],
	}
	for name, pcm := range inputs {
		for _, rate := range []int{8000, 22050, 48000} {
			t.Run(fmt.Sprintf("%s-%d", name, rate), func(t *testing.T) {
				encoded, err := Encode(pcm, rate, "flac")
				if err != nil {
					t.Fatal(err)
				}
				gotRate, got := decodeFLAC(t, encoded)
				if gotRate != rate || !bytes.Equal(got, pcm) {
					t.Fatalf("decoded %d samples at %d Hz, not the %d samples given", len(got)/2, gotRate, len(pcm)/2)
				}
				if name == "speech" && rate == 22050 {
					t.Logf("speech: %d bytes of FLAC for %d bytes of samples (%.0f %%)",
						len(encoded), len(pcm), 100*float64(len(encoded))/float64(len(pcm)))
				}
			})
		}
	}
}

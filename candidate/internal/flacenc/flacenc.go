// Package flacenc is a FLAC encoder for mono 16-bit PCM (the FLAC format specification,
// RFC 9639), replacing legacy's FFmpeg "flac" encoder for the speech routes.
//
// Each block is coded as the cheapest of a CONSTANT subframe (silence), a FIXED predictor
// of order 0 to 4, an LPC predictor (order up to 8, Levinson-Durbin on a Welch-windowed
// autocorrelation, coefficients quantized to 12 or 15 bits) and VERBATIM, with partitioned Rice
// coding of the residual whose partition order and parameters minimise the exact bit
// count. Decoding gives back exactly the input samples.
//
// Layout, as FFmpeg writes it for legacy: "fLaC", a STREAMINFO block, then frames with a
// fixed block size chosen from the sample rate (FFmpeg's rule: the largest of its standard
// sizes within 105 ms; 576 samples at 8 kHz, 1152 at 16 kHz, 2304 at 22.05-32 kHz, 4608 at
// 44.1-48 kHz). [Encode] fills STREAMINFO completely (total samples, minimum and maximum
// frame size, MD5 of the samples); the streaming [Encoder] cannot seek back, so, like
// FFmpeg writing to a pipe, its STREAMINFO has total samples 0 ("unknown"), MD5 zero
// ("not computed"), minimum frame size 0 and the verbatim bound as the maximum. FFmpeg's
// VORBIS_COMMENT (vendor string only) and 8 KiB PADDING blocks are left out: they carry
// nothing and the padding is dead weight on every response.
package flacenc

import (
	"crypto/md5"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
)

// ErrFormat reports a sample rate FLAC cannot carry.
var ErrFormat = errors.New("flacenc: unsupported format")

const bitsPerSample = 16

// BlockSize is the block size used at a sample rate (see the package comment).
func BlockSize(sampleRate int) int {
	target := sampleRate * 105 / 1000
	best := 192
	for _, n := range []int{192, 576, 1152, 2304, 4608, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768} {
		if n <= target && n > best {
			best = n
		}
	}
	return best
}

// Encoder encodes a stream fed in pieces: Write returns the "fLaC" marker and STREAMINFO
// on its first call and then every frame a piece completes, Flush the last partial
// block. Concatenated, the outputs are one valid FLAC stream. At most one block of input is
// buffered. An Encoder is not safe for concurrent use.
type Encoder struct {
	rate      int
	blockSize int
	block     []int32
	frame     uint64 // frame number
	total     uint64
	minFrame  int
	maxFrame  int
	md5       hash.Hash
	header    bool // STREAMINFO still to be written
	whole     bool // one-shot: no header from Write, MD5 computed
	odd       []byte
	finished  bool
	scratch   scratch
	out       []byte
}

// NewEncoder returns a streaming encoder at sampleRate Hz.
func NewEncoder(sampleRate int) (*Encoder, error) {
	if sampleRate <= 0 || sampleRate >= 1<<20 {
		return nil, fmt.Errorf("%w: sample rate %d Hz", ErrFormat, sampleRate)
	}
	n := BlockSize(sampleRate)
	return &Encoder{rate: sampleRate, blockSize: n, block: make([]int32, 0, n), header: true}, nil
}

// Encode returns a whole FLAC file of pcm with a complete STREAMINFO.
func Encode(pcm []int16, sampleRate int) ([]byte, error) {
	e, err := NewEncoder(sampleRate)
	if err != nil {
		return nil, err
	}
	e.header, e.whole = false, true
	e.md5 = md5.New()
	frames := e.Write(pcm)
	frames = append(frames, e.Flush()...)
	out := make([]byte, 0, 42+len(frames))
	out = e.streamInfo(out)
	return append(out, frames...), nil
}

// Write encodes pcm and returns the bytes of every frame it completed.
func (e *Encoder) Write(pcm []int16) []byte {
	if e.finished {
		return nil
	}
	e.start()
	if e.md5 != nil {
		var b [1024]byte
		for rest := pcm; len(rest) > 0; {
			k := min(len(rest), len(b)/2)
			for i, s := range rest[:k] {
				binary.LittleEndian.PutUint16(b[2*i:], uint16(s))
			}
			e.md5.Write(b[:2*k])
			rest = rest[k:]
		}
	}
	for len(pcm) > 0 {
		n := min(len(pcm), e.blockSize-len(e.block))
		for _, s := range pcm[:n] {
			e.block = append(e.block, int32(s))
		}
		pcm = pcm[n:]
		if len(e.block) == e.blockSize {
			e.encodeBlock()
		}
	}
	return e.take()
}

// WriteBytes is Write for signed 16-bit little-endian bytes; an odd trailing byte is kept
// for the next call.
func (e *Encoder) WriteBytes(pcm []byte) []byte {
	if e.finished {
		return nil
	}
	if len(e.odd) == 1 && len(pcm) > 0 {
		s := int16(uint16(e.odd[0]) | uint16(pcm[0])<<8)
		e.odd = e.odd[:0]
		pcm = pcm[1:]
		done := e.Write([]int16{s}) // drains e.out
		e.out = append(e.out, done...)
	}
	buf := make([]int16, min(len(pcm)/2, 4096))
	for len(pcm) >= 2 {
		k := min(len(pcm)/2, len(buf))
		for i := range k {
			buf[i] = int16(binary.LittleEndian.Uint16(pcm[2*i:]))
		}
		done := e.Write(buf[:k]) // drains e.out
		e.out = append(e.out, done...)
		pcm = pcm[2*k:]
	}
	if len(pcm) == 1 {
		e.odd = append(e.odd[:0], pcm[0])
	}
	e.start()
	return e.take()
}

// Flush encodes the last, partial block and ends the stream; later calls return nothing.
func (e *Encoder) Flush() []byte {
	if e.finished {
		return nil
	}
	e.start()
	if len(e.block) > 0 {
		e.encodeBlock()
	}
	e.finished = true
	return e.take()
}

func (e *Encoder) start() {
	if e.header {
		e.out = append(e.out, e.streamInfo(nil)...)
		e.header = false
	}
}

func (e *Encoder) take() []byte {
	if len(e.out) == 0 {
		return nil
	}
	out := e.out
	e.out = nil
	return out
}

// maxFrameSize is the size of a block coded verbatim, the bound FFmpeg announces before it
// knows the real maximum: frame header at most 16 bytes, subframe header, samples, CRC-16.
func (e *Encoder) maxFrameSize() int {
	return 16 + (7+bitsPerSample+7)/8 + (bitsPerSample*e.blockSize+7)/8 + 2
}

// streamInfo appends "fLaC" and the STREAMINFO metadata block (RFC 9639 8.2), the last
// metadata block.
func (e *Encoder) streamInfo(out []byte) []byte {
	out = append(out, 'f', 'L', 'a', 'C', 0x80, 0, 0, 34)
	var w bitWriter
	w.put(uint64(e.blockSize), 16) // minimum block size (the last block is exempt)
	w.put(uint64(e.blockSize), 16)
	if e.whole {
		w.put(uint64(e.minFrame), 24)
		w.put(uint64(e.maxFrame), 24)
	} else {
		w.put(0, 24)
		w.put(uint64(e.maxFrameSize()), 24)
	}
	w.put(uint64(e.rate), 20)
	w.put(0, 3)               // channels - 1
	w.put(bitsPerSample-1, 5) // bits per sample - 1
	if e.whole {
		w.put(e.total, 36)
	} else {
		w.put(0, 36)
	}
	out = append(out, w.bytes()...)
	if e.whole {
		return e.md5.Sum(out)
	}
	return append(out, make([]byte, 16)...)
}

// encodeBlock codes the buffered block as one frame (RFC 9639 9).
func (e *Encoder) encodeBlock() {
	n := len(e.block)
	var w bitWriter
	w.buf = e.out
	start := len(w.buf)
	w.put(0xfff8>>2, 14) // sync code
	w.put(0, 1)          // reserved
	w.put(0, 1)          // fixed block size: the header carries the frame number
	bsCode, bsExtra, bsBits := blockSizeCode(n)
	w.put(uint64(bsCode), 4)
	rateCode, rateExtra, rateBits := sampleRateCode(e.rate)
	w.put(uint64(rateCode), 4)
	w.put(0, 4) // channel assignment: mono
	w.put(4, 3) // 16 bits per sample
	w.put(0, 1) // reserved
	w.putUTF8(e.frame)
	w.put(uint64(bsExtra), bsBits)
	w.put(uint64(rateExtra), rateBits)
	w.align()
	w.put(uint64(crc8(w.buf[start:])), 8)
	encodeSubframe(&w, e.block, &e.scratch)
	w.align()
	w.put(uint64(crc16(w.buf[start:])), 16)
	e.out = w.buf
	size := len(e.out) - start
	if e.frame == 0 || size < e.minFrame {
		e.minFrame = size
	}
	e.maxFrame = max(e.maxFrame, size)
	e.frame++
	e.total += uint64(n)
	e.block = e.block[:0]
}

// blockSizeCode is the header's block size code for n samples and, for codes 6 and 7,
// the extra field (n-1) with its width (RFC 9639 9.1.1).
func blockSizeCode(n int) (code, extra int, bits uint) {
	switch n {
	case 192:
		return 1, 0, 0
	case 576, 1152, 2304, 4608:
		c := 2
		for m := 576; m < n; m *= 2 {
			c++
		}
		return c, 0, 0
	case 256, 512, 1024, 2048, 4096, 8192, 16384, 32768:
		c := 8
		for m := 256; m < n; m *= 2 {
			c++
		}
		return c, 0, 0
	}
	if n <= 256 {
		return 6, n - 1, 8
	}
	return 7, n - 1, 16
}

// sampleRateCode is the header's sample rate code and its extra field (RFC 9639 9.1.2).
func sampleRateCode(rate int) (code, extra int, bits uint) {
	switch rate {
	case 88200:
		return 1, 0, 0
	case 176400:
		return 2, 0, 0
	case 192000:
		return 3, 0, 0
	case 8000:
		return 4, 0, 0
	case 16000:
		return 5, 0, 0
	case 22050:
		return 6, 0, 0
	case 24000:
		return 7, 0, 0
	case 32000:
		return 8, 0, 0
	case 44100:
		return 9, 0, 0
	case 48000:
		return 10, 0, 0
	case 96000:
		return 11, 0, 0
	}
	switch {
	case rate%1000 == 0 && rate/1000 < 256:
		return 12, rate / 1000, 8
	case rate < 1<<16:
		return 13, rate, 16
	case rate%10 == 0 && rate/10 < 1<<16:
		return 14, rate / 10, 16
	}
	return 0, 0, 0 // "get from STREAMINFO"
}

// Package mp3enc is an MPEG audio Layer III (MP3) encoder for mono 16-bit PCM, written
// from ISO/IEC 11172-3 (MPEG-1: 32, 44.1, 48 kHz) and ISO/IEC 13818-3 (MPEG-2: 16, 22.05,
// 24 kHz), plus the MPEG-2.5 extension for 8, 11.025 and 12 kHz, all at a constant bitrate.
//
// It replaces legacy's LAME (libmp3lame through FFmpeg, legacy/speech/codecs.py) for the
// speech routes, in the design of the "shine" encoder: the hybrid filterbank (polyphase +
// MDCT, long blocks only), a rate loop that picks the finest global quantizer whose Huffman
// coding fits the granule's budget, the standard Huffman tables with a searched region
// split and per-region table selection, the bit reservoir (quiet frames leave bytes that
// louder ones spend), and a bitrate-dependent low-pass (the lines above it are not coded,
// which is where a bit-starved encoder's noise is least audible). Not done: a
// psychoacoustic model with scalefactor noise shaping, and short blocks; the quantization
// noise is white within the coded band, which maximises SNR rather than perceived
// quality. The encoder is deterministic: the same input gives the same bytes.
//
// Output layout, matching what legacy sends (checked with PyAV against libmp3lame and
// FFmpeg's mp3 muxer in bitexact mode): a 20-byte ID3v2.4 tag holding only padding, then
// frames with protection_bit 1 (no CRC), mode single channel, "original" set. [Encode], the
// whole-file form, also puts an Info frame (the CBR form of the Xing header, with the LAME
// tag) before the audio: its encoder delay and padding fields let decoders trim the
// filterbank delay and the zeros of the last frame, so the file decodes to exactly the
// input's length, as legacy's encode() does. The streaming [Encoder] cannot know the length
// up front and writes no Info frame (legacy's streaming output has none either); a decoder
// then plays the delay and the padding too, about two granules of silence. A frame goes
// out once later frames can no longer put main data into it (the reservoir reaches back at
// most 511 bytes, 255 at the half rates: a few frames, as with LAME); Flush writes the
// rest.
package mp3enc

import (
	"errors"
	"fmt"
)

// decoderDelay is the delay a decoder's synthesis is assumed to add on top of the Info
// tag's encoder delay (the LAME tag convention FFmpeg follows: it skips delay+529 samples).
const decoderDelay = 529

// codecDelay is where input sample 0 lands in the output of a decoder that trims nothing:
// 576 samples of MDCT overlap (granule g is reconstructed from the subband samples of g-1)
// plus 481 of the polyphase analysis and synthesis pair (512 taps less one 32-sample step).
// TestCodecDelay measures it with this package's reference decoder of the filterbank.
const codecDelay = 576 + 481

// ErrFormat reports a sample rate or bitrate the encoder cannot produce.
var ErrFormat = errors.New("mp3enc: unsupported format")

// maxBitrate is the highest bitrate (b/s) allowed at a rate: LAME, and so legacy, caps
// MPEG-2.5 (8-12 kHz) at 64 kb/s and MPEG-2 at the table's 160 kb/s.
func maxBitrate(f format) int {
	switch f.version {
	case versionMPEG25:
		return 64_000
	case versionMPEG2:
		return 160_000
	}
	return 320_000
}

// DefaultBitrate is legacy's DEFAULT_BITRATE, used when the caller gives none.
const DefaultBitrate = 128_000

// EffectiveBitrate is the constant bitrate (b/s) actually coded for a requested bitrate at a
// sample rate, as legacy's LAME settles it: 0 or less means [DefaultBitrate]; the request
// is capped at the rate's maximum and then rounded to the nearest bitrate the frame header
// can carry (the lower one on a tie).
func EffectiveBitrate(sampleRate, bitrate int) (int, error) {
	f, ok := lookupFormat(sampleRate)
	if !ok {
		return 0, fmt.Errorf("%w: sample rate %d Hz (want 8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100 or 48000)", ErrFormat, sampleRate)
	}
	if bitrate <= 0 {
		bitrate = DefaultBitrate
	}
	bitrate = min(bitrate, maxBitrate(f))
	best := 0
	for _, kb := range f.bitrates()[1:] {
		b := kb * 1000
		if b > maxBitrate(f) {
			break
		}
		if best == 0 || abs(b-bitrate) < abs(best-bitrate) {
			best = b
		}
	}
	return best, nil
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// bitrateIndex is the header's bitrate_index for b b/s, or -1.
func (f format) bitrateIndex(b int) int {
	for i, kb := range f.bitrates() {
		if i > 0 && kb*1000 == b {
			return i
		}
	}
	return -1
}

// id3Tag is what FFmpeg's mp3 muxer writes first in bitexact mode: an ID3v2.4 header
// whose whole body is 10 bytes of padding.
var id3Tag = []byte{'I', 'D', '3', 4, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}

// Encoder encodes a stream fed in pieces: Write returns the whole frames each piece
// completes (the first frame preceded by the ID3 tag) and Flush the rest. Concatenated, the
// outputs are one valid MP3 stream. Memory is bounded: one granule of input, the
// filterbank state, and the frames still open to the bit reservoir (at most 511 bytes of
// main data behind them). An Encoder is not safe for concurrent use.
type Encoder struct {
	f         format
	bitrate   int // effective, b/s
	requested int // as asked, for the Info frame's bitrate
	brIndex   int
	lowpass   int // MDCT lines coded per granule (the rest are zero)

	fb      filterbank
	in      [granuleSize]float64
	nin     int
	xr      [2][granuleSize]float64
	gr      [2]granule
	ngr     int // granules of the current frame done
	size    int // bytes of the current frame
	pad     int
	padRest int
	used    int // main-data bits of the current frame used so far
	budget  int // main-data bits the current frame may use

	// The main data stream: the payloads of all frames back to back. mainData holds its
	// bytes from mainDataBase on (the frames not yet written out); written is its end.
	mainData      []byte
	mainDataBase  int64
	written       int64
	payloadPos    int64 // where the next frame's payload starts
	mainDataBegin int
	pending       []pendingFrame

	fed      int64 // input samples, zeros of Flush excluded
	zeros    int64 // zeros Flush fed
	id3      bool  // whether the ID3 tag is still to be written
	odd      []byte
	finished bool
	w        bitWriter
	out      []byte
}

// NewEncoder returns a streaming encoder at sampleRate for the requested bitrate (b/s,
// 0 for the default), settled as [EffectiveBitrate] says.
func NewEncoder(sampleRate, bitrate int) (*Encoder, error) {
	eff, err := EffectiveBitrate(sampleRate, bitrate)
	if err != nil {
		return nil, err
	}
	f, _ := lookupFormat(sampleRate)
	if bitrate <= 0 {
		bitrate = DefaultBitrate
	}
	e := &Encoder{f: f, bitrate: eff, requested: bitrate, brIndex: f.bitrateIndex(eff), id3: true}
	e.lowpass = lowpassLines(f.rate, eff)
	return e, nil
}

// Bitrate is the coded bitrate in b/s.
func (e *Encoder) Bitrate() int { return e.bitrate }

// SampleRate is the stream's sample rate in Hz.
func (e *Encoder) SampleRate() int { return e.f.rate }

// lowpassLines is how many of a granule's 576 lines are coded: everything below a cutoff
// that grows with the bitrate (260 Hz per kb/s: 8.3 kHz at 32 kb/s, 16.6 kHz at 64 kb/s),
// at most 20 kHz and 95% of the Nyquist frequency. A low bitrate then spends its bits on the
// band that carries speech instead of spreading coarse noise over the whole spectrum. The
// numbers are close to the bandwidths LAME settles on for legacy (measured on white noise:
// 8.3 kHz at 32 kb/s, 16.6 kHz at 64 kb/s, 20 kHz above, near Nyquist at the low rates).
func lowpassLines(rate, bitrate int) int {
	nyquist := float64(rate) / 2
	cutoff := min(0.26*float64(bitrate), 20000, 0.95*nyquist)
	return min(int(cutoff/nyquist*granuleSize+0.5), granuleSize)
}

// Write encodes pcm and returns the bytes of every frame it completed.
func (e *Encoder) Write(pcm []int16) []byte {
	if e.finished {
		return nil
	}
	for len(pcm) > 0 {
		n := min(len(pcm), granuleSize-e.nin)
		for i, s := range pcm[:n] {
			e.in[e.nin+i] = float64(s) / 32768
		}
		e.nin += n
		e.fed += int64(n)
		pcm = pcm[n:]
		if e.nin == granuleSize {
			e.granule()
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
		e.odd = append(e.odd, pcm[0])
		pcm = pcm[1:]
		done := e.Write([]int16{int16(uint16(e.odd[0]) | uint16(e.odd[1])<<8)}) // drains e.out
		e.out = append(e.out, done...)
		e.odd = e.odd[:0]
	}
	n := len(pcm) / 2
	buf := make([]int16, min(n, 4096))
	for n > 0 {
		k := min(n, len(buf))
		for i := range k {
			buf[i] = int16(uint16(pcm[2*i]) | uint16(pcm[2*i+1])<<8)
		}
		done := e.Write(buf[:k]) // drains e.out
		e.out = append(e.out, done...)
		pcm = pcm[2*k:]
		n -= k
	}
	if len(pcm) == 1 {
		e.odd = append(e.odd[:0], pcm[0])
	}
	return e.take()
}

// Flush encodes the buffered input, padded with silence until the decoder has produced
// every input sample (the codec delay included), and ends the stream: later calls return
// nothing. A stream with no samples is empty, not even the ID3 tag, as legacy's is (FFmpeg
// writes the tag along with the first frame).
func (e *Encoder) Flush() []byte {
	if e.finished {
		return nil
	}
	if e.fed > 0 {
		spf := int64(e.f.samplesPerFrame())
		need := (e.fed + codecDelay + spf - 1) / spf * spf // whole frames covering the delay
		for e.fed+e.zeros < need {
			n := min(need-e.fed-e.zeros, int64(granuleSize-e.nin))
			for i := range n {
				e.in[e.nin+int(i)] = 0
			}
			e.nin += int(n)
			e.zeros += n
			if e.nin == granuleSize {
				e.granule()
			}
		}
	}
	e.emit(true)
	e.finished = true
	return e.take()
}

func (e *Encoder) take() []byte {
	if len(e.out) == 0 {
		return nil
	}
	out := e.out
	e.out = nil
	return out
}

// granule codes the buffered 576 samples; the last granule of a frame writes the frame.
func (e *Encoder) granule() {
	e.nin = 0
	if e.ngr == 0 {
		e.startFrame()
	}
	xr := &e.xr[e.ngr]
	e.fb.analyze(e.in[:], xr)
	budget := e.budget/e.f.granules*(e.ngr+1) - e.used
	if e.ngr == e.f.granules-1 {
		budget = e.budget - e.used
	}
	g := &e.gr[e.ngr]
	rateLoop(xr, e.lowpass, budget, e.f.sfb, g)
	e.used += g.part23
	e.ngr++
	if e.ngr == e.f.granules {
		e.writeFrame()
		e.ngr = 0
	}
}

// startFrame settles the next frame's length, its main_data_begin and its bit budget.
//
// The bit reservoir (11172-3 2.4.3.4.4, "main_data_begin"): a frame's main data may start
// in the unused tail of the frames before it, up to 511 bytes back (255 for the half-rate
// versions). Frames that need few bits (silence, steady vowels) leave bytes there, and a
// frame may spend half of what has accumulated on top of its own share, so onsets get
// the bits they need while the bitrate stays constant.
func (e *Encoder) startFrame() {
	// Padding (2.4.2.3 "padding_bit"): one extra byte whenever the fractional part of
	// slotCoef*bitrate/rate has accumulated, so the mean frame length is exact.
	coef := e.f.slotCoef() * e.bitrate
	e.size = coef / e.f.rate
	e.pad = 0
	e.padRest -= coef % e.f.rate
	if e.padRest < 0 {
		e.padRest += e.f.rate
		e.pad = 1
	}
	e.size += e.pad
	e.used = 0
	maxBack := int64(255)
	if e.f.version == versionMPEG1 {
		maxBack = 511
	}
	if e.payloadPos-e.written > maxBack { // bytes out of reach stay zero (ancillary data)
		e.zeroFill(e.payloadPos - maxBack)
	}
	e.mainDataBegin = int(e.payloadPos - e.written)
	payload := e.size - 4 - e.f.sideInfo
	e.budget = payload*8 + e.mainDataBegin*8/2
}

// zeroFill extends the main data stream with zero bytes up to position to.
func (e *Encoder) zeroFill(to int64) {
	for e.written < to {
		e.mainData = append(e.mainData, 0)
		e.written++
	}
}

// pendingFrame is a frame whose header and side information are final but whose payload
// may still receive the main data of later frames.
type pendingFrame struct {
	head  []byte // header and side information
	start int64  // position of its payload in the main data stream
	size  int    // payload bytes
}

// writeFrame lays out the frame: header and side information (2.4.1.7, single channel,
// long blocks) and its main data, appended to the main data stream from main_data_begin
// bytes before the frame's own payload. Frames go out once their payload is complete.
func (e *Encoder) writeFrame() {
	w := &e.w
	w.reset()
	writeHeader(w, e.f, e.brIndex, e.pad, true)
	mpeg1 := e.f.version == versionMPEG1
	if mpeg1 {
		w.put(uint32(e.mainDataBegin), 9)
		w.put(0, 5) // private_bits
		w.put(0, 4) // scfsi
	} else {
		w.put(uint32(e.mainDataBegin), 8)
		w.put(0, 1)
	}
	for i := range e.f.granules {
		g := &e.gr[i]
		w.put(uint32(g.part23), 12)
		w.put(uint32(g.bigValues), 9)
		w.put(uint32(g.globalGain), 8)
		if mpeg1 {
			w.put(0, 4) // scalefac_compress: slen1 = slen2 = 0
		} else {
			w.put(0, 9)
		}
		w.put(0, 1) // window_switching_flag: long blocks
		for _, t := range g.tables {
			w.put(uint32(t), 5)
		}
		w.put(uint32(g.region0), 4)
		w.put(uint32(g.region1), 3)
		if mpeg1 {
			w.put(0, 1) // preflag
		}
		w.put(0, 1) // scalefac_scale
		w.put(uint32(g.count1Table), 1)
	}
	head := append([]byte(nil), w.bytes()...)
	w.reset()
	for i := range e.f.granules {
		writeHuffman(w, &e.gr[i], e.f.sfb, &e.xr[i])
	}
	data := w.bytes()
	e.mainData = append(e.mainData, data...)
	e.written += int64(len(data))
	payload := e.size - 4 - e.f.sideInfo
	e.pending = append(e.pending, pendingFrame{head, e.payloadPos, payload})
	e.payloadPos += int64(payload)
	e.emit(false)
}

// emit writes out the pending frames whose payload is complete, or all of them at the
// end of the stream (their unused tails zero-filled).
func (e *Encoder) emit(all bool) {
	for len(e.pending) > 0 {
		p := e.pending[0]
		end := p.start + int64(p.size)
		if end > e.written && !all {
			return
		}
		e.zeroFill(end)
		if e.id3 {
			e.out = append(e.out, id3Tag...)
			e.id3 = false
		}
		e.out = append(e.out, p.head...)
		from := p.start - e.mainDataBase
		e.out = append(e.out, e.mainData[from:from+int64(p.size)]...)
		// Bytes before the next frame's payload can no longer be read by anyone.
		drop := end - e.mainDataBase
		e.mainData = e.mainData[:copy(e.mainData, e.mainData[drop:])]
		e.mainDataBase = end
		e.pending = e.pending[1:]
	}
}

// writeHeader writes the 32-bit frame header (2.4.1.3): Layer III, no CRC, single channel.
func writeHeader(w *bitWriter, f format, brIndex, pad int, original bool) {
	w.put(0x7ff, 11) // syncword (with the MPEG-2.5 extension: 11 bits)
	w.put(uint32(f.version), 2)
	w.put(1, 2) // layer: '01' is Layer III
	w.put(1, 1) // protection_bit: no CRC
	w.put(uint32(brIndex), 4)
	w.put(uint32(f.rateIndex), 2)
	w.put(uint32(pad), 1)
	w.put(0, 1) // private_bit
	w.put(3, 2) // mode: single channel
	w.put(0, 2) // mode_extension
	w.put(0, 1) // copyright
	if original {
		w.put(1, 1)
	} else {
		w.put(0, 1)
	}
	w.put(0, 2) // emphasis
}

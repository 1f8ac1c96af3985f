package audio

import (
	"crypto/md5"
	"encoding/binary"
)

// FLAC (RFC 9639), lossless: the decoded samples are exactly the input, which is what the
// API promises of flac. Legacy's FFmpeg encoder (LPC up to order 8, a VORBIS_COMMENT block)
// writes other bytes for the same samples; decoders cannot tell, and the shadow comparator
// compares decoded audio. This encoder is the format's simple half: frames of a fixed block
// size, each subframe CONSTANT, FIXED (polynomial predictor of order 0-4, the cheapest) or
// VERBATIM, residuals Rice-coded in the best of partition orders 0-6. On the eSpeak sample
// in testdata the frames take 72 % of the 16-bit samples' size, FFmpeg's LPC frames 67 %;
// legacy's whole file is the larger (FFmpeg adds 8 KiB of PADDING and a VORBIS_COMMENT).

const (
	flacBlockSize       = 4096
	flacMaxPartitionOrd = 6
)

// flacSampleRateCodes are the frame header's codes of the rates a header can name itself.
var flacSampleRateCodes = map[int]byte{
	8000: 0b0100, 16000: 0b0101, 22050: 0b0110, 24000: 0b0111, 32000: 0b1000, 44100: 0b1001,
	48000: 0b1010, 88200: 0b0001, 176400: 0b0010, 192000: 0b0011, 96000: 0b1011,
}

// encodeFLAC is one whole FLAC file of 16-bit mono pcm at sampleRate: the STREAMINFO block
// (sizes, total samples, MD5 of the samples) and the frames.
func encodeFLAC(pcm []byte, sampleRate int) []byte {
	samples := make([]int32, len(pcm)/2)
	for i := range samples {
		samples[i] = int32(int16(binary.LittleEndian.Uint16(pcm[2*i:])))
	}
	var frames []byte
	minFrame, maxFrame := 0, 0
	for start, number := 0, 0; start < len(samples); start, number = start+flacBlockSize, number+1 {
		frame := flacFrame(samples[start:min(start+flacBlockSize, len(samples))], number, sampleRate)
		if minFrame == 0 || len(frame) < minFrame {
			minFrame = len(frame)
		}
		maxFrame = max(maxFrame, len(frame))
		frames = append(frames, frame...)
	}
	out := make([]byte, 0, 42+len(frames))
	out = append(out, "fLaC"...)
	out = append(out, 0x80, 0, 0, 34) // the last metadata block, STREAMINFO, 34 bytes
	// Every block but the last has the fixed size (the last's does not count as the minimum).
	out = binary.BigEndian.AppendUint16(out, flacBlockSize)
	out = binary.BigEndian.AppendUint16(out, flacBlockSize)
	out = append(out, byte(minFrame>>16), byte(minFrame>>8), byte(minFrame))
	out = append(out, byte(maxFrame>>16), byte(maxFrame>>8), byte(maxFrame))
	// sample rate (20 bits), channels-1 (3), bits per sample-1 (5), total samples (36)
	packed := uint64(sampleRate)<<44 | 0<<41 | 15<<36 | uint64(len(samples))
	out = binary.BigEndian.AppendUint64(out, packed)
	sum := md5.Sum(pcm[:2*len(samples)])
	out = append(out, sum[:]...)
	return append(out, frames...)
}

// flacFrame is one frame holding block (one channel's samples), numbered for the header.
func flacFrame(block []int32, number, sampleRate int) []byte {
	var w bitWriter
	w.write(0xFFF8, 16) // sync code, fixed block size
	sizeCode := byte(0b0111)
	switch {
	case len(block) == 4096:
		sizeCode = 0b1100
	case len(block) <= 256:
		sizeCode = 0b0110
	}
	rateCode, named := flacSampleRateCodes[sampleRate]
	if !named {
		rateCode = 0 // from STREAMINFO
	}
	w.write(uint64(sizeCode)<<4|uint64(rateCode), 8)
	w.write(0b0000_100_0, 8) // mono, 16 bits per sample, reserved
	w.bytes = appendUTF8Number(w.bytes, uint64(number))
	switch sizeCode {
	case 0b0110:
		w.write(uint64(len(block)-1), 8)
	case 0b0111:
		w.write(uint64(len(block)-1), 16)
	}
	w.bytes = append(w.bytes, crc8(w.bytes))
	writeSubframe(&w, block)
	w.align()
	return binary.BigEndian.AppendUint16(w.bytes, crc16(w.bytes))
}

// writeSubframe writes block as CONSTANT, the cheapest FIXED predictor, or VERBATIM.
func writeSubframe(w *bitWriter, block []int32) {
	constant := true
	for _, s := range block[1:] {
		if s != block[0] {
			constant = false
			break
		}
	}
	if constant {
		w.write(0b0_000000_0, 8)
		w.writeSigned(int64(block[0]), 16)
		return
	}
	bestOrder, bestBits, bestPlan := -1, 16*len(block), residualPlan{}
	for order := 0; order <= 4 && order < len(block); order++ {
		residual := fixedResidual(block, order)
		plan := planRice(residual, len(block), order)
		if cost := 16*order + plan.bits; cost < bestBits {
			bestOrder, bestBits, bestPlan = order, cost, plan
			bestPlan.residual = residual
		}
	}
	if bestOrder < 0 {
		w.write(0b0_000001_0, 8)
		for _, s := range block {
			w.writeSigned(int64(s), 16)
		}
		return
	}
	w.write(uint64(0b001000|bestOrder)<<1, 8)
	for _, s := range block[:bestOrder] {
		w.writeSigned(int64(s), 16)
	}
	w.write(0, 2) // Rice coding, 4-bit parameters
	w.write(uint64(bestPlan.order), 4)
	parts := 1 << bestPlan.order
	at := 0
	for p := 0; p < parts; p++ {
		n := len(block) >> bestPlan.order
		if p == 0 {
			n -= bestOrder
		}
		k := bestPlan.params[p]
		w.write(uint64(k), 4)
		for _, r := range bestPlan.residual[at : at+n] {
			u := zigzag(r)
			w.writeUnary(u >> k)
			w.write(u&(1<<k-1), k)
		}
		at += n
	}
}

// fixedResidual is block's residual after the fixed polynomial predictor of order.
func fixedResidual(block []int32, order int) []int64 {
	out := make([]int64, 0, len(block)-order)
	for i := order; i < len(block); i++ {
		x := func(j int) int64 { return int64(block[i-j]) }
		var r int64
		switch order {
		case 0:
			r = x(0)
		case 1:
			r = x(0) - x(1)
		case 2:
			r = x(0) - 2*x(1) + x(2)
		case 3:
			r = x(0) - 3*x(1) + 3*x(2) - x(3)
		case 4:
			r = x(0) - 4*x(1) + 6*x(2) - 4*x(3) + x(4)
		}
		out = append(out, r)
	}
	return out
}

type residualPlan struct {
	order    int    // partition order
	params   []uint // Rice parameter per partition
	bits     int    // the residual's size, coding method and parameters included
	residual []int64
}

// planRice picks the partition order and per-partition Rice parameters (0-14) that code
// residual in the fewest bits.
func planRice(residual []int64, blockSize, predictorOrder int) residualPlan {
	best := residualPlan{bits: 1 << 62}
	for order := 0; order <= flacMaxPartitionOrd; order++ {
		parts := 1 << order
		if blockSize%parts != 0 || blockSize>>order <= predictorOrder {
			break
		}
		plan := residualPlan{order: order, bits: 6, params: make([]uint, parts)}
		at := 0
		for p := 0; p < parts; p++ {
			n := blockSize >> order
			if p == 0 {
				n -= predictorOrder
			}
			k, cost := bestRiceParameter(residual[at : at+n])
			plan.params[p] = k
			plan.bits += 4 + cost
			at += n
		}
		if plan.bits < best.bits {
			best = plan
		}
	}
	return best
}

// bestRiceParameter is the parameter k (0-14) coding part in the fewest bits, and that cost.
func bestRiceParameter(part []int64) (uint, int) {
	var sum uint64
	for _, r := range part {
		sum += zigzag(r)
	}
	bestK, bestCost := uint(0), -1
	for k := uint(0); k <= 14; k++ {
		cost := len(part)*(int(k)+1) + int(sum>>k) // close: sum of quotients ≈ sum >> k
		if bestCost < 0 || cost < bestCost {
			bestK, bestCost = k, cost
		}
	}
	// the exact cost of the chosen parameter
	exact := 0
	for _, r := range part {
		exact += int(zigzag(r)>>bestK) + 1 + int(bestK)
	}
	return bestK, exact
}

func zigzag(r int64) uint64 { return uint64(r<<1) ^ uint64(r>>63) }

// appendUTF8Number is the frame number coded as FLAC's extended UTF-8 (up to 36 bits).
func appendUTF8Number(b []byte, n uint64) []byte {
	if n < 0x80 {
		return append(b, byte(n))
	}
	length := 2
	for n >= 1<<(5*length+1) {
		length++
	}
	first := byte(0xFF<<(8-length)) | byte(n>>(6*(length-1)))
	b = append(b, first)
	for i := length - 2; i >= 0; i-- {
		b = append(b, 0x80|byte(n>>(6*i))&0x3F)
	}
	return b
}

// bitWriter writes big-endian bit fields.
type bitWriter struct {
	bytes []byte
	acc   uint64
	n     uint // bits in acc
}

func (w *bitWriter) write(v uint64, width uint) {
	for width > 0 {
		take := min(width, 56-w.n)
		w.acc = w.acc<<take | (v>>(width-take))&(1<<take-1)
		w.n += take
		width -= take
		for w.n >= 8 {
			w.n -= 8
			w.bytes = append(w.bytes, byte(w.acc>>w.n))
		}
	}
}

func (w *bitWriter) writeSigned(v int64, width uint) { w.write(uint64(v)&(1<<width-1), width) }

// writeUnary writes q zeros and a one.
func (w *bitWriter) writeUnary(q uint64) {
	for q >= 32 {
		w.write(0, 32)
		q -= 32
	}
	w.write(1, uint(q)+1)
}

// align pads the last byte with zeros.
func (w *bitWriter) align() {
	if w.n > 0 {
		w.write(0, 8-w.n)
	}
}

// crc8 is FLAC's header CRC (polynomial x^8 + x^2 + x + 1, initial 0).
func crc8(b []byte) byte {
	var crc byte
	for _, c := range b {
		crc ^= c
		for range 8 {
			if crc&0x80 != 0 {
				crc = crc<<1 ^ 0x07
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// crc16 is FLAC's frame CRC (polynomial x^16 + x^15 + x^2 + 1, initial 0).
func crc16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc ^= uint16(c) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x8005
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

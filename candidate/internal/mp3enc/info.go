package mp3enc

import "encoding/binary"

// Encode returns a whole MP3 file of pcm: the ID3 tag, an Info frame, then the audio
// frames. The Info frame (the Xing header's CBR form, "Info") carries the frame and byte
// counts, a seek table, and the LAME tag's encoder delay and padding, so decoders that read
// it (FFmpeg, LAME, mpg123, browsers) play exactly len(pcm) samples. Its layout follows
// what FFmpeg's mp3 muxer writes for legacy in bitexact mode.
func Encode(pcm []int16, sampleRate, bitrate int) ([]byte, error) {
	e, err := NewEncoder(sampleRate, bitrate)
	if err != nil {
		return nil, err
	}
	if len(pcm) == 0 { // legacy's empty file is empty: FFmpeg writes nothing without a frame
		return nil, nil
	}
	e.id3 = false
	audio := e.Write(pcm)
	audio = append(audio, e.Flush()...)
	info := infoFrame(e, audio)
	out := make([]byte, 0, len(id3Tag)+len(info)+len(audio))
	out = append(out, id3Tag...)
	out = append(out, info...)
	return append(out, audio...), nil
}

// xingSize is the Xing header with every optional field (flags 0x0F) plus the LAME tag:
// "Info", flags, frames, bytes, a 100-byte TOC, quality, then 36 bytes of LAME tag.
const xingSize = 4 + 4 + 4 + 4 + 100 + 4 + 36

// infoFrame builds the Info frame for the encoded audio frames of e.
func infoFrame(e *Encoder, audio []byte) []byte {
	f := e.f
	offset := 4 + f.sideInfo // the tag starts right after the (empty) side information
	// The bitrate nearest the request, raised until the tag fits (the rule of FFmpeg's
	// muxer, so the frame matches legacy's: e.g. 40 kb/s at 16 kHz for a 32 kb/s request).
	brIndex, best := 1, -1
	for i := 1; i < 15; i++ {
		if d := abs(f.bitrates()[i]*1000 - e.requested); best < 0 || d < best {
			brIndex, best = i, d
		}
	}
	size := 0
	for ; brIndex < 15; brIndex++ {
		size = f.slotCoef() * f.bitrates()[brIndex] * 1000 / f.rate
		if offset+xingSize <= size {
			break
		}
	}
	frame := make([]byte, size)
	var w bitWriter
	writeHeader(&w, f, brIndex, 0, false)
	copy(frame, w.bytes())

	// Positions of the audio frames, for the frame count and the seek table.
	var ends []int // byte offset just after each audio frame, counted from the Info frame
	for pos := 0; pos+4 <= len(audio); {
		n := frameLength(audio[pos:])
		if n <= 0 {
			break
		}
		pos += n
		ends = append(ends, size+pos)
	}
	total := size + len(audio)

	p := frame[offset:]
	copy(p, "Info")
	binary.BigEndian.PutUint32(p[4:], 0x0f) // frames, bytes, TOC and quality present
	binary.BigEndian.PutUint32(p[8:], uint32(len(ends)))
	binary.BigEndian.PutUint32(p[12:], uint32(total))
	toc := p[16:116]
	for i := 1; i < 100 && len(ends) > 0; i++ {
		j := i * len(ends) / 100
		toc[i] = byte(min(256*int64(ends[j])/int64(total), 255))
	}
	// quality (p[116:120]) stays 0, as FFmpeg writes it.
	lame := p[120:156]
	// The 9-byte encoder string: decoders honour the delay fields only after one they know
	// ("LAME", "Lavf" or "Lavc" in FFmpeg's reader), so this is the one legacy's bitexact
	// FFmpeg writes, NUL padded.
	copy(lame, "Lavf")
	// lame[9]: tag revision 0, VBR method 0 (unknown); lowpass, peak, replay gains,
	// flags, ABR bitrate: 0.
	delay := codecDelay - decoderDelay
	padding := int(int64(len(ends))*int64(f.samplesPerFrame()) - e.fed - int64(delay))
	padding = max(padding, 0)
	lame[21] = byte(delay >> 4)
	lame[22] = byte(delay<<4) | byte(padding>>8&0x0f)
	lame[23] = byte(padding)
	// misc, mp3gain, preset: 0.
	binary.BigEndian.PutUint32(lame[28:], uint32(total))
	binary.BigEndian.PutUint16(lame[32:], crc16(audio, 0))
	binary.BigEndian.PutUint16(lame[34:], crc16(frame[:min(190, len(frame))], 0))
	return frame
}

// frameLength is the byte length of the frame whose header starts b, or 0 if b does not
// start with a Layer III header this package writes.
func frameLength(b []byte) int {
	if len(b) < 4 || b[0] != 0xff || b[1]&0xe0 != 0xe0 {
		return 0
	}
	version := int(b[1] >> 3 & 3)
	brIndex := int(b[2] >> 4)
	rateIndex := int(b[2] >> 2 & 3)
	pad := int(b[2] >> 1 & 1)
	for _, f := range formats {
		if f.version == version && f.rateIndex == rateIndex && brIndex > 0 && brIndex < 15 {
			return f.slotCoef()*f.bitrates()[brIndex]*1000/f.rate + pad
		}
	}
	return 0
}

// crc16 is the CRC-16 of the LAME tag (polynomial 0x8005, reflected, initial value 0),
// used for both its music CRC and its own CRC.
func crc16(data []byte, crc uint16) uint16 {
	for _, b := range data {
		crc ^= uint16(b)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0xa001
			} else {
				crc >>= 1
			}
		}
	}
	return crc
}

package flacenc

// bitWriter appends bit fields most significant bit first, as FLAC stores everything.
type bitWriter struct {
	buf  []byte
	acc  uint64
	nacc uint // pending bits in acc, < 8 after each put
}

// put writes the n low bits of v (n <= 56).
func (w *bitWriter) put(v uint64, n uint) {
	if n == 0 {
		return
	}
	w.acc = w.acc<<n | v&(1<<n-1)
	w.nacc += n
	for w.nacc >= 8 {
		w.nacc -= 8
		w.buf = append(w.buf, byte(w.acc>>w.nacc))
	}
}

// putUnary writes q zero bits and a one (the Rice quotient).
func (w *bitWriter) putUnary(q uint64) {
	for q >= 32 {
		w.put(0, 32)
		q -= 32
	}
	w.put(1, uint(q)+1)
}

// align pads with zero bits to the next byte boundary.
func (w *bitWriter) align() {
	if w.nacc > 0 {
		w.put(0, 8-w.nacc)
	}
}

// bytes aligns and returns the written bytes.
func (w *bitWriter) bytes() []byte {
	w.align()
	return w.buf
}

// putUTF8 writes v in FLAC's extended UTF-8 coding of frame numbers (RFC 9639 9.1.5).
func (w *bitWriter) putUTF8(v uint64) {
	if v < 0x80 {
		w.put(v, 8)
		return
	}
	n := 2 // total bytes
	for v >= 1<<(5*n+1) && n < 7 {
		n++
	}
	lead := uint64(0xff00>>n) & 0xff
	w.put(lead|v>>(6*(n-1)), 8)
	for i := n - 2; i >= 0; i-- {
		w.put(0x80|(v>>(6*i))&0x3f, 8)
	}
}

// crc8 is the frame header CRC: polynomial x^8+x^2+x+1 (0x07), initial 0.
func crc8(data []byte) uint8 {
	var crc uint8
	for _, b := range data {
		crc = crc8Table[crc^b]
	}
	return crc
}

// crc16 is the frame footer CRC: polynomial x^16+x^15+x^2+1 (0x8005), initial 0.
func crc16(data []byte) uint16 {
	var crc uint16
	for _, b := range data {
		crc = crc<<8 ^ crc16Table[byte(crc>>8)^b]
	}
	return crc
}

// The byte-at-a-time tables of both CRCs (MSB first, no reflection).
var crc8Table, crc16Table = func() (t8 [256]uint8, t16 [256]uint16) {
	for i := range 256 {
		c8, c16 := uint8(i), uint16(i)<<8
		for range 8 {
			if c8&0x80 != 0 {
				c8 = c8<<1 ^ 0x07
			} else {
				c8 <<= 1
			}
			if c16&0x8000 != 0 {
				c16 = c16<<1 ^ 0x8005
			} else {
				c16 <<= 1
			}
		}
		t8[i], t16[i] = c8, c16
	}
	return t8, t16
}()

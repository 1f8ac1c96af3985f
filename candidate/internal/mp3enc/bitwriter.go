package mp3enc

// bitWriter appends bit fields most significant bit first, the order of every field of
// the Layer III bitstream (11172-3 2.1, "bslbf"/"uimsbf").
type bitWriter struct {
	buf   []byte
	acc   uint64 // pending bits, right-aligned
	nacc  uint   // number of pending bits (< 8 after each put)
	nbits int    // total bits written
}

// put writes the n low bits of v (n <= 32).
func (w *bitWriter) put(v uint32, n uint) {
	if n == 0 {
		return
	}
	w.acc = w.acc<<n | uint64(v)&(1<<n-1)
	w.nacc += n
	w.nbits += int(n)
	for w.nacc >= 8 {
		w.nacc -= 8
		w.buf = append(w.buf, byte(w.acc>>w.nacc))
	}
}

// bytes pads the last partial byte with zero bits and returns the written bytes.
func (w *bitWriter) bytes() []byte {
	if w.nacc > 0 {
		w.buf = append(w.buf, byte(w.acc<<(8-w.nacc)))
		w.nacc = 0
		w.acc = 0
	}
	return w.buf
}

func (w *bitWriter) reset() {
	w.buf = w.buf[:0]
	w.acc, w.nacc, w.nbits = 0, 0, 0
}

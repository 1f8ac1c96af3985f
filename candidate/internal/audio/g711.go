package audio

// G.711 as FFmpeg's pcm_alaw and pcm_mulaw encoders do it (libavcodec/pcm_tablegen.h):
// a sample v becomes table[(v+32768)>>2], a table of 16384 entries built from the decoders'
// own expansion, each 14-bit input mapped to the code whose expansion is nearest (the
// midpoint between two neighbouring codes, rounded as FFmpeg rounds it, decides). Built
// once from the same arithmetic, so the bytes match FFmpeg's for every one of the 65536
// samples (the generated test checks them all).

var (
	linearToALaw = buildXLawTable(aLawToLinear, 0xd5)
	linearToULaw = buildXLawTable(uLawToLinear, 0xff)
)

// aLawToLinear is FFmpeg's alaw2linear.
func aLawToLinear(a byte) int {
	a ^= 0x55
	t := int(a & 0x0f)
	seg := int(a&0x70) >> 4
	if seg != 0 {
		t = (t + t + 1 + 32) << (seg + 2)
	} else {
		t = (t + t + 1) << 3
	}
	if a&0x80 != 0 {
		return t
	}
	return -t
}

// uLawToLinear is FFmpeg's ulaw2linear.
func uLawToLinear(u byte) int {
	const bias = 0x84
	u = ^u
	t := (int(u&0x0f) << 3) + bias
	t <<= int(u&0x70) >> 4
	if u&0x80 != 0 {
		return bias - t
	}
	return t - bias
}

// buildXLawTable is FFmpeg's build_xlaw_table.
func buildXLawTable(toLinear func(byte) int, mask byte) *[16384]byte {
	var table [16384]byte
	j := 1
	table[8192] = mask
	for i := 0; i < 127; i++ {
		v1 := toLinear(byte(i) ^ mask)
		v2 := toLinear(byte(i+1) ^ mask)
		v := (v1 + v2 + 4) >> 3
		for ; j < v; j++ {
			table[8192-j] = byte(i) ^ (mask ^ 0x80)
			table[8192+j] = byte(i) ^ mask
		}
	}
	for ; j < 8192; j++ {
		table[8192-j] = 127 ^ (mask ^ 0x80)
		table[8192+j] = 127 ^ mask
	}
	table[0] = table[1]
	return &table
}

// g711 encodes 16-bit samples with table, one byte each.
func g711(pcm []byte, table *[16384]byte) []byte {
	out := make([]byte, len(pcm)/2)
	for i := range out {
		v := int(int16(uint16(pcm[2*i]) | uint16(pcm[2*i+1])<<8))
		out[i] = table[(v+32768)>>2]
	}
	return out
}

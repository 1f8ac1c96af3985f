package audioin

import (
	"encoding/binary"
	"fmt"
	"math"
)

// sampleFormat is what FFmpeg's PCM decoder of the WAV's codec hands the resampler.
type sampleFormat int

const (
	fmtU8  sampleFormat = iota // pcm_u8
	fmtS16                     // pcm_s16le, pcm_alaw, pcm_mulaw (decoded by table)
	fmtS32                     // pcm_s24le (shifted left by 8) and pcm_s32le
	fmtFlt                     // pcm_f32le
	fmtDbl                     // pcm_f64le
)

// wavStream is a parsed WAV; decodeSamples fills in its samples, interleaved, in the
// decoder's format.
type wavStream struct {
	rate, channels int
	mask           uint64 // WAVE_FORMAT_EXTENSIBLE's channel mask; 0 when unspecified
	format         sampleFormat
	// samples holds one value per sample and channel, interleaved: int32 for the integer
	// formats, float64 holding a float32 or float64 for the float ones.
	ints        []int32
	floats      []float64
	blockAlign  int // the header's, which sets the demuxer's packet size
	frameLength int // samples per channel
	frameBytes  int // bytes of one sample of every channel
	tag         uint16
	width       int    // bytes per sample
	payload     []byte // the data chunk
}

// NotPorted is an input the candidate recognises but does not decode: the route answers 501
// and legacy (FFmpeg) serves it.
type NotPorted struct{ What string }

func (e *NotPorted) Error() string {
	return e.What + " input is not ported to the candidate yet; legacy serves it"
}

// errUnreadable is what FFmpeg cannot open: legacy's "could not read the file as audio".
type errUnreadable struct{ why string }

func (e *errUnreadable) Error() string { return "unreadable WAV: " + e.why }

const (
	tagPCM        = 1
	tagFloat      = 3
	tagALaw       = 6
	tagMuLaw      = 7
	tagExtensible = 0xfffe
)

// parseWAV reads a RIFF/WAVE file as FFmpeg's wav demuxer and PCM decoders do: the first
// 'fmt ' chunk, then the 'data' chunk (a declared size of 0 or 0xFFFFFFFF, or one past the
// end of the file, reads to the end), whole sample frames only.
func parseWAV(data []byte) (*wavStream, error) {
	var (
		gotFmt           bool
		tag              uint16
		channels, rate   int
		blockAlign, bits int
		mask             uint64
		payload          []byte
		gotData          bool
	)
	// Chunks in any order (the input is seekable): the first 'fmt ' counts, the last 'data'
	// wins; a data chunk of size 0 or 0xFFFFFFFF runs to the end of the file and ends the
	// scan, as does a chunk reaching past the end. Odd chunks are padded to even.
	pos := 12
	for pos+8 <= len(data) {
		id := string(data[pos : pos+4])
		size := int64(binary.LittleEndian.Uint32(data[pos+4:]))
		body := pos + 8
		stop := false
		switch id {
		case "fmt ":
			if gotFmt {
				break
			}
			if size < 14 || int64(body)+size > int64(len(data)) {
				return nil, &errUnreadable{"short fmt chunk"}
			}
			f := data[body : body+int(size)]
			gotFmt = true
			tag = binary.LittleEndian.Uint16(f[0:])
			channels = int(binary.LittleEndian.Uint16(f[2:]))
			rate = int(binary.LittleEndian.Uint32(f[4:]))
			blockAlign = int(binary.LittleEndian.Uint16(f[12:]))
			bits = 8
			if size >= 16 {
				bits = int(binary.LittleEndian.Uint16(f[14:]))
			}
			if tag == tagExtensible {
				if size < 40 || binary.LittleEndian.Uint16(f[16:]) < 22 {
					return nil, &errUnreadable{"short WAVE_FORMAT_EXTENSIBLE"}
				}
				valid := int(binary.LittleEndian.Uint16(f[18:]))
				mask = uint64(binary.LittleEndian.Uint32(f[20:]))
				tag = binary.LittleEndian.Uint16(f[24:])
				if string(f[26:40]) != "\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71" {
					return nil, &NotPorted{"WAV (a non-PCM WAVE_FORMAT_EXTENSIBLE sub-format)"}
				}
				if valid != 0 && valid != bits {
					return nil, &NotPorted{fmt.Sprintf("WAV (%d valid bits in %d-bit samples)", valid, bits)}
				}
			}
		case "data":
			end := int64(len(data))
			if size != 0 && size != 0xffffffff && int64(body)+size < end {
				end = int64(body) + size
			}
			payload = data[min(body, len(data)):end]
			gotData = true
			stop = size == 0 || size == 0xffffffff
		}
		next := int64(body) + size
		next += next & 1
		if stop || next >= int64(len(data)) {
			break
		}
		pos = int(next)
	}
	if !gotFmt || !gotData {
		return nil, &errUnreadable{"no fmt or data chunk"}
	}
	if rate == 0 {
		return nil, &errUnreadable{"no sample rate"}
	}
	if channels > 8 {
		return nil, &NotPorted{fmt.Sprintf("WAV (%d channels)", channels)}
	}
	if mask != 0 && popcount(mask) != channels {
		mask = 0
	}
	var format sampleFormat
	var width int
	switch {
	case tag == tagPCM && (bits+7)/8 == 1:
		format, width = fmtU8, 1
	case tag == tagPCM && (bits+7)/8 == 2:
		format, width = fmtS16, 2
	case tag == tagPCM && (bits+7)/8 == 3:
		format, width = fmtS32, 3
	case tag == tagPCM && (bits+7)/8 == 4:
		format, width = fmtS32, 4
	case tag == tagFloat && bits == 32:
		format, width = fmtFlt, 4
	case tag == tagFloat && bits == 64:
		format, width = fmtDbl, 8
	case tag == tagALaw || tag == tagMuLaw:
		format, width = fmtS16, 1
	case tag == tagFloat:
		// No float decoder of that width: FFmpeg opens the file and fails to decode it.
		return nil, &Rejected{"the wav audio is damaged: [Errno 1128613112] Decoder not found"}
	default:
		return nil, &NotPorted{fmt.Sprintf("WAV (codec tag 0x%04x, %d-bit)", tag, bits)}
	}
	if channels == 0 {
		return nil, &Rejected{fmt.Sprintf("the wav audio is damaged: Invalid argument: 'avcodec_open2(\"%s\", {})' returned 22",
			decoderName(tag, format, width))}
	}
	frame := width * channels
	return &wavStream{rate: rate, channels: channels, mask: mask, format: format, tag: tag, width: width,
		blockAlign: blockAlign, frameLength: len(payload) / frame, frameBytes: frame, payload: payload}, nil
}

// decodeSamples is the PCM decoder: the payload's whole sample frames, in the decoder's
// format. Separate from parseWAV so a file over the length limit is refused before its
// samples are expanded.
func (s *wavStream) decodeSamples() {
	count := s.frameLength * s.channels
	switch s.format {
	case fmtFlt, fmtDbl:
		s.floats = make([]float64, count)
	default:
		s.ints = make([]int32, count)
	}
	for i := 0; i < count; i++ {
		b := s.payload[i*s.width:]
		switch {
		case s.tag == tagALaw:
			s.ints[i] = int32(alaw(b[0]))
		case s.tag == tagMuLaw:
			s.ints[i] = int32(ulaw(b[0]))
		case s.format == fmtU8:
			s.ints[i] = int32(b[0])
		case s.format == fmtS16:
			s.ints[i] = int32(int16(binary.LittleEndian.Uint16(b)))
		case s.format == fmtS32 && s.width == 3:
			s.ints[i] = int32(uint32(b[0])<<8 | uint32(b[1])<<16 | uint32(b[2])<<24)
		case s.format == fmtS32:
			s.ints[i] = int32(binary.LittleEndian.Uint32(b))
		case s.format == fmtFlt:
			s.floats[i] = float64(float32frombits(binary.LittleEndian.Uint32(b)))
		case s.format == fmtDbl:
			s.floats[i] = float64frombits(binary.LittleEndian.Uint64(b))
		}
	}
}

// decoderName is FFmpeg's name of the PCM decoder of a WAV's codec.
func decoderName(tag uint16, format sampleFormat, width int) string {
	switch {
	case tag == tagALaw:
		return "pcm_alaw"
	case tag == tagMuLaw:
		return "pcm_mulaw"
	case format == fmtFlt:
		return "pcm_f32le"
	case format == fmtDbl:
		return "pcm_f64le"
	}
	return map[int]string{1: "pcm_u8", 2: "pcm_s16le", 3: "pcm_s24le", 4: "pcm_s32le"}[width]
}

func popcount(m uint64) int {
	n := 0
	for ; m != 0; m &= m - 1 {
		n++
	}
	return n
}

// alaw and ulaw are G.711 expansion as FFmpeg's pcm decoders tabulate it (pcm_tablegen.h).
func alaw(a byte) int16 {
	a ^= 0x55
	t := int(a&0x0f) << 4
	seg := int(a&0x70) >> 4
	switch seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t += 0x108
		t <<= seg - 1
	}
	if a&0x80 != 0 {
		return int16(t)
	}
	return int16(-t)
}

func ulaw(u byte) int16 {
	const bias = 0x84
	u = ^u
	t := (int(u&0x0f) << 3) + bias
	t <<= (int(u) & 0x70) >> 4
	if u&0x80 != 0 {
		return int16(bias - t)
	}
	return int16(t - bias)
}

func float32frombits(b uint32) float32 { return math.Float32frombits(b) }
func float64frombits(b uint64) float64 { return math.Float64frombits(b) }

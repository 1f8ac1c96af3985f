package audio

import (
	"encoding/binary"

	"banyan/candidate/internal/flacenc"
	"banyan/candidate/internal/mp3enc"
)

// StreamEncoder is legacy's AudioEncoder writing to a pipe (codecs.py's _Sink): PCM fed in
// pieces comes out as one continuous file of the codec, each Feed returning what is ready
// (an encoder may hold a frame back) and Finish the rest. With nowhere to seek back to, a
// container cannot complete its header, so, as FFmpeg does:
//
//   - wav, mulaw, alaw: the RIFF and data sizes are 0xFFFFFFFF ("unknown", which players
//     read as "until the end") and G.711 has no fact chunk; the header comes with the
//     first bytes. Byte for byte as legacy's.
//   - mp3: the ID3 tag then the frames, no Info frame (mp3enc's streaming Encoder).
//   - flac: STREAMINFO with the totals unknown (flacenc's streaming Encoder).
//   - linear16: the samples themselves.
//
// Not safe for concurrent use.
type StreamEncoder interface {
	Feed(pcm []byte) []byte
	Finish() []byte
}

// NewStreamEncoder returns the encoder for codec at sampleRate; bitrate (b/s) is for mp3.
// The error is Encode's: a rate the codec cannot carry, or a *NotPortedError.
func NewStreamEncoder(codec string, sampleRate, bitrate int) (StreamEncoder, error) {
	if err := CheckSampleRate(codec, sampleRate); err != nil {
		return nil, err
	}
	switch codec {
	case "linear16":
		return &rawStream{}, nil
	case "wav":
		return &rawStream{header: streamingWAVHeader(sampleRate, 1, 2, 16, 16)}, nil
	case "mulaw":
		return &rawStream{header: streamingWAVHeader(sampleRate, 7, 1, 8, 18), convert: linearToULaw}, nil
	case "alaw":
		return &rawStream{header: streamingWAVHeader(sampleRate, 6, 1, 8, 18), convert: linearToALaw}, nil
	case "mp3":
		e, err := mp3enc.NewEncoder(sampleRate, bitrate)
		if err != nil {
			return nil, err
		}
		return codecStream{e.WriteBytes, e.Flush}, nil
	case "flac":
		e, err := flacenc.NewEncoder(sampleRate)
		if err != nil {
			return nil, err
		}
		return codecStream{e.WriteBytes, e.Flush}, nil
	}
	return nil, &NotPortedError{Codec: codec}
}

// codecStream adapts the encoders' Write/Flush.
type codecStream struct {
	feed   func([]byte) []byte
	finish func() []byte
}

func (c codecStream) Feed(pcm []byte) []byte { return c.feed(pcm) }
func (c codecStream) Finish() []byte         { return c.finish() }

// rawStream is the sample formats: a header before the first sample, then each sample as it
// comes (16-bit, or G.711 through convert); an odd byte waits for its pair.
type rawStream struct {
	header  []byte
	convert *[16384]byte
	odd     []byte
}

func (s *rawStream) Feed(pcm []byte) []byte {
	if len(s.odd) == 1 && len(pcm) > 0 {
		pcm = append([]byte{s.odd[0]}, pcm...)
		s.odd = s.odd[:0]
	}
	if len(pcm)%2 == 1 {
		s.odd = append(s.odd[:0], pcm[len(pcm)-1])
		pcm = pcm[:len(pcm)-1]
	}
	if len(pcm) == 0 {
		return nil
	}
	out := s.header
	s.header = nil
	if s.convert != nil {
		return append(out, g711(pcm, s.convert)...)
	}
	return append(out, pcm...)
}

func (s *rawStream) Finish() []byte { return nil }

// streamingWAVHeader is FFmpeg's wav muxer's header on a pipe: sizes unknown (0xFFFFFFFF),
// fmtSize 16 for PCM, 18 (a cbSize of 0) for G.711, and no fact chunk.
func streamingWAVHeader(sampleRate int, formatTag, blockAlign, bits uint16, fmtSize uint32) []byte {
	out := make([]byte, 0, 46)
	out = append(out, "RIFF"...)
	out = binary.LittleEndian.AppendUint32(out, 0xFFFFFFFF)
	out = append(out, "WAVEfmt "...)
	out = binary.LittleEndian.AppendUint32(out, fmtSize)
	out = binary.LittleEndian.AppendUint16(out, formatTag)
	out = binary.LittleEndian.AppendUint16(out, 1) // channels
	out = binary.LittleEndian.AppendUint32(out, uint32(sampleRate))
	out = binary.LittleEndian.AppendUint32(out, uint32(sampleRate)*uint32(blockAlign))
	out = binary.LittleEndian.AppendUint16(out, blockAlign)
	out = binary.LittleEndian.AppendUint16(out, bits)
	if fmtSize == 18 {
		out = binary.LittleEndian.AppendUint16(out, 0) // cbSize
	}
	out = append(out, "data"...)
	return binary.LittleEndian.AppendUint32(out, 0xFFFFFFFF)
}

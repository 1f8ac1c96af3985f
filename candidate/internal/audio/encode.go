package audio

import (
	"encoding/binary"
	"fmt"
	"slices"

	"banyan/candidate/internal/flacenc"
	"banyan/candidate/internal/mp3enc"
)

// Codecs are the API's output_audio_codec names (legacy's CodecName, in its order).
var Codecs = []string{"mp3", "linear16", "mulaw", "alaw", "opus", "flac", "aac", "wav"}

// OpusSampleRates are the rates Opus carries (legacy's OPUS_SAMPLE_RATES).
var OpusSampleRates = []int{8000, 12000, 16000, 24000, 48000}

// mediaTypes are legacy's CODECS media types.
var mediaTypes = map[string]string{
	"mp3": "audio/mpeg", "wav": "audio/wav", "linear16": "audio/pcm", "mulaw": "audio/wav",
	"alaw": "audio/wav", "opus": "audio/ogg", "flac": "audio/flac", "aac": "audio/aac",
}

// MediaType is the codec's content type ("" for a name that is not a codec).
func MediaType(codec string) string { return mediaTypes[codec] }

// NotPortedError is a codec the candidate cannot produce yet (legacy encodes it with a lossy
// FFmpeg encoder the Go standard library has no counterpart of: FFmpeg's AAC, libopus).
type NotPortedError struct{ Codec string }

func (e *NotPortedError) Error() string {
	return fmt.Sprintf("output_audio_codec '%s' is not ported to the candidate yet; legacy serves it", e.Codec)
}

// Ported reports whether Encode produces codec (false: a *NotPortedError).
func Ported(codec string) bool {
	switch codec {
	case "wav", "linear16", "mulaw", "alaw", "flac", "mp3":
		return true
	}
	return false
}

// CheckSampleRate is legacy's codecs.check_sample_rate: an error, in legacy's words, when
// codec cannot carry sampleRate (Opus only), or codec is not a codec.
func CheckSampleRate(codec string, sampleRate int) error {
	if _, ok := mediaTypes[codec]; !ok {
		return fmt.Errorf("unknown codec '%s'; use one of mp3, wav, linear16, mulaw, alaw, opus, flac, aac", codec)
	}
	if codec == "opus" && !slices.Contains(OpusSampleRates, sampleRate) {
		return fmt.Errorf("opus carries only 8000, 12000, 16000, 24000, 48000 Hz; set speech_sample_rate to one of them (got %d)", sampleRate)
	}
	return nil
}

// Encode is legacy's codecs.encode: one whole file of codec holding pcm at sampleRate.
//
//   - wav: Python's wave module's plain 44-byte header (no LIST chunk), 16-bit samples;
//   - linear16: the samples themselves, no header;
//   - mulaw, alaw: G.711 in a WAV as FFmpeg's wav muxer writes it in bitexact mode (an
//     18-byte fmt chunk with cbSize 0, a fact chunk with the sample count, the data chunk
//     padded to an even length); no samples at all give no bytes at all, as PyAV writes
//     nothing before the first packet;
//   - flac: lossless, so the decoded samples are legacy's, in other bytes (internal/flacenc);
//   - mp3: constant bitrate at the bitrate LAME settles on for bitrate (b/s; 0 or less is
//     the 128 kb/s default), framed as FFmpeg's muxer frames LAME's output (internal/mp3enc).
//     Lossy: another encoder's frames, so the shadow compares it as decoded signal.
//
// Other codecs are a *NotPortedError; a rate the codec cannot carry is CheckSampleRate's
// error.
func Encode(pcm []byte, sampleRate int, codec string, bitrate int) ([]byte, error) {
	if err := CheckSampleRate(codec, sampleRate); err != nil {
		return nil, err
	}
	pcm = pcm[:len(pcm)&^1]
	switch codec {
	case "wav":
		return pcmWAV(pcm, sampleRate), nil
	case "linear16":
		return slices.Clone(pcm), nil
	case "mulaw":
		return g711WAV(g711(pcm, linearToULaw), sampleRate, 7), nil
	case "alaw":
		return g711WAV(g711(pcm, linearToALaw), sampleRate, 6), nil
	case "flac":
		return flacenc.Encode(int16s(pcm), sampleRate)
	case "mp3":
		return mp3enc.Encode(int16s(pcm), sampleRate, bitrate)
	}
	return nil, &NotPortedError{Codec: codec}
}

// int16s reads 16-bit little-endian PCM.
func int16s(pcm []byte) []int16 {
	out := make([]int16, len(pcm)/2)
	for i := range out {
		out[i] = int16(binary.LittleEndian.Uint16(pcm[2*i:]))
	}
	return out
}

// pcmWAV is wave.open(…, "wb") with one channel, 2-byte samples, sampleRate.
func pcmWAV(pcm []byte, sampleRate int) []byte {
	out := make([]byte, 0, 44+len(pcm))
	out = append(out, "RIFF"...)
	out = binary.LittleEndian.AppendUint32(out, uint32(36+len(pcm)))
	out = append(out, "WAVEfmt "...)
	out = binary.LittleEndian.AppendUint32(out, 16)
	out = binary.LittleEndian.AppendUint16(out, 1) // WAVE_FORMAT_PCM
	out = binary.LittleEndian.AppendUint16(out, 1) // channels
	out = binary.LittleEndian.AppendUint32(out, uint32(sampleRate))
	out = binary.LittleEndian.AppendUint32(out, uint32(2*sampleRate)) // bytes per second
	out = binary.LittleEndian.AppendUint16(out, 2)                    // block align
	out = binary.LittleEndian.AppendUint16(out, 16)                   // bits per sample
	out = append(out, "data"...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(pcm)))
	return append(out, pcm...)
}

// g711WAV is FFmpeg's wav muxer (bitexact, seekable output) around 8-bit G.711 samples of
// formatTag (7 µ-law, 6 A-law).
func g711WAV(samples []byte, sampleRate int, formatTag uint16) []byte {
	if len(samples) == 0 {
		return []byte{}
	}
	pad := len(samples) & 1
	out := make([]byte, 0, 58+len(samples)+pad)
	out = append(out, "RIFF"...)
	out = binary.LittleEndian.AppendUint32(out, uint32(50+len(samples)+pad))
	out = append(out, "WAVEfmt "...)
	out = binary.LittleEndian.AppendUint32(out, 18)
	out = binary.LittleEndian.AppendUint16(out, formatTag)
	out = binary.LittleEndian.AppendUint16(out, 1) // channels
	out = binary.LittleEndian.AppendUint32(out, uint32(sampleRate))
	out = binary.LittleEndian.AppendUint32(out, uint32(sampleRate)) // bytes per second
	out = binary.LittleEndian.AppendUint16(out, 1)                  // block align
	out = binary.LittleEndian.AppendUint16(out, 8)                  // bits per sample
	out = binary.LittleEndian.AppendUint16(out, 0)                  // cbSize
	out = append(out, "fact"...)
	out = binary.LittleEndian.AppendUint32(out, 4)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(samples)))
	out = append(out, "data"...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(samples)))
	out = append(out, samples...)
	if pad == 1 {
		out = append(out, 0)
	}
	return out
}

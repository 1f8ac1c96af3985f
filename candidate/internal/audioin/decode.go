package audioin

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
)

// Rejected is legacy's AudioRejected: the upload is not audio the platform can use; the
// route answers 400 with the message, in legacy's words.
type Rejected struct{ Message string }

func (e *Rejected) Error() string { return e.Message }

// msgUnreadable is legacy's answer to what FFmpeg cannot open.
const msgUnreadable = "could not read the file as audio (not a format FFmpeg recognises, or damaged);" +
	" for headerless 16 kHz PCM set input_audio_codec=pcm_s16le"

// RawPCMCodecs are the input_audio_codec values taken as headerless 16 kHz mono s16le.
var RawPCMCodecs = map[string]bool{"pcm_s16le": true, "pcm_l16": true, "pcm_raw": true}

// packetBytes is FFmpeg's wav demuxer's packet size (MAX_SIZE, in whole blocks): legacy
// checks the length limit after each decoded packet, so the same file is refused with the
// same words ("more than 30 s" during decoding, the exact length only at the end).
const packetBytes = 4096

// Decode is legacy's decode_audio: data to 16 kHz mono s16le, or a *Rejected (400) or a
// *NotPorted (501). codec is the client's input_audio_codec ("" when absent).
func Decode(data []byte, codec string, maxSeconds float64) ([]byte, error) {
	if len(data) == 0 {
		return nil, &Rejected{"the uploaded file is empty"}
	}
	maxSamples := int(maxSeconds * OutRate)
	var pcm []byte
	if RawPCMCodecs[codec] {
		pcm = data[:len(data)-len(data)%2]
		if len(pcm) > maxSamples*2 {
			return nil, tooLong(float64(len(pcm))/2/OutRate, maxSeconds, true)
		}
	} else {
		switch c := Detect(data); c {
		case WAV:
			var err error
			if pcm, err = decodeWAV(data, maxSamples, maxSeconds); err != nil {
				return nil, err
			}
		case Unknown:
			return nil, &Rejected{msgUnreadable}
		default:
			return nil, &NotPorted{What: string(c)}
		}
	}
	if len(pcm) == 0 {
		return nil, &Rejected{"the file holds no audio samples"}
	}
	return pcm, nil
}

func decodeWAV(data []byte, maxSamples int, maxSeconds float64) ([]byte, error) {
	s, err := parseWAV(data)
	if err != nil {
		if unreadable := (*errUnreadable)(nil); errors.As(err, &unreadable) {
			return nil, &Rejected{msgUnreadable}
		}
		return nil, err
	}
	if over := s.overDuringDecoding(maxSamples); over {
		return nil, tooLong(0, maxSeconds, false)
	}
	s.decodeSamples()
	samples := toMono16k(s)
	if len(samples) > maxSamples {
		return nil, tooLong(float64(len(samples))/OutRate, maxSeconds, true)
	}
	out := make([]byte, 2*len(samples))
	for i, v := range samples {
		binary.LittleEndian.PutUint16(out[2*i:], uint16(v))
	}
	return out, nil
}

// overDuringDecoding tells whether legacy's loop passes maxSamples of output after a packet
// before the end (it checks after each one, the resampler's delay included).
func (s *wavStream) overDuringDecoding(maxSamples int) bool {
	perPacket := packetBytes
	if s.blockAlign > 1 {
		perPacket = max(perPacket, s.blockAlign) / s.blockAlign * s.blockAlign
	}
	samplesPerPacket := perPacket / s.frameBytes
	if samplesPerPacket <= 0 {
		return false
	}
	var shape *resampler
	if s.rate != OutRate {
		shape = resamplerShape(s.rate, OutRate)
	}
	for in := samplesPerPacket; ; in += samplesPerPacket {
		have := min(in, s.frameLength)
		out := have
		if shape != nil {
			out = shape.outputsFrom(have)
		}
		if out > maxSamples {
			return true
		}
		if have == s.frameLength {
			return false
		}
	}
}

func tooLong(seconds, maxSeconds float64, exact bool) *Rejected {
	length := "more than " + strconv.FormatFloat(maxSeconds, 'g', -1, 64) + " s"
	if exact {
		length = fmt.Sprintf("%.1f s", seconds)
	}
	return &Rejected{fmt.Sprintf("the audio is %s; this endpoint takes at most %s s per request (split it, or use the batch API)",
		length, strconv.FormatFloat(maxSeconds, 'g', -1, 64))}
}

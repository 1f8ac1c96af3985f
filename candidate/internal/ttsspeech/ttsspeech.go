// Package ttsspeech is the speech behind /text-to-speech/ws: internal/ttsws's Resolver,
// Speaker and Audio made of the packages /text-to-speech uses (internal/tts's options,
// chunked synthesis and model client; internal/audio's resampler, gain and encoders), so
// both routes speak, resample and encode alike, as legacy's share legacy/speech.
package ttsspeech

import (
	"context"
	"iter"
	"math/big"

	"banyan/candidate/internal/audio"
	"banyan/candidate/internal/tts"
	"banyan/candidate/internal/ttsws"
)

// Resolver is resolve_options(surface="ws", …) (tts.Resolve); a codec the candidate cannot
// encode is a *ttsws.NotPortedError.
type Resolver struct{}

// Resolve implements ttsws.Resolver.
func (Resolver) Resolve(cfg ttsws.VoiceConfig, model string) (ttsws.Options, error) {
	f := tts.Fields{Speaker: cfg.Speaker, Pace: cfg.Pace, Pitch: cfg.Pitch, Loudness: cfg.Loudness}
	if model != "" {
		f.Model = &model
	}
	if cfg.SpeechSampleRate != nil {
		f.SampleRate = big.NewInt(int64(*cfg.SpeechSampleRate))
	}
	if cfg.OutputAudioCodec != "" {
		f.Codec = &cfg.OutputAudioCodec
	}
	if b, ok := tts.Bitrates[cfg.OutputAudioBitrate]; ok {
		f.Bitrate = &b
	}
	o, err := tts.Resolve(tts.WebSocket, f)
	if err != nil {
		return ttsws.Options{}, err
	}
	if !audio.Ported(o.Codec) {
		return ttsws.Options{}, &ttsws.NotPortedError{Message: (&audio.NotPortedError{Codec: o.Codec}).Error()}
	}
	return ttsws.Options(o), nil
}

// Speaker is speak_chunks over the speech model (tts.Speak).
type Speaker struct{ Model tts.Model }

// Speak implements ttsws.Speaker.
func (s Speaker) Speak(ctx context.Context, req ttsws.SpeechRequest) iter.Seq2[ttsws.Chunk, error] {
	speech := tts.Request{
		Text: req.Text, LanguageCode: req.LanguageCode, Pace: req.Options.Pace, Pitch: req.Options.Pitch,
		Speaker: req.Options.Speaker, RequestID: req.RequestID, Traceparent: req.Traceparent,
	}
	return func(yield func(ttsws.Chunk, error) bool) {
		for chunk, err := range tts.Speak(ctx, s.Model, speech, req.MaxChars, req.Window) {
			if err != nil {
				yield(ttsws.Chunk{}, err)
				return
			}
			if !yield(ttsws.Chunk{Text: chunk.Text, PCM: chunk.PCM, SampleRate: chunk.SampleRate}, nil) {
				return
			}
		}
	}
}

// Audio is legacy's audio.resample, audio.scale and codecs.encode (internal/audio).
type Audio struct{}

// Resample implements ttsws.Audio.
func (Audio) Resample(pcm []byte, fromRate, toRate int) []byte {
	return audio.Resample(pcm, fromRate, toRate)
}

// Scale implements ttsws.Audio.
func (Audio) Scale(pcm []byte, gain float64) []byte { return audio.Scale(pcm, gain) }

// Encode implements ttsws.Audio.
func (Audio) Encode(pcm []byte, sampleRate int, codec string, bitrate int) ([]byte, error) {
	return audio.Encode(pcm, sampleRate, codec, bitrate)
}

// MediaType implements ttsws.Audio.
func (Audio) MediaType(codec string) string { return audio.MediaType(codec) }

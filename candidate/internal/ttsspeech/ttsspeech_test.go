package ttsspeech

import (
	"errors"
	"strings"
	"testing"

	"banyan/candidate/internal/ttsws"
)

func ptr[T any](v T) *T { return &v }

// TestResolveAsTheRESTRouteDoesOnTheWebSocketSurface: the WebSocket surface's defaults
// (bulbul:v2, mp3 at 128 kb/s), the bitrate names in bits per second, the model of the
// config or query, legacy's words for options that do not fit, and a codec the candidate
// cannot encode as its own gap.
func TestResolveAsTheRESTRouteDoesOnTheWebSocketSurface(t *testing.T) {
	o, err := Resolver{}.Resolve(ttsws.VoiceConfig{LanguageCode: "hi-IN"}, "")
	want := ttsws.Options{Model: "bulbul:v2", Speaker: "anushka", Pace: 1, Loudness: 1, SampleRate: 22050, Codec: "mp3", Bitrate: 128_000}
	if err != nil || o != want {
		t.Errorf("defaults: %+v %v, want %+v", o, err, want)
	}
	o, err = Resolver{}.Resolve(ttsws.VoiceConfig{LanguageCode: "en-IN", Speaker: ptr("ritu"), SpeechSampleRate: ptr(16000),
		OutputAudioCodec: "mp3", OutputAudioBitrate: "32k", Pitch: ptr(0.5)}, "bulbul:v3")
	want = ttsws.Options{Model: "bulbul:v3", Speaker: "ritu", Pace: 1, Loudness: 1, SampleRate: 16000, Codec: "mp3", Bitrate: 32_000}
	if err != nil || o != want { // pitch is bulbul:v2's only
		t.Errorf("v3: %+v %v, want %+v", o, err, want)
	}
	_, err = Resolver{}.Resolve(ttsws.VoiceConfig{LanguageCode: "hi-IN", Speaker: ptr("shubh")}, "bulbul:v2")
	var notPorted *ttsws.NotPortedError
	if err == nil || errors.As(err, &notPorted) || !strings.HasPrefix(err.Error(), "speaker 'shubh' is a bulbul:v3 voice, not a bulbul:v2 one; ") {
		t.Errorf("a v3 voice on v2: %v", err)
	}
	for _, codec := range []string{"aac", "opus"} {
		_, err = Resolver{}.Resolve(ttsws.VoiceConfig{LanguageCode: "hi-IN", OutputAudioCodec: codec, SpeechSampleRate: ptr(24000)}, "")
		if !errors.As(err, &notPorted) || notPorted.Message != "output_audio_codec '"+codec+"' is not ported to the candidate yet; legacy serves it" {
			t.Errorf("%s: %v", codec, err)
		}
	}
}

func TestAudioEncodesEveryPortedCodec(t *testing.T) {
	pcm := make([]byte, 2*2205)
	for _, codec := range []string{"mp3", "wav", "linear16", "mulaw", "alaw", "flac"} {
		out, err := Audio{}.Encode(pcm, 22050, codec, 64_000)
		if err != nil || len(out) == 0 || (Audio{}).MediaType(codec) == "" {
			t.Errorf("%s: %d bytes, %v", codec, len(out), err)
		}
	}
}

package tts

import (
	"hash/crc32"
	"math"
	"slices"
	"strings"
)

// Voice is how a speaker sounds on eSpeak NG (legacy's SpeakerVoice): the engine's pitch,
// 0-100, before the request's own shift, and a tempo multiplying the speaking rate.
type Voice struct {
	Pitch int
	Tempo float64
}

// VoiceOf is legacy's voice_of: a pitch from the female or male table and a tempo, both
// picked by the CRC-32 of the name, so a speaker sounds the same on every run.
func VoiceOf(speaker string) Voice {
	first, _, _ := strings.Cut(speaker, "_")
	pitches := malePitches
	if slices.Contains(femaleNames, first) {
		pitches = femalePitches
	}
	digest := crc32.ChecksumIEEE([]byte(speaker))
	return Voice{
		Pitch: pitches[digest%uint32(len(pitches))],
		Tempo: tempos[(digest/7)%uint32(len(tempos))],
	}
}

// HasSpeaker reports whether speaker is one of model's.
func HasSpeaker(model, speaker string) bool { return slices.Contains(speakers[model], speaker) }

// modelOf is legacy's _model_of: the model a speaker belongs to ("" for none; names never
// overlap between models).
func modelOf(speaker string) string {
	for _, m := range Models {
		if HasSpeaker(m, speaker) {
			return m
		}
	}
	return ""
}

// RateWPM is legacy's SpeechRequest.rate_wpm: the speaker's tempo times pace at 175 words
// a minute, rounded as Python's round() does (half to even), within eSpeak's 80-450.
func RateWPM(speaker string, pace float64) int {
	v := Voice{Pitch: 50, Tempo: 1}
	if speaker != "" {
		v = VoiceOf(speaker)
	}
	return max(80, min(450, int(math.RoundToEven(baseRateWPM*v.Tempo*pace))))
}

// EnginePitch is legacy's SpeechRequest.engine_pitch: the speaker's pitch shifted by up to
// 25 either way by pitch (-0.75 … 0.75), within 0-100.
func EnginePitch(speaker string, pitch float64) int {
	v := Voice{Pitch: 50, Tempo: 1}
	if speaker != "" {
		v = VoiceOf(speaker)
	}
	return max(0, min(100, int(math.RoundToEven(float64(v.Pitch)+pitch/0.75*25))))
}

// EngineVoice is the eSpeak voice of a language code ("" for one the model has no voice
// for; the request models only let core languages through).
func EngineVoice(languageCode string) string { return voiceOfLanguage[languageCode] }

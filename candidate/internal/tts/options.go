package tts

import (
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"banyan/candidate/internal/audio"
	"banyan/candidate/internal/pyrepr"
)

// Surface is the route a request came through: "rest", "stream" or "ws" (legacy's Surface).
type Surface string

const (
	REST      Surface = "rest"
	Stream    Surface = "stream"
	WebSocket Surface = "ws"
)

// defaultBitrate is BITRATES["128k"], what a request without output_audio_bitrate gets.
const defaultBitrate = 128_000

// BitrateNames are output_audio_bitrate's values (legacy's Bitrate literal), in its order.
var BitrateNames = []string{"32k", "64k", "96k", "128k", "192k"}

// Bitrates are legacy's BITRATES: each output_audio_bitrate in bits per second.
var Bitrates = map[string]int{"32k": 32_000, "64k": 64_000, "96k": 96_000, "128k": 128_000, "192k": 192_000}

// Fields are a request's voice fields after their own validation (legacy's SpeechFields):
// nil for absent or null.
type Fields struct {
	Model      *string
	Speaker    *string
	Pace       *float64
	Pitch      *float64
	Loudness   *float64
	SampleRate *big.Int // JsonInt: any size
	Codec      *string
	Bitrate    *int // bits per second (the stream and WebSocket routes' output_audio_bitrate)
}

// Options are a request's resolved options (legacy's SpeechOptions).
type Options struct {
	Model      string
	Speaker    string  // the model's default speaker when the request named none
	Pace       float64 // 1 when not given
	Pitch      float64 // -0.75 … 0.75; 0 unless the model honours it
	Loudness   float64 // a gain; 1 unless the model honours it
	SampleRate int
	Codec      string
	Bitrate    int // bits per second, for the lossy codecs
}

// InvalidOptions is legacy's InvalidSpeechOptions: fields that do not fit together, the
// message saying what to change (a 400).
type InvalidOptions struct{ Message string }

func (e *InvalidOptions) Error() string { return e.Message }

func invalid(format string, args ...any) *InvalidOptions {
	return &InvalidOptions{Message: fmt.Sprintf(format, args...)}
}

// Resolve is legacy's resolve_options: defaults filled in and the cross-field rules checked,
// in legacy's order (speaker, pace, sample rate, the codec's rates); the error is an
// *InvalidOptions.
func Resolve(surface Surface, f Fields) (Options, error) {
	chosen := ""
	switch {
	case f.Model != nil && *f.Model != "":
		chosen = *f.Model
	case f.Speaker != nil && modelOf(*f.Speaker) != "":
		chosen = modelOf(*f.Speaker)
	case surface == WebSocket:
		chosen = "bulbul:v2"
	default:
		chosen = "bulbul:v3"
	}
	if err := checkSpeaker(chosen, f.Speaker); err != nil {
		return Options{}, err
	}
	pace := paceRange[chosen]
	if f.Pace != nil && !(pace[0] <= *f.Pace && *f.Pace <= pace[1]) {
		return Options{}, invalid("pace must be between %s and %s on %s", pyFloat(pace[0]), pyFloat(pace[1]), chosen)
	}
	codec := "wav"
	if f.Codec != nil && *f.Codec != "" {
		codec = *f.Codec
	} else if surface != REST {
		codec = "mp3"
	}
	rate := 0
	if f.SampleRate != nil && f.SampleRate.Sign() != 0 {
		if !f.SampleRate.IsInt64() || !allowedRate(surface, chosen, int(f.SampleRate.Int64())) {
			return Options{}, rateRefusal(surface, chosen, f.SampleRate)
		}
		rate = int(f.SampleRate.Int64())
	} else if codec == "opus" {
		rate = opusDefaultRate
	} else {
		rate = defaultRate
	}
	if err := audio.CheckSampleRate(codec, rate); err != nil {
		return Options{}, &InvalidOptions{Message: err.Error()}
	}
	v2 := chosen == "bulbul:v2"
	o := Options{Model: chosen, Speaker: defaultSpeaker[chosen], Pace: 1, Loudness: 1,
		SampleRate: rate, Codec: codec, Bitrate: defaultBitrate}
	if f.Speaker != nil && *f.Speaker != "" {
		o.Speaker = *f.Speaker
	}
	if f.Pace != nil {
		o.Pace = *f.Pace
	}
	if f.Pitch != nil && v2 {
		o.Pitch = *f.Pitch
	}
	if f.Loudness != nil && v2 {
		o.Loudness = *f.Loudness
	}
	if f.Bitrate != nil && *f.Bitrate != 0 {
		o.Bitrate = *f.Bitrate
	}
	return o, nil
}

// CheckTextLength is legacy's check_text_length: the REST route's per-model limit, in code
// points (n is the text's).
func CheckTextLength(model string, n int) error {
	if limit := restTextLimit[model]; n > limit {
		return invalid("text is %d characters; %s takes at most %d per request "+
			"(split it, use bulbul:v3, or stream it with /text-to-speech/stream)", n, model, limit)
	}
	return nil
}

// checkSpeaker is legacy's _check_speaker.
func checkSpeaker(model string, speaker *string) error {
	if speaker == nil || HasSpeaker(model, *speaker) {
		return nil
	}
	name := *speaker
	var reason string
	if owner := modelOf(name); owner != "" {
		reason = fmt.Sprintf("speaker %s is a %s voice, not a %s one", pyrepr.Str(name), owner, model)
	} else if lower := pyLowerASCII(name); modelOf(lower) != "" {
		reason = fmt.Sprintf("speaker names are lowercase: use %s", pyrepr.Str(lower))
	} else {
		reason = fmt.Sprintf("%s has no speaker %s", model, pyrepr.Str(name))
	}
	var hint string
	if model == "bulbul:v4-flash" {
		hint = "its speakers are persona IDs <name>_<language>_<style>, e.g. shubh_enhi_ads"
	} else {
		names := slices.Clone(speakers[model])
		slices.Sort(names)
		hint = "its speakers are " + strings.Join(names, ", ")
	}
	return invalid("%s; %s (or set model to the speaker's model)", reason, hint)
}

// pyLowerASCII is str.lower() as far as it can make a speaker name (ASCII): A-Z and the
// Kelvin sign become a-z; every other character is left as it is, which Python's lower()
// leaves non-ASCII too (so the result is a speaker name exactly when Python's is).
func pyLowerASCII(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case 'A' <= r && r <= 'Z':
			return r + ('a' - 'A')
		case r == 0x212A: // KELVIN SIGN
			return 'k'
		}
		return r
	}, s)
}

func allowedRate(surface Surface, model string, rate int) bool {
	return slices.Contains(allowedRates(surface, model), rate)
}

func allowedRates(surface Surface, model string) []int {
	if surface != WebSocket && model != "bulbul:v2" {
		return append(slices.Clone(baseRates), highRates...)
	}
	return baseRates
}

// rateRefusal is _check_rate's message.
func rateRefusal(surface Surface, model string, rate *big.Int) *InvalidOptions {
	allowed := allowedRates(surface, model)
	names := make([]string, len(allowed))
	for i, r := range allowed {
		names[i] = strconv.Itoa(r)
	}
	msg := fmt.Sprintf("speech_sample_rate must be one of %s on %s", strings.Join(names, ", "), model)
	if rate.IsInt64() && slices.Contains(highRates, int(rate.Int64())) {
		if surface == WebSocket {
			msg += " over the WebSocket"
		} else {
			msg += "; 32000-48000 need bulbul:v3 or v4-flash"
		}
	}
	return &InvalidOptions{Message: msg}
}

// pyFloat is str() of a float whose shortest repr has no exponent (the table's ranges).
func pyFloat(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

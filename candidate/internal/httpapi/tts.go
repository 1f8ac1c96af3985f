package httpapi

import (
	"encoding/base64"
	"errors"
	"math"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"banyan/candidate/internal/audio"
	"banyan/candidate/internal/pyjson"
	"banyan/candidate/internal/reqid"
	"banyan/candidate/internal/text"
	"banyan/candidate/internal/tts"
)

// POST /text-to-speech (legacy/tts_api.py; sdk-contract §1.5, §1.6): speech for a text,
// base64 in "audios", billed by characters of text.
//
// The steps and their answers, in legacy's order: validation (422, pydantic's words), the
// options' cross-field rules and the model's text limit (400, options.go's words), then —
// the candidate's own step — a lossy codec it cannot encode yet (aac, opus: 501,
// nothing held, so the proxy keeps such requests on legacy), no inference server configured
// (503), authorize, synthesis (502 and the hold released when a chunk fails), resampling,
// loudness, encoding, settle.
//
// A client that goes away cancels the model calls in flight and gives the hold back, where
// legacy's request runs on to the end and is billed for audio nobody receives (measured:
// a 1500-character request abandoned after 150 ms is settled in full by legacy).

// maxTTSText is the request model's max_length (the largest per-model limit); each model's
// own limit is a 400 from tts.CheckTextLength.
const maxTTSText = 2500

// Pydantic's messages for the TTS fields.
const (
	msgInt        = "Input should be a valid integer"
	msgNumber     = "Input should be a valid number"
	msgNUL        = "Value error, text must not contain NUL characters"
	msgNoWords    = "Value error, text has nothing to speak: it is empty, whitespace or control characters"
	ttsUnreadable = "the speech model's answer is unreadable"
)

// ttsRequest is legacy's TextToSpeechRequest after validation.
type ttsRequest struct {
	fields       tts.Fields
	text         string
	languageCode string
}

// readTTSRequest checks the fields in the model's order (SpeechFields', then text and
// language_code), as pydantic reports them.
func readTTSRequest(f *fields) ttsRequest {
	req := ttsRequest{fields: readSpeechFields(f)}
	req.text = f.speakable(maxTTSText)
	req.languageCode = f.literal("language_code", true, text.CoreLanguages)
	return req
}

// readSpeechFields checks legacy's SpeechFields, the voice fields every TTS request shares.
func readSpeechFields(f *fields) tts.Fields {
	var v tts.Fields
	v.Speaker = f.optionalStr("speaker", 64)
	v.Pitch = f.boundedFloat("pitch", -0.75, 0.75)
	v.Pace = f.boundedFloat("pace", 0.3, 3.0)
	v.Loudness = f.boundedFloat("loudness", 0.3, 3.0)
	v.SampleRate = f.jsonInt("speech_sample_rate")
	f.optionalBool("enable_preprocessing")
	v.Model = optional(f.literal("model", false, tts.Models))
	v.Codec = optional(f.literal("output_audio_codec", false, audio.Codecs))
	f.boundedFloat("temperature", 0.01, 1.0)
	f.optionalStr("dict_id", 128)
	f.optionalBool("enable_cached_responses")
	return v
}

// speakable is legacy's SpeakableText field "text" of at most maxLen characters: a string
// that passes the str checks then meets _has_words.
func (f *fields) speakable(maxLen int) string {
	raw, ok := f.get("text", true)
	if !ok {
		return ""
	}
	before := len(f.problems)
	s := f.str("text", 0, maxLen)
	if len(f.problems) == before && raw.Kind == pyjson.String {
		if msg := speakableProblem(s); msg != "" {
			f.add("body.text", msg)
		}
	}
	return s
}

// speakableProblem is legacy's _has_words: no NUL anywhere (the engine reads C strings), and
// at least one character that is not a control character, a space or other whitespace
// (SPEAKABLE_PATTERN's explicit classes).
func speakableProblem(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		return msgNUL
	}
	for _, r := range s {
		if !isSilent(r) {
			return ""
		}
	}
	return msgNoWords
}

// isSilent is legacy's _SILENT class: \x00-\x20 \x7f \x85 \xa0 \u1680 \u2000-\u200a \u2028
// \u2029 \u202f \u205f \u3000.
func isSilent(r rune) bool {
	switch {
	case r <= 0x20, r == 0x7f, r == 0x85, r == 0xa0, r == 0x1680, r >= 0x2000 && r <= 0x200a,
		r == 0x2028, r == 0x2029, r == 0x202f, r == 0x205f, r == 0x3000:
		return true
	}
	return false
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// optionalStr is a strict `str | None = Field(max_length=n)`.
func (f *fields) optionalStr(name string, maxLen int) *string {
	v, ok := f.get(name, false)
	if !ok {
		return nil
	}
	loc := "body." + name
	switch {
	case v.Kind != pyjson.String:
		f.add(loc, msgNotString)
	case v.LoneSurrogate:
		f.add(loc, msgSurrogate)
	case utf8.RuneCountInString(v.Str) > maxLen:
		f.add(loc, "String should have at most "+strconv.Itoa(maxLen)+" "+plural(maxLen, "character"))
	default:
		s := v.Str
		return &s
	}
	return nil
}

// boundedFloat is a strict `float | None = Field(ge=lo, le=hi)`: an int or a float (an int
// too large for a float is not a number); pydantic checks le before ge, so NaN fails le.
func (f *fields) boundedFloat(name string, lo, hi float64) *float64 {
	v, ok := f.get(name, false)
	if !ok {
		return nil
	}
	loc := "body." + name
	if v.Kind != pyjson.Number {
		f.add(loc, msgNumber)
		return nil
	}
	x, isInt := numberOf(v.Num)
	if isInt && math.IsInf(x, 0) {
		f.add(loc, msgNumber) // float(int) overflows
		return nil
	}
	switch {
	case !(x <= hi):
		f.add(loc, "Input should be less than or equal to "+strconv.FormatFloat(hi, 'f', -1, 64))
	case !(x >= lo):
		f.add(loc, "Input should be greater than or equal to "+strconv.FormatFloat(lo, 'f', -1, 64))
	default:
		return &x
	}
	return nil
}

// jsonInt is legacy's `JsonInt | None`: an int, or a float that is integral (that int).
func (f *fields) jsonInt(name string) *big.Int {
	v, ok := f.get(name, false)
	if !ok {
		return nil
	}
	if v.Kind == pyjson.Number {
		x, isInt := numberOf(v.Num)
		if isInt {
			if n, ok := new(big.Int).SetString(v.Num, 10); ok {
				return n
			}
		} else if !math.IsInf(x, 0) && !math.IsNaN(x) && x == math.Trunc(x) {
			n, _ := big.NewFloat(x).Int(nil)
			return n
		}
	}
	f.add("body."+name, msgInt)
	return nil
}

// numberOf is float() of a number literal json.loads accepted (1e400 is inf, as in Python)
// and whether json.loads made an int of it (a sign and digits only).
func numberOf(num string) (float64, bool) {
	isInt := strings.Trim(num, "-0123456789") == ""
	switch num {
	case "NaN":
		return math.NaN(), false
	case "Infinity":
		return math.Inf(1), false
	case "-Infinity":
		return math.Inf(-1), false
	}
	x, err := strconv.ParseFloat(num, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return math.NaN(), isInt
	}
	return x, isInt
}

// textToSpeech is POST /text-to-speech.
func (s *Server) textToSpeech(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, bodyLimit)
	if !ok {
		return
	}
	f := fields{body: body}
	req := readTTSRequest(&f)
	if len(f.problems) > 0 {
		writeError(w, r, http.StatusUnprocessableEntity, f.message(), "")
		return
	}
	options, ok := speechOptions(w, r, tts.REST, req.fields, func(o tts.Options) error {
		return tts.CheckTextLength(o.Model, utf8.RuneCountInString(req.text))
	})
	if !ok || !s.speechConfigured(w, r) {
		return
	}
	chars := utf8.RuneCountInString(req.text)
	charge, ok := s.openCharge(w, r, "text-to-speech", chars)
	if !ok {
		return
	}
	speech := speechRequest(r, req.text, req.languageCode, options)
	pcm, modelRate, err := tts.Synthesize(r.Context(), s.speech, speech, tts.MaxChars, tts.Concurrency)
	if err != nil {
		s.abandonCharge(r, charge)
		s.answerSpeechError(w, r, err)
		return
	}
	pcm = audio.Scale(audio.Resample(pcm, modelRate, options.SampleRate), options.Loudness)
	encoded, err := audio.Encode(pcm, options.SampleRate, options.Codec, options.Bitrate)
	if err != nil {
		s.abandonCharge(r, charge)
		s.log.ErrorContext(r.Context(), "encoding the speech failed", "error", err)
		dropRateLimitHeaders(w.Header())
		writeError(w, r, http.StatusInternalServerError, internalErrorMessage, "")
		return
	}
	if !s.closeCharge(w, r, charge, chars) {
		return
	}
	id := reqid.From(r.Context())
	var b strings.Builder
	b.Grow(base64.StdEncoding.EncodedLen(len(encoded)) + len(id) + 40)
	b.WriteString(`{"request_id":`)
	writeJSONString(&b, id)
	b.WriteString(`,"audios":["`)
	b.WriteString(base64.StdEncoding.EncodeToString(encoded))
	b.WriteString(`"]}`)
	writeJSON(w, http.StatusOK, b.String())
}

// speechOptions resolves a request's options for surface (legacy's options_of) and then
// checks them with more (nil: nothing more): a 400 saying what to change; or a codec the
// candidate cannot encode yet, a 501 naming it, before anything is held.
func speechOptions(w http.ResponseWriter, r *http.Request, surface tts.Surface, f tts.Fields, more func(tts.Options) error) (tts.Options, bool) {
	options, err := tts.Resolve(surface, f)
	if err == nil && more != nil {
		err = more(options)
	}
	if err != nil {
		writeError(w, r, http.StatusBadRequest, err.Error(), "")
		return options, false
	}
	if !audio.Ported(options.Codec) {
		writeError(w, r, http.StatusNotImplemented, (&audio.NotPortedError{Codec: options.Codec}).Error(), "")
		return options, false
	}
	return options, true
}

// speechConfigured answers 503, as legacy's inference_url_of does, when there is no model.
func (s *Server) speechConfigured(w http.ResponseWriter, r *http.Request) bool {
	if s.speech == nil {
		writeError(w, r, http.StatusServiceUnavailable, "speech synthesis is not configured (BANYAN_INFERENCE_URL)", "")
	}
	return s.speech != nil
}

// speechRequest is legacy's speech_request, with the request's id and trace for the model.
func speechRequest(r *http.Request, text, languageCode string, o tts.Options) tts.Request {
	return tts.Request{
		Text: text, LanguageCode: languageCode, Pace: o.Pace, Pitch: o.Pitch, Speaker: o.Speaker,
		RequestID: reqid.From(r.Context()), Traceparent: r.Header.Get("Traceparent"),
	}
}

// answerSpeechError answers a synthesis that failed: 502 in legacy's words when the model
// did not synthesize a chunk; nothing when the client went away (there is nobody to answer);
// 500 for an answer legacy could not read either (a 200 without X-Sample-Rate).
func (s *Server) answerSpeechError(w http.ResponseWriter, r *http.Request, err error) {
	var failed *tts.Failed
	switch {
	case r.Context().Err() != nil:
		s.log.InfoContext(r.Context(), "the client went away during synthesis; the hold is released", "error", err)
		w.WriteHeader(499) // recorded in metrics and the access log; nobody reads it
	case errors.As(err, &failed):
		s.log.WarnContext(r.Context(), "speech synthesis failed", "error", failed.Message)
		writeError(w, r, http.StatusBadGateway, failed.Message, "")
	default:
		s.log.ErrorContext(r.Context(), ttsUnreadable, "error", err)
		dropRateLimitHeaders(w.Header())
		writeError(w, r, http.StatusInternalServerError, internalErrorMessage, "")
	}
}

package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"banyan/candidate/internal/audioin"
	"banyan/candidate/internal/billing"
	"banyan/candidate/internal/reqid"
	"banyan/candidate/internal/stt"
	"banyan/candidate/internal/vad"
)

// POST /speech-to-text and POST /speech-to-text-translate (legacy/stt_api.py; sdk-contract
// §1.2 to §1.6): a multipart upload,
// decoded to 16 kHz mono (internal/audioin), cut at the speech (internal/vad), recognised
// piece by piece on the inference server and merged (internal/stt), billed by audio_seconds
// (whole milliseconds, rounded up).
//
// The steps and their answers, in legacy's order: a declared body over 25 MiB + 64 KiB (the
// route's max_body_size: Starlette's plain-text 413, whatever else is wrong) or over 25 MiB
// (413 in the envelope), form parsing (400), validation (422), keyterms (400), no inference
// server (503), decoding (400; 501 for a container the candidate does not decode), authorize,
// recognition (502 and the hold released; 500 for an answer that is not one), settle.

const (
	maxUploadBytes  = 25 << 20
	maxSTTBodyBytes = maxUploadBytes + 64<<10
	maxAudioSeconds = 30.0
)

var (
	sttModels    = []string{"saaras:v3", "saaras:v4", "saarika:v2.5"}
	sttModes     = []string{"transcribe", "translate", "verbatim", "translit", "codemix"}
	sttLanguages = []string{
		"unknown", "hi-IN", "bn-IN", "kn-IN", "ml-IN", "mr-IN", "od-IN", "pa-IN", "ta-IN", "te-IN",
		"en-IN", "gu-IN", "as-IN", "ur-IN", "ne-IN", "kok-IN", "ks-IN", "sd-IN", "sa-IN", "sat-IN",
		"mni-IN", "brx-IN", "mai-IN", "doi-IN",
	}
	inputAudioCodecs = []string{
		"wav", "x-wav", "wave", "mp3", "mpeg", "mpeg3", "x-mp3", "x-mpeg-3", "aac", "x-aac",
		"aiff", "x-aiff", "ogg", "opus", "flac", "x-flac", "mp4", "x-m4a", "amr", "x-ms-wma",
		"webm", "pcm_s16le", "pcm_l16", "pcm_raw",
	}
)

// AmountBiller is billing in decimal quantities (billing.Client): audio seconds to the
// millisecond.
type AmountBiller interface {
	AuthorizeAmount(ctx context.Context, req billing.Request, apiKey, route, unit, quantity string) (*billing.Authorization, error)
	SettleAmount(ctx context.Context, req billing.Request, auth *billing.Authorization, quantity string) error
	Release(ctx context.Context, req billing.Request, auth *billing.Authorization) error
}

// RecognitionConfig is what the recognition routes need: the model (stt.Client; nil without
// an inference URL, and the routes then answer 503, as legacy does) and decimal billing.
type RecognitionConfig struct {
	Model   stt.Model
	Billing AmountBiller
}

// sttForm is the validated form ("" for an absent field).
type sttForm struct {
	file                                   []byte
	model, mode, language, codec, keyterms string
	withTimestamps                         bool
}

const (
	msgExpectedUpload = "Value error, Expected UploadFile, received: <class 'str'>"
	msgBoolUnreadable = "Input should be a valid boolean, unable to interpret input"
)

// formFields reads a form's fields as FastAPI's Form/File parameters do, collecting the
// problems in parameter order: an empty text value is absent; "null" is absent for the
// fields legacy marks NullIsAbsent (every optional one but keyterms).
type formFields struct {
	form formData
	problems
}

func (f *formFields) get(name string, nullIsAbsent bool) (formValue, bool) {
	v, ok := f.form[name]
	if !ok || (!v.isFile && (v.text == "" || nullIsAbsent && v.text == "null")) {
		return v, false
	}
	return v, true
}

// file is the required UploadFile.
func (f *formFields) file(name string) []byte {
	v, ok := f.get(name, false)
	switch {
	case !ok:
		f.add("body."+name, msgRequired)
	case !v.isFile:
		f.add("body."+name, msgExpectedUpload)
	default:
		return v.data
	}
	return nil
}

// literal is an optional Literal[...] ("" when absent).
func (f *formFields) literal(name string, choices []string) string {
	v, ok := f.get(name, true)
	if !ok {
		return ""
	}
	if !v.isFile {
		for _, c := range choices {
			if v.text == c {
				return c
			}
		}
	}
	f.add("body."+name, "Input should be "+expected(choices))
	return ""
}

// text is an optional str of at most maxChars characters (0: unbounded).
func (f *formFields) text(name string, nullIsAbsent bool, maxChars int) string {
	v, ok := f.get(name, nullIsAbsent)
	switch {
	case !ok:
		return ""
	case v.isFile:
		f.add("body."+name, msgNotString)
	case maxChars > 0 && utf8.RuneCountInString(v.text) > maxChars:
		f.add("body."+name, fmt.Sprintf("String should have at most %d characters", maxChars))
	default:
		return v.text
	}
	return ""
}

// boolean is an optional bool, read as pydantic reads a string.
func (f *formFields) boolean(name string) bool {
	v, ok := f.get(name, true)
	switch {
	case !ok:
		return false
	case v.isFile:
		f.add("body."+name, msgNotBool)
		return false
	}
	b, ok := pyBool(v.text)
	if !ok {
		f.add("body."+name, msgBoolUnreadable)
	}
	return b
}

// readSTTForm is legacy's speech_to_text parameters, in their order.
func readSTTForm(form formData) (sttForm, problems) {
	f := formFields{form: form}
	out := sttForm{
		file:           f.file("file"),
		model:          f.literal("model", sttModels),
		mode:           f.literal("mode", sttModes),
		language:       f.literal("language_code", sttLanguages),
		withTimestamps: f.boolean("with_timestamps"),
		codec:          f.literal("input_audio_codec", inputAudioCodecs),
		keyterms:       f.text("keyterms", false, 0),
	}
	return out, f.problems
}

// pyBool is pydantic's lax str → bool.
func pyBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "0", "off", "f", "false", "n", "no":
		return false, true
	case "1", "on", "t", "true", "y", "yes":
		return true, true
	}
	return false, false
}

// checkUploadSize is the route's body limits on the declared length: Starlette's
// max_body_size (its own plain-text 413, which replaces any other answer) and legacy's
// _BoundedUpload (413 in the envelope, before a byte is read).
func checkUploadSize(w http.ResponseWriter, r *http.Request) bool {
	declared := r.Header.Get("Content-Length")
	if declared == "" || strings.TrimLeft(declared, "0123456789") != "" {
		return true
	}
	n, err := strconv.ParseInt(declared, 10, 64)
	if err != nil || n > maxSTTBodyBytes {
		contentTooLarge(w)
		return false
	}
	if n > maxUploadBytes {
		writeError(w, r, http.StatusRequestEntityTooLarge,
			fmt.Sprintf("the upload is %d bytes; this endpoint takes at most %d MiB", n, maxUploadBytes>>20), "")
		return false
	}
	return true
}

// contentTooLarge is Starlette's PlainTextResponse("Content Too Large", 413).
func contentTooLarge(w http.ResponseWriter) {
	const body = "Content Too Large"
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusRequestEntityTooLarge)
	_, _ = io.WriteString(w, body)
}

// readSTTBody reads a form body (other content types are never read, as Starlette's form()
// does not read them), up to the route's max_body_size.
func readSTTBody(w http.ResponseWriter, r *http.Request) (formData, bool) {
	mediaType, _ := parseOptionsHeader(r.Header.Get("Content-Type"))
	if mediaType != "multipart/form-data" && mediaType != "application/x-www-form-urlencoded" {
		return formData{}, true
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxSTTBodyBytes+1))
	if err != nil {
		writeError(w, r, http.StatusBadRequest, msgParseError, "")
		return nil, false
	}
	if len(body) > maxSTTBodyBytes {
		contentTooLarge(w)
		return nil, false
	}
	form, refusal := parseForm(r.Header.Get("Content-Type"), body)
	if refusal != "" {
		writeError(w, r, http.StatusBadRequest, refusal, "")
		return nil, false
	}
	return form, true
}

// audioSeconds is legacy's audio_seconds: samples at 16 kHz in whole milliseconds, rounded
// up, as the decimal the ledger takes ("1.001").
func audioSeconds(samples int) string {
	ms := (samples + 15) / 16
	return fmt.Sprintf("%d.%03d", ms/1000, ms%1000)
}

// sttTranslateForm is legacy's speech_to_text_translate parameters, validated.
type sttTranslateForm struct {
	file  []byte
	codec string
}

const maxPromptChars = 4000

// readSTTTranslateForm is legacy's speech_to_text_translate parameters, in their order: file,
// prompt (at most 4000 characters; accepted, and not used by the model), model (saaras:v2.5
// only), input_audio_codec.
func readSTTTranslateForm(form formData) (sttTranslateForm, problems) {
	f := formFields{form: form}
	out := sttTranslateForm{file: f.file("file")}
	f.text("prompt", true, maxPromptChars)
	f.literal("model", []string{"saaras:v2.5"})
	out.codec = f.literal("input_audio_codec", inputAudioCodecs)
	return out, f.problems
}

// speechToTextTranslate is POST /speech-to-text-translate: the same recognition in translate
// mode, the language always detected; the answer is English, with the detected source
// language and its probability.
func (s *Server) speechToTextTranslate(w http.ResponseWriter, r *http.Request) {
	if !checkUploadSize(w, r) {
		return
	}
	form, ok := readSTTBody(w, r)
	if !ok {
		return
	}
	f, invalid := readSTTTranslateForm(form)
	if len(invalid) > 0 {
		writeError(w, r, http.StatusUnprocessableEntity, invalid.message(), "")
		return
	}
	if s.recognition.Model == nil {
		writeError(w, r, http.StatusServiceUnavailable, "speech recognition is not configured (BANYAN_INFERENCE_URL)", "")
		return
	}
	request := stt.Request{Language: "unknown", Mode: "translate"}
	result, ok := s.recognize(w, r, f.file, f.codec, "speech-to-text-translate", request)
	if !ok {
		return
	}
	var b strings.Builder
	b.WriteString(`{"request_id":`)
	writeJSONString(&b, reqid.From(r.Context()))
	b.WriteString(`,"transcript":`)
	writeJSONString(&b, result.Transcript)
	if result.LanguageCode != nil {
		b.WriteString(`,"language_code":`)
		writeJSONString(&b, *result.LanguageCode)
	}
	if result.LanguageProbability != nil {
		b.WriteString(`,"language_probability":`)
		b.WriteString(pyFloat(*result.LanguageProbability))
	}
	b.WriteByte('}')
	writeJSON(w, http.StatusOK, b.String())
}

// speechToText is POST /speech-to-text.
func (s *Server) speechToText(w http.ResponseWriter, r *http.Request) {
	if !checkUploadSize(w, r) {
		return
	}
	form, ok := readSTTBody(w, r)
	if !ok {
		return
	}
	f, invalid := readSTTForm(form)
	if len(invalid) > 0 {
		writeError(w, r, http.StatusUnprocessableEntity, invalid.message(), "")
		return
	}
	model := orDefault(f.model, "saaras:v3")
	terms, refusal := stt.ParseKeyterms(f.keyterms, model)
	if refusal != "" {
		writeError(w, r, http.StatusBadRequest, refusal, "")
		return
	}
	if s.recognition.Model == nil {
		writeError(w, r, http.StatusServiceUnavailable, "speech recognition is not configured (BANYAN_INFERENCE_URL)", "")
		return
	}
	language := orDefault(f.language, "unknown")
	request := stt.Request{Language: language, Mode: orDefault(f.mode, "transcribe"), Keyterms: terms}
	result, ok := s.recognize(w, r, f.file, f.codec, "speech-to-text", request)
	if !ok {
		return
	}
	id := reqid.From(r.Context())
	var b strings.Builder
	b.WriteString(`{"request_id":`)
	writeJSONString(&b, id)
	b.WriteString(`,"transcript":`)
	writeJSONString(&b, result.Transcript)
	if f.withTimestamps {
		b.WriteString(`,"timestamps":{"words":[`)
		for i, word := range result.Words {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(&b, word.Text)
		}
		b.WriteString(`],"start_time_seconds":[`)
		for i, word := range result.Words {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(pyFloat(word.Start))
		}
		b.WriteString(`],"end_time_seconds":[`)
		for i, word := range result.Words {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(pyFloat(word.End))
		}
		b.WriteString("]}")
	}
	code := &language
	if language == "unknown" {
		code = result.LanguageCode
	}
	if code != nil {
		b.WriteString(`,"language_code":`)
		writeJSONString(&b, *code)
	}
	if language == "unknown" && result.LanguageProbability != nil {
		b.WriteString(`,"language_probability":`)
		b.WriteString(pyFloat(*result.LanguageProbability))
	}
	b.WriteByte('}')
	writeJSON(w, http.StatusOK, b.String())
}

// recognize is legacy's _recognize, the part both recognition routes share: decode, charge,
// segment, recognise, settle. false after answering.
func (s *Server) recognize(w http.ResponseWriter, r *http.Request, file []byte, codec, route string, req stt.Request) (*stt.Transcription, bool) {
	if len(file) > maxUploadBytes {
		// A body sent without Content-Length can carry a file part a little over the limit.
		writeError(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("the file is over %d MiB", maxUploadBytes>>20), "")
		return nil, false
	}
	pcm, err := audioin.Decode(file, codec, maxAudioSeconds)
	var rejected *audioin.Rejected
	var notPorted *audioin.NotPorted
	switch {
	case errors.As(err, &rejected):
		writeError(w, r, http.StatusBadRequest, rejected.Message, "")
		return nil, false
	case errors.As(err, &notPorted):
		writeError(w, r, http.StatusNotImplemented, notPorted.Error(), "")
		return nil, false
	case err != nil:
		s.log.ErrorContext(r.Context(), "decoding the upload failed", "error", err)
		writeError(w, r, http.StatusInternalServerError, internalErrorMessage, "")
		return nil, false
	}
	seconds := audioSeconds(len(pcm) / 2)
	c, ok := s.openAmountCharge(w, r, route, seconds)
	if !ok {
		return nil, false
	}
	segments, err := vad.FindSpeech(pcm, vad.DefaultConfig())
	if err != nil {
		s.abandonAmountCharge(r, c)
		writeError(w, r, http.StatusInternalServerError, internalErrorMessage, "")
		return nil, false
	}
	pieces := stt.FitToContext(pcm, segments, stt.ModelMaxSeconds)
	breq := c.req
	headers := stt.Headers{RequestID: breq.RequestID, Traceparent: breq.Traceparent, Shadow: breq.Shadow, HasShadow: breq.HasShadow}
	// The work runs past a client that went away, as legacy's does; every model call has its
	// own deadline.
	result, err := stt.Transcribe(context.WithoutCancel(r.Context()), s.recognition.Model, pcm, pieces, req, headers)
	if err != nil {
		s.abandonAmountCharge(r, c)
		var failed *stt.Failed
		if errors.As(err, &failed) {
			s.log.WarnContext(r.Context(), "recognition failed", "error", failed.Message)
			writeError(w, r, http.StatusBadGateway, failed.Message, "")
			return nil, false
		}
		s.log.ErrorContext(r.Context(), "the recognition model's answer is unreadable", "error", err)
		dropRateLimitHeaders(w.Header())
		writeError(w, r, http.StatusInternalServerError, internalErrorMessage, "")
		return nil, false
	}
	if !s.closeAmountCharge(w, r, c, seconds) {
		return nil, false
	}
	return result, true
}

// openAmountCharge is openCharge for a decimal quantity of audio_seconds.
func (s *Server) openAmountCharge(w http.ResponseWriter, r *http.Request, route, quantity string) (*charge, bool) {
	req := billingRequest(r)
	auth, err := s.recognition.Billing.AuthorizeAmount(r.Context(), req, apiKey(r), route, "audio_seconds", quantity)
	if err != nil {
		s.metrics.billingCall("authorize", outcome(err))
		s.answerBillingError(w, r, err, true)
		return nil, false
	}
	s.metrics.billingCall("authorize", "ok")
	for name, values := range auth.RateLimit {
		if w.Header().Get(name) == "" {
			w.Header()[name] = values
		}
	}
	c := &charge{auth: auth, req: req}
	holdsOf(r.Context()).opened(auth, func() { s.abandonAmountCharge(r, c) })
	return c, true
}

func (s *Server) closeAmountCharge(w http.ResponseWriter, r *http.Request, c *charge, quantity string) bool {
	holdsOf(r.Context()).closed(c.auth)
	err := s.recognition.Billing.SettleAmount(context.WithoutCancel(r.Context()), c.req, c.auth, quantity)
	s.metrics.billingCall("settle", outcome(err))
	if err != nil {
		s.answerBillingError(w, r, err, false)
		return false
	}
	return true
}

func (s *Server) abandonAmountCharge(r *http.Request, c *charge) {
	holdsOf(r.Context()).closed(c.auth)
	err := s.recognition.Billing.Release(context.WithoutCancel(r.Context()), c.req, c.auth)
	s.metrics.billingCall("release", outcome(err))
	if err != nil {
		s.log.WarnContext(r.Context(), "releasing the hold failed; it will expire", "error", err)
	}
}

// pyFloat is repr(float) as Python's json writes it: the shortest text that reads back,
// with ".0" for a whole number, exponent form below 1e-4 and from 1e16.
func pyFloat(f float64) string {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return "null"
	}
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-4 || abs >= 1e16) {
		s := strconv.FormatFloat(f, 'e', -1, 64)
		mant, exp, _ := strings.Cut(s, "e")
		sign := exp[0]
		digits := strings.TrimLeft(exp[1:], "0")
		if len(digits) < 2 {
			digits = strings.Repeat("0", 2-len(digits)) + digits
		}
		if sign == '+' {
			return mant + "e+" + digits
		}
		return mant + "e-" + digits
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

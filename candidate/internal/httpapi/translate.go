package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"unicode/utf8"

	"banyan/candidate/internal/reqid"
	"banyan/candidate/internal/text"
	"banyan/candidate/internal/translation"
	"banyan/candidate/internal/translationmodel"
)

// POST /translate (legacy/translate_api.py; sdk-contract §1.5, §1.6): text from one language
// into another, in two models with their own limits, billed by characters of input.
//
//   - mayura:v1 (the default): input ≤ 1000 characters, the core 11 languages and auto,
//     every mode, output_script;
//   - sarvam-translate:v1: input ≤ 2000 characters, all 23 languages and auto, formal mode
//     only, no output_script.
//
// The steps and their answers, in legacy's order: validation (422), the model's refusal
// (400), the same language on both sides (400), no inference server configured (503), auto
// detection (400 when it finds no language, or one the model does not take; 502/503 when the
// identification model fails), authorize, the model (502 and the hold released when a chunk
// fails), write_in, settle.

// maxTranslateInput is the schema's max_length (the larger model's limit); each model's own
// limit is a 400 from modelRefusal.
const maxTranslateInput = 2000

const defaultTranslateModel = "mayura:v1"

// modelMaxChars is legacy's MAX_CHARS.
var modelMaxChars = map[string]int{"mayura:v1": 1000, "sarvam-translate:v1": 2000}

var (
	// translateLanguages is legacy's Language literal in its order (the core 11, then the 12
	// only sarvam-translate:v1 takes), as its validation messages list them.
	translateLanguages = append(append([]string{}, text.CoreLanguages...),
		"as-IN", "brx-IN", "doi-IN", "kok-IN", "ks-IN", "mai-IN",
		"mni-IN", "ne-IN", "sa-IN", "sat-IN", "sd-IN", "ur-IN")
	speakerGenders  = []string{"Male", "Female"}
	translateModes  = []string{"formal", "modern-colloquial", "classic-colloquial", "code-mixed"}
	translateModels = []string{"mayura:v1", "sarvam-translate:v1"}
	outputScripts   = []string{"roman", "fully-native", "spoken-form-in-native"}
)

// translateRequest is legacy's TranslationRequest after validation ("" for an absent or null
// optional field).
type translateRequest struct {
	input, source, target, gender, mode, model, outputScript, numerals string
}

func readTranslateRequest(f *fields) translateRequest {
	return translateRequest{
		input:        f.str("input", 1, maxTranslateInput),
		source:       f.literalUnion("source_language_code", sourceAuto, translateLanguages),
		target:       f.literal("target_language_code", true, translateLanguages),
		gender:       f.literal("speaker_gender", false, speakerGenders),
		mode:         f.literal("mode", false, translateModes),
		model:        f.literal("model", false, translateModels),
		outputScript: f.literal("output_script", false, outputScripts),
		numerals:     f.literal("numerals_format", false, numeralsFormats),
	}
}

// modelRefusal is legacy's model_refusal: why model cannot serve the request (the 400's
// message), or "".
func modelRefusal(req translateRequest, model string) string {
	limit := modelMaxChars[model]
	if n := utf8.RuneCountInString(req.input); n > limit {
		hint := ";"
		if model == "mayura:v1" {
			hint = "; use sarvam-translate:v1 (up to 2000) or"
		}
		return fmt.Sprintf("input is %d characters; %s takes at most %d%s split it", n, model, limit, hint)
	}
	switch {
	case model == "mayura:v1":
		for _, field := range []struct{ name, code string }{
			{"source_language_code", req.source}, {"target_language_code", req.target},
		} {
			if field.code != "auto" && !text.IsCoreLanguage(field.code) {
				return fmt.Sprintf("%s %s is not supported by mayura:v1; use sarvam-translate:v1", field.name, field.code)
			}
		}
	case req.mode != "" && req.mode != "formal":
		return fmt.Sprintf("sarvam-translate:v1 translates in formal mode only; drop mode '%s'", req.mode)
	case req.outputScript != "":
		return "output_script is supported by mayura:v1 only; drop it or use mayura:v1"
	}
	return ""
}

// detectedSource is legacy's _source: the source language, the identifier's answer when the
// request said auto; "" after answering when there is none (400 when it found no language or
// one the model does not take; 502 or 503 when the identification model failed).
func (s *Server) detectedSource(w http.ResponseWriter, r *http.Request, req translateRequest, model string) string {
	if req.source != "auto" {
		return req.source
	}
	found, err := s.identify(r, req.input)
	switch {
	case err != nil:
		s.answerModelError(w, r, err)
		return ""
	case found.LanguageCode == nil:
		writeError(w, r, http.StatusBadRequest, "could not detect the input's language; pass source_language_code", "")
		return ""
	case model == "mayura:v1" && !text.IsCoreLanguage(*found.LanguageCode):
		writeError(w, r, http.StatusBadRequest, fmt.Sprintf(
			"the input looks like %s, which mayura:v1 does not translate; use sarvam-translate:v1", *found.LanguageCode), "")
		return ""
	}
	return *found.LanguageCode
}

// translate is POST /translate.
func (s *Server) translate(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, bodyLimit)
	if !ok {
		return
	}
	f := fields{body: body}
	req := readTranslateRequest(&f)
	if len(f.problems) > 0 {
		writeError(w, r, http.StatusUnprocessableEntity, f.message(), "")
		return
	}
	model := req.model
	if model == "" {
		model = defaultTranslateModel
	}
	if refusal := modelRefusal(req, model); refusal != "" {
		writeError(w, r, http.StatusBadRequest, refusal, "")
		return
	}
	if req.source == req.target {
		writeError(w, r, http.StatusBadRequest, "source and target language are the same; nothing to translate", "")
		return
	}
	if s.translator == nil {
		writeError(w, r, http.StatusServiceUnavailable, "translation is not configured (BANYAN_INFERENCE_URL)", "")
		return
	}
	source := s.detectedSource(w, r, req, model)
	if source == "" {
		return
	}
	chars := utf8.RuneCountInString(req.input)
	charge, ok := s.openCharge(w, r, "translate", chars)
	if !ok {
		return
	}
	job := translation.Job{
		Text: req.input, SourceLanguageCode: source, TargetLanguageCode: req.target,
		Mode: orDefault(req.mode, "formal"), SpeakerGender: orDefault(req.gender, "Male"),
	}
	// The work runs past a client that went away, as legacy's does (and is then billed as
	// legacy bills it); every model call has its own deadline.
	translated, err := translation.Translate(context.WithoutCancel(r.Context()), s.translator, job)
	if err != nil {
		s.abandonCharge(r, charge)
		var failed *translationmodel.Failed
		if errors.As(err, &failed) {
			s.log.WarnContext(r.Context(), "translation failed", "error", failed.Message)
			writeError(w, r, http.StatusBadGateway, failed.Message, "")
			return
		}
		// Legacy does not catch an answer that is not a translation either: a 500, the hold
		// given back.
		s.log.ErrorContext(r.Context(), "the translation model's answer is unreadable", "error", err)
		dropRateLimitHeaders(w.Header())
		writeError(w, r, http.StatusInternalServerError, internalErrorMessage, "")
		return
	}
	out := s.writer.WriteIn(translated, req.target, req.outputScript, orDefault(req.numerals, "international"))
	if !s.closeCharge(w, r, charge, chars) {
		return
	}
	id := reqid.From(r.Context())
	var o jsonObject
	o.field("request_id", &id)
	o.field("translated_text", &out)
	o.field("source_language_code", &source)
	writeJSON(w, http.StatusOK, o.String())
}

func orDefault(value, fallback string) string {
	if value == "" {
		return fallback
	}
	return value
}

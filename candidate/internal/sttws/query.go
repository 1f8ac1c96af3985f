package sttws

import (
	"banyan/candidate/internal/realtime"
	"banyan/candidate/internal/stt"
)

// The query's Literal choices, as legacy's SttWsQuery and SttTranslateWsQuery declare them.
var (
	languages = []string{
		"unknown", "hi-IN", "bn-IN", "kn-IN", "ml-IN", "mr-IN", "od-IN", "pa-IN", "ta-IN", "te-IN",
		"en-IN", "gu-IN", "as-IN", "ur-IN", "ne-IN", "kok-IN", "ks-IN", "sd-IN", "sa-IN", "sat-IN",
		"mni-IN", "brx-IN", "mai-IN", "doi-IN",
	}
	models          = []string{"saaras:v3", "saaras:v4", "saarika:v2.5"}
	translateModels = []string{"saaras:v2.5"}
	modes           = []string{"transcribe", "translate", "verbatim", "translit", "codemix"}
	sampleRates     = []string{"16000", "8000"}
	codecs          = []string{"wav", "pcm_s16le", "pcm_l16", "pcm_raw"}
	flags           = []string{"true", "false"}
)

// options is a validated query.
type options struct {
	request    stt.Request // the language ("unknown": detect), mode and keyterms
	model      string
	keyterms   string // the raw parameter, checked after the query validates
	rawRate    int    // 0: audio messages are WAV files; else raw PCM at this rate
	highVAD    bool
	vadSignals bool
}

// parseQuery is parse_query(websocket, SttWsQuery): the fields in declaration order, each
// problem named by the parameter as given ("language-code" is the field's alias; its name
// language_code is accepted too, the alias winning when both are there).
func parseQuery(raw string) (options, string) {
	q := realtime.ParseQuery(raw)
	languageParam := "language-code"
	if !q.Has(languageParam) {
		languageParam = "language_code"
	}
	o := options{
		request: stt.Request{
			Language: orDefault(q.Literal(languageParam, languages), "unknown"),
			// model comes between the language and the mode in legacy's declaration order.
		},
	}
	o.model = orDefault(q.Literal("model", models), "saaras:v4")
	o.request.Mode = orDefault(q.Literal("mode", modes), "transcribe")
	o.keyterms, _ = q.Str("keyterms")
	o.readAudio(q)
	return o, q.Problem()
}

// parseTranslateQuery is parse_query(websocket, SttTranslateWsQuery): English out, the source
// language always detected, no keyterms.
func parseTranslateQuery(raw string) (options, string) {
	q := realtime.ParseQuery(raw)
	o := options{request: stt.Request{Language: "unknown", Mode: "translate"}}
	o.model = orDefault(q.Literal("model", translateModels), "saaras:v2.5")
	o.readAudio(q)
	return o, q.Problem()
}

// readAudio reads the fields both queries end with, in their order. flush_signal is
// validated and otherwise ignored: flush messages are honoured either way.
func (o *options) readAudio(q *realtime.Query) {
	rate := orDefault(q.Literal("sample_rate", sampleRates), "16000")
	codec := orDefault(q.Literal("input_audio_codec", codecs), "wav")
	o.highVAD = q.Literal("high_vad_sensitivity", flags) == "true"
	o.vadSignals = q.Literal("vad_signals", flags) == "true"
	q.Literal("flush_signal", flags)
	if codec != "wav" {
		o.rawRate = 8000
		if rate == "16000" {
			o.rawRate = 16000
		}
	}
}

// parseKeyterms is legacy's parse_keyterms on the query's keyterms: "" or the 400's message.
func (o *options) parseKeyterms() string {
	terms, problem := stt.ParseKeyterms(o.keyterms, o.model)
	o.request.Keyterms = terms
	return problem
}

func orDefault(v, fallback string) string {
	if v == "" {
		return fallback
	}
	return v
}

// Package tts is the candidate's text-to-speech, a port of legacy/speech/{voices,options,
// tts}.py: which models and speakers exist and how a speaker sounds on the engine
// (voices.go), the rules that tie a request's fields together (options.go, every message
// in legacy's words), and speech for a text: chunked to the model's context limit, each
// chunk one call of the inference server's eSpeak NG model, at most a window of calls in
// flight, joined in order with a pause between chunks (speak.go, model.go).
//
// The tables come from legacy's own modules (tables_gen.go, written by gen/gen_tables.py);
// the cases its tests replay come from running legacy's functions (gen/gen_cases.py).
// Audio after synthesis (resampling, loudness, codecs) is internal/audio's.
package tts

//go:generate ../../../.venv/bin/python gen/gen_tables.py

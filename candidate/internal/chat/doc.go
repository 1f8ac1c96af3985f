// Package chat is the platform's half of the OpenAI-compatible chat completions
// (legacy/chat/ and legacy/chat_api.py): the served models and their limits, request
// validation with pydantic's messages, the prompt's token count (the estimate legacy holds
// and the tokens_in it bills), the exact payload legacy sends the model, and the SSE frames
// and whole chat.completion built from the model's events.
//
// Pure: no I/O. The model is the inference server's (internal/llmmodel asks it); the route,
// billing and streaming are internal/httpapi's. The Go tests replay legacy's own answers
// (testdata/cases.json and chunks.json, written by gen/gen_cases.py running legacy's code).
//
//go:generate ../../../.venv/bin/python gen/gen_tables.py
package chat

package sttws

import (
	"math"
	"strconv"
	"strings"

	"banyan/candidate/internal/envelope"
	"banyan/candidate/internal/pyjson"
	"banyan/candidate/internal/vad"
)

// MaxMessageChars is the longest client message, in characters: base64 of ~750 KiB, well
// under the SDK's 1 MiB frame limit. A longer one ends the session (error, close 1009).
const MaxMessageChars = 1 << 20

// The answers to client messages that are not what the protocol expects, in legacy's words.
const (
	msgNotJSON      = "send JSON text frames: audio, flush or config"
	msgUnknown      = `unknown message; expected {"audio": {"data": ...}} or {"type": "flush"}`
	msgTooLong      = "messages are at most 1048576 characters"
	codeInvalid     = "invalid_request_error"
	codeQuota       = "insufficient_quota_error"
	codeModel       = "model_call_error"
	codeTooLong     = "1009" // a string, as legacy sends it
	codeNotPorted   = "internal_server_error"
	signalStarted   = "START_SPEECH"
	signalEnded     = "END_SPEECH"
	messageFlush    = "flush"
	messageConfig   = "config"
	messageAudio    = "audio"
	messageNotValid = ""
)

// clientMessage is what legacy's _handle makes of a text frame: a flush, a config, audio
// (with its base64 data), or not valid (notJSON: not a JSON object; else an unknown shape).
type clientMessage struct {
	kind    string
	notJSON bool
	data    pyjson.Value // audio.data, a String
}

// parseMessage is json.loads(text) and legacy's classification of the result: a dict whose
// type is "flush" or "config", else whose audio is a dict with a str data.
func parseMessage(text []byte) clientMessage {
	// json.loads of a str refuses a leading BOM; pyjson reads bytes, where one is allowed.
	if len(text) == 0 || len(text) >= 3 && text[0] == 0xEF && text[1] == 0xBB && text[2] == 0xBF {
		return clientMessage{notJSON: true}
	}
	// A document nested past Python's recursion limit raises RecursionError, which legacy
	// does not catch (the session dies with 1011); pyjson's ErrUndecodable is answered as
	// the non-JSON it is. Every other failure is legacy's ValueError: not JSON.
	v, err := pyjson.Decode(text)
	if err != nil || v.Kind != pyjson.Object {
		return clientMessage{notJSON: true}
	}
	if kind, ok := v.Fields["type"]; ok && kind.Kind == pyjson.String && !kind.LoneSurrogate {
		switch kind.Str {
		case messageFlush, messageConfig:
			return clientMessage{kind: kind.Str}
		}
	}
	audio, ok := v.Fields["audio"]
	if !ok || audio.Kind != pyjson.Object {
		return clientMessage{kind: messageNotValid}
	}
	data, ok := audio.Fields["data"]
	if !ok || data.Kind != pyjson.String {
		return clientMessage{kind: messageNotValid}
	}
	return clientMessage{kind: messageAudio, data: data}
}

// The server's messages, written as legacy writes them: json.dumps(message,
// ensure_ascii=False), so with ", " and ": " between items and UTF-8 as is.

func errorMessage(message, code string) []byte {
	var b strings.Builder
	b.WriteString(`{"type": "error", "data": {"error": `)
	envelope.Quote(&b, message)
	b.WriteString(`, "code": `)
	envelope.Quote(&b, code)
	b.WriteString("}}")
	return []byte(b.String())
}

// eventMessage is a VAD event; at is time.time() when it is sent.
func eventMessage(signal string, at float64) []byte {
	return []byte(`{"type": "events", "data": {"event_type": "vad", "signal_type": "` + signal +
		`", "occured_at": ` + pyFloat(at) + "}}")
}

// transcript is what a data message reports of one utterance.
type transcript struct {
	requestID     string
	text          string
	language      *string  // nil until a language is known
	probability   *float64 // the detection's, when the language was detected
	audioDuration float64  // seconds, rounded to ms
	latency       float64  // seconds, rounded to ms
}

func dataMessage(t transcript) []byte {
	var b strings.Builder
	b.WriteString(`{"type": "data", "data": {"request_id": `)
	envelope.Quote(&b, t.requestID)
	b.WriteString(`, "transcript": `)
	envelope.Quote(&b, t.text)
	b.WriteString(`, "language_code": `)
	if t.language == nil {
		b.WriteString("null")
	} else {
		envelope.Quote(&b, *t.language)
	}
	b.WriteString(`, "language_probability": `)
	if t.probability == nil {
		b.WriteString("null")
	} else {
		b.WriteString(pyFloat(*t.probability))
	}
	b.WriteString(`, "timestamps": null, "diarized_transcript": null, "metrics": {"audio_duration": `)
	b.WriteString(pyFloat(vad.Round(t.audioDuration, 3)))
	b.WriteString(`, "processing_latency": `)
	b.WriteString(pyFloat(vad.Round(t.latency, 3)))
	b.WriteString("}}}")
	return []byte(b.String())
}

// pyFloat is repr(float) as json.dumps writes it: the shortest text that reads back, ".0"
// on a whole number, exponent form below 1e-4 and from 1e16, NaN and Infinity as Python
// spells them (json.dumps allows them).
func pyFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-4 || abs >= 1e16) {
		mant, exp, _ := strings.Cut(strconv.FormatFloat(f, 'e', -1, 64), "e")
		digits := strings.TrimLeft(exp[1:], "0")
		if len(digits) < 2 {
			digits = strings.Repeat("0", 2-len(digits)) + digits
		}
		return mant + "e" + exp[:1] + digits
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

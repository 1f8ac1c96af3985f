package ttsws

import (
	"encoding/base64"
	"strconv"
	"strings"

	"banyan/candidate/internal/envelope"
	"banyan/candidate/internal/pyjson"
)

// The server's messages, written as legacy writes them: json.dumps(message,
// ensure_ascii=False), so with ", " and ": " between items and UTF-8 as is.

func audioMessage(contentType string, audio []byte, requestID string) []byte {
	var b strings.Builder
	b.Grow(base64.StdEncoding.EncodedLen(len(audio)) + 120)
	b.WriteString(`{"type": "audio", "data": {"content_type": `)
	envelope.Quote(&b, contentType)
	b.WriteString(`, "audio": "`)
	b.WriteString(base64.StdEncoding.EncodeToString(audio))
	b.WriteString(`", "request_id": `)
	envelope.Quote(&b, requestID)
	b.WriteString("}}")
	return []byte(b.String())
}

var finalEvent = []byte(`{"type": "event", "data": {"event_type": "final"}}`)

func errorMessage(message string, code int, requestID string) []byte {
	var b strings.Builder
	b.WriteString(`{"type": "error", "data": {"message": `)
	envelope.Quote(&b, message)
	b.WriteString(`, "code": `)
	b.WriteString(strconv.Itoa(code))
	b.WriteString(`, "request_id": `)
	envelope.Quote(&b, requestID)
	b.WriteString("}}")
	return []byte(b.String())
}

// The answers to client messages that are not what the protocol expects (all code 400).
const (
	msgBinaryFrame = "send JSON text frames, not binary ones"
	msgNotAMessage = `a message is a JSON object {"type": "config" | "text" | "flush" | "ping", "data": {...}}`
)

// message is a client message (legacy's _Message): a type, and data that is an object or
// absent (null and {} both read as no data, as legacy's `message.data or {}`).
type message struct {
	kind string
	data map[string]pyjson.Value
}

// parseMessage is json.loads(text) then _Message.model_validate; false: msgNotAMessage.
func parseMessage(text []byte) (message, bool) {
	// json.loads of a str refuses a leading BOM; pyjson reads bytes, where one is allowed.
	if len(text) >= 3 && text[0] == 0xEF && text[1] == 0xBB && text[2] == 0xBF {
		return message{}, false
	}
	v, err := pyjson.Decode(text)
	if err != nil || v.Kind != pyjson.Object {
		return message{}, false
	}
	kind, ok := v.Fields["type"]
	if !ok || kind.Kind != pyjson.String {
		return message{}, false
	}
	m := message{kind: kind.Str}
	if data, ok := v.Fields["data"]; ok {
		switch data.Kind {
		case pyjson.Null:
		case pyjson.Object:
			m.data = data.Fields
		default:
			return message{}, false
		}
	}
	return m, true
}

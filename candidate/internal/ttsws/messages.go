package ttsws

import (
	"encoding/base64"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

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

// pyRepr is Python's repr() of a str: single quotes unless the text has one and no double
// quote; backslash, the quote, \t \n \r escaped; other characters that are not printable
// (str.isprintable: control, format, unassigned, private use, separators but the space) as
// \xhh, \uhhhh or \Uhhhhhhhh.
func pyRepr(s string) string {
	quote := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		quote = '"'
	}
	var b strings.Builder
	b.WriteByte(quote)
	for _, r := range s {
		switch {
		case r == rune(quote) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < utf8.RuneSelf && r >= ' ' && r != 0x7f, r >= utf8.RuneSelf && unicode.IsPrint(r):
			b.WriteRune(r)
		case r <= 0xff:
			b.WriteString(`\x` + hexDigits(r, 2))
		case r <= 0xffff:
			b.WriteString(`\u` + hexDigits(r, 4))
		default:
			b.WriteString(`\U` + hexDigits(r, 8))
		}
	}
	b.WriteByte(quote)
	return b.String()
}

func hexDigits(r rune, width int) string {
	s := strconv.FormatInt(int64(r), 16)
	return strings.Repeat("0", width-len(s)) + s
}

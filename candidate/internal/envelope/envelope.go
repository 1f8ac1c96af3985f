// Package envelope is the platform's error envelope (legacy/errors.py, sdk-contract §1.4),
// {"error": {"message", "code", "request_id"}}, and the JSON string encoding legacy's
// responses use (Python's json.dumps(ensure_ascii=False)), for the handlers that live outside
// internal/httpapi: the WebSocket routes refuse their handshakes with it. It is byte for
// byte what httpapi's writeError sends, so a refused handshake and a refused request read
// the same to the SDKs; httpapi can switch to it when its files are next touched.
package envelope

import (
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// codeByStatus is legacy/errors.py's status→code table.
var codeByStatus = map[int]string{
	400: "invalid_request_error",
	401: "invalid_api_key_error",
	402: "insufficient_quota_error",
	403: "authentication_error",
	404: "not_found_error",
	405: "invalid_request_error",
	413: "invalid_request_error",
	422: "unprocessable_entity_error",
	429: "rate_limit_exceeded_error",
	502: "model_call_error",
	503: "internal_server_error",
	504: "gateway_timeout_error",
}

// CodeFor is legacy's _code_for: the table, else by class (so 501 is internal_server_error).
func CodeFor(status int) string {
	if code, ok := codeByStatus[status]; ok {
		return code
	}
	if status < 500 {
		return "invalid_request_error"
	}
	return "internal_server_error"
}

// Body is the envelope as legacy's JSONResponse serialises it (compact separators, UTF-8
// as is); code "" takes the status's code from the table.
func Body(status int, message, code, requestID string) string {
	if code == "" {
		code = CodeFor(status)
	}
	var b strings.Builder
	b.WriteString(`{"error":{"message":`)
	Quote(&b, message)
	b.WriteString(`,"code":`)
	Quote(&b, code)
	b.WriteString(`,"request_id":`)
	Quote(&b, requestID)
	b.WriteString("}}")
	return b.String()
}

// Write sends the envelope with its status, legacy's error_response: Content-Type,
// Content-Length and X-Request-ID (when there is an id) set; extra headers (Retry-After,
// X-RateLimit-*) added first.
func Write(w http.ResponseWriter, status int, message, code, requestID string, extra http.Header) {
	h := w.Header()
	for name, values := range extra {
		h[http.CanonicalHeaderKey(name)] = values
	}
	body := Body(status, message, code, requestID)
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if requestID != "" {
		h.Set("X-Request-ID", requestID)
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// Quote writes s as a JSON string the way Python's json.dumps(ensure_ascii=False) does:
// UTF-8 as is, only quotes, backslashes and control characters escaped (encoding/json
// would also escape <, >, & and U+2028/U+2029). Invalid UTF-8 is written as U+FFFD.
func Quote(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			if c < utf8.RuneSelf {
				b.WriteByte(c)
				i++
				continue
			}
			r, size := utf8.DecodeRuneInString(s[i:])
			b.WriteRune(r)
			i += size
			continue
		}
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			b.WriteString(`\u00`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xF])
		}
		i++
	}
	b.WriteByte('"')
}

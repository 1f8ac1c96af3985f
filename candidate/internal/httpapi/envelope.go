package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"banyan/candidate/internal/reqid"
)

// codeByStatus is legacy/errors.py's status→code table (sdk-contract §1.4).
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

// codeFor is legacy's _code_for: the table, else by class (so 501 is internal_server_error).
func codeFor(status int) string {
	if code, ok := codeByStatus[status]; ok {
		return code
	}
	if status < 500 {
		return "invalid_request_error"
	}
	return "internal_server_error"
}

// internalErrorMessage is what every 500 says; the details go to the log.
const internalErrorMessage = "internal error; quote the request_id when reporting it"

// writeError sends the platform's error envelope {"error": {"message", "code", "request_id"}}
// with code from the table unless given.
func writeError(w http.ResponseWriter, r *http.Request, status int, message, code string) {
	if code == "" {
		code = codeFor(status)
	}
	var b strings.Builder
	b.WriteString(`{"error":{"message":`)
	writeJSONString(&b, message)
	b.WriteString(`,"code":`)
	writeJSONString(&b, code)
	b.WriteString(`,"request_id":`)
	writeJSONString(&b, reqid.From(r.Context()))
	b.WriteString("}}")
	writeJSON(w, status, b.String())
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// writeJSONString writes s as Python's json.dumps(ensure_ascii=False) does (what legacy's
// JSONResponse sends): UTF-8 as is, only quotes, backslashes and control characters escaped.
// encoding/json would also escape <, >, & and U+2028/U+2029.
func writeJSONString(b *strings.Builder, s string) {
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
			b.WriteRune(r) // invalid UTF-8 cannot reach here: bodies are decoded first
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

// jsonObject builds a flat JSON object in field order (legacy's response models are
// serialised in declaration order); a nil *string is null.
type jsonObject struct{ b strings.Builder }

func (o *jsonObject) field(name string, value *string) {
	if o.b.Len() == 0 {
		o.b.WriteByte('{')
	} else {
		o.b.WriteByte(',')
	}
	writeJSONString(&o.b, name)
	o.b.WriteByte(':')
	if value == nil {
		o.b.WriteString("null")
		return
	}
	writeJSONString(&o.b, *value)
}

func (o *jsonObject) String() string {
	if o.b.Len() == 0 {
		return "{}"
	}
	return o.b.String() + "}"
}

package httpapi

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"banyan/candidate/internal/pyjson"
)

// Request validation as legacy's FastAPI and strict pydantic models do it, messages included:
// the body is JSON only under a JSON content type, every field's problems are listed in
// field order as "body.<field>: <pydantic message>", joined by "; ", and the answer is 422
// (unprocessable_entity_error). JSON null is "absent" for an optional field and a type
// error for a required one, as pydantic has it.

// bodyLimit caps what the candidate reads of a request body. Legacy has no cap; the text
// routes take at most 1000 characters, so 1 MiB is far above any valid request.
const bodyLimit = 1 << 20

// chatBodyLimit is the cap for the chat routes, whose valid requests are bounded by the
// model's context (32,768 tokens at most) rather than by characters: a cl100k token spans
// up to 128 bytes (a run of spaces), so a prompt legacy accepts can reach 4 MiB of JSON.
const chatBodyLimit = 8 << 20

// problems collects validation failures, each "loc: message".
type problems []string

func (p *problems) add(loc, message string) { *p = append(*p, loc+": "+message) }

func (p problems) message() string { return strings.Join(p, "; ") }

// Pydantic's messages.
const (
	msgRequired   = "Field required"
	msgNotString  = "Input should be a valid string"
	msgSurrogate  = "Input should be a valid string, unable to parse raw data as a unicode string"
	msgNotBool    = "Input should be a valid boolean"
	msgNotObject  = "Input should be a valid dictionary or object to extract fields from"
	msgParseError = "There was an error parsing the body"
)

// readBody is FastAPI's body handling for a JSON model: the decoded object, or false after
// answering (422 for a missing, non-object or malformed body; 400 for undecodable bytes;
// 413 past limit).
func readBody(w http.ResponseWriter, r *http.Request, limit int64) (map[string]pyjson.Value, bool) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, r, http.StatusRequestEntityTooLarge,
				fmt.Sprintf("the request body is over %d bytes", limit), "")
			return nil, false
		}
		writeError(w, r, http.StatusBadRequest, msgParseError, "")
		return nil, false
	}
	if len(raw) == 0 {
		writeError(w, r, http.StatusUnprocessableEntity, "body: "+msgRequired, "")
		return nil, false
	}
	if !isJSONContentType(r.Header.Get("Content-Type")) {
		// FastAPI keeps a non-JSON body as bytes, which no model accepts.
		writeError(w, r, http.StatusUnprocessableEntity, "body: "+msgNotObject, "")
		return nil, false
	}
	value, err := pyjson.Decode(raw)
	var syntax *pyjson.SyntaxError
	switch {
	case errors.As(err, &syntax):
		writeError(w, r, http.StatusUnprocessableEntity, "body."+strconv.Itoa(syntax.Pos)+": JSON decode error", "")
		return nil, false
	case err != nil:
		writeError(w, r, http.StatusBadRequest, msgParseError, "")
		return nil, false
	case value.Kind != pyjson.Object:
		writeError(w, r, http.StatusUnprocessableEntity, "body: "+msgNotObject, "")
		return nil, false
	}
	return value.Fields, true
}

// isJSONContentType is FastAPI's test (through email.message's parsing of the header):
// application/json or application/*+json, parameters ignored, case-insensitive. With no
// content type at all the body is not read as JSON (FastAPI's strict_content_type).
func isJSONContentType(value string) bool {
	value = latin1(value)
	if value == "" {
		return false
	}
	mediaType, _, _ := strings.Cut(value, ";")
	mediaType = strings.ToLower(pyStrip(mediaType))
	if strings.Count(mediaType, "/") != 1 {
		return false // email.message reads an invalid type as text/plain
	}
	main, sub, _ := strings.Cut(mediaType, "/")
	return main == "application" && (sub == "json" || strings.HasSuffix(sub, "+json"))
}

// latin1 is a header value as Starlette reads it: each byte one character.
func latin1(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			runes := make([]rune, len(s))
			for j := 0; j < len(s); j++ {
				runes[j] = rune(s[j])
			}
			return string(runes)
		}
	}
	return s
}

// pyStrip is Python's str.strip() for text decoded as Latin-1.
func pyStrip(s string) string {
	return strings.TrimFunc(s, func(r rune) bool {
		switch r {
		case '\t', '\n', '\v', '\f', '\r', 0x1c, 0x1d, 0x1e, 0x1f, ' ', 0x85, 0xa0:
			return true
		}
		return false
	})
}

// fields reads one model's fields from a decoded body, recording problems in order.
type fields struct {
	body map[string]pyjson.Value
	problems
}

func (f *fields) get(name string, required bool) (pyjson.Value, bool) {
	v, ok := f.body[name]
	if !ok {
		if required {
			f.add("body."+name, msgRequired)
		}
		return v, false
	}
	if v.Kind == pyjson.Null && !required {
		return v, false
	}
	return v, true
}

// str is a required strict str with a length in code points (Python len).
func (f *fields) str(name string, minLen, maxLen int) string {
	v, ok := f.get(name, true)
	if !ok {
		return ""
	}
	loc := "body." + name
	switch {
	case v.Kind != pyjson.String:
		f.add(loc, msgNotString)
	case v.LoneSurrogate:
		f.add(loc, msgSurrogate)
	default:
		n := utf8.RuneCountInString(v.Str)
		if n < minLen {
			f.add(loc, fmt.Sprintf("String should have at least %d %s", minLen, plural(minLen, "character")))
		} else if n > maxLen {
			f.add(loc, fmt.Sprintf("String should have at most %d %s", maxLen, plural(maxLen, "character")))
		}
		return v.Str
	}
	return ""
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// literal is a Literal[...] field (optional ones may be absent or null: "").
func (f *fields) literal(name string, required bool, choices []string) string {
	v, ok := f.get(name, required)
	if !ok {
		return ""
	}
	if msg := literalProblem(v, choices); msg != "" {
		f.add("body."+name, msg)
		return ""
	}
	return v.Str
}

// literalUnion is `Literal[first] | Literal[rest...]`: pydantic tries each member and, when
// none fits, reports each member's failure under its own location.
func (f *fields) literalUnion(name string, first []string, rest []string) string {
	v, ok := f.get(name, true)
	if !ok {
		return ""
	}
	if literalProblem(v, first) == "" || literalProblem(v, rest) == "" {
		return v.Str
	}
	for _, member := range [][]string{first, rest} {
		f.add("body."+name+"."+literalTag(member), literalProblem(v, member))
	}
	return ""
}

func literalProblem(v pyjson.Value, choices []string) string {
	if v.Kind == pyjson.String && v.LoneSurrogate {
		return msgSurrogate
	}
	if v.Kind == pyjson.String {
		for _, c := range choices {
			if v.Str == c {
				return ""
			}
		}
	}
	return "Input should be " + expected(choices)
}

// expected is pydantic's list of allowed values: 'a', 'b' or 'c'.
func expected(choices []string) string {
	quoted := make([]string, len(choices))
	for i, c := range choices {
		quoted[i] = "'" + c + "'"
	}
	if len(quoted) == 1 {
		return quoted[0]
	}
	return strings.Join(quoted[:len(quoted)-1], ", ") + " or " + quoted[len(quoted)-1]
}

// literalTag is how pydantic names a union member in an error location: literal['a','b'].
func literalTag(choices []string) string {
	quoted := make([]string, len(choices))
	for i, c := range choices {
		quoted[i] = "'" + c + "'"
	}
	return "literal[" + strings.Join(quoted, ",") + "]"
}

// optionalBool is a strict `bool | None` field: only JSON true and false.
func (f *fields) optionalBool(name string) bool {
	v, ok := f.get(name, false)
	if !ok {
		return false
	}
	if v.Kind != pyjson.Bool {
		f.add("body."+name, msgNotBool)
		return false
	}
	return v.Bool
}

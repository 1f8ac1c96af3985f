package realtime

import (
	"strings"
)

// Query is a realtime route's query string validated as legacy's parse_query does it:
// model_validate(dict(websocket.query_params)) on a pydantic model, whose problems refuse the
// handshake with 422 "invalid query parameters: <loc>: <msg>; …". Read the model's fields in
// declaration order (pydantic reports them in that order), then ask Problem.
type Query struct {
	params   map[string]string
	problems []string
}

// ParseQuery reads rawQuery as Starlette's QueryParams (urllib's parse_qsl with blank
// values kept, the bytes read as Latin-1) turned into a dict: of a repeated name the last
// value wins.
func ParseQuery(rawQuery string) *Query {
	params := map[string]string{}
	for _, pair := range strings.Split(latin1(rawQuery), "&") {
		if pair == "" {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		params[unquotePlus(name)] = unquotePlus(value)
	}
	return &Query{params: params}
}

// Literal is an optional Literal[...] field: its value, or "" when absent; a value not among
// choices is a problem.
func (q *Query) Literal(name string, choices []string) string {
	v, ok := q.params[name]
	if !ok {
		return ""
	}
	for _, c := range choices {
		if v == c {
			return v
		}
	}
	q.problems = append(q.problems, name+": Input should be "+expected(choices))
	return ""
}

// Has tells whether the query names the parameter (a field read under one of two names,
// such as an alias and its field name, is read under the one present).
func (q *Query) Has(name string) bool {
	_, ok := q.params[name]
	return ok
}

// Str is an optional str field: its value and whether it was given (any value validates).
func (q *Query) Str(name string) (string, bool) {
	v, ok := q.params[name]
	return v, ok
}

// Bool is a bool field with a default, parsed as pydantic parses a string: 0/1 and, in any
// case, f/t, n/y, no/yes, off/on, false/true; nothing else, not even with spaces around.
func (q *Query) Bool(name string, fallback bool) bool {
	v, ok := q.params[name]
	if !ok {
		return fallback
	}
	switch strings.ToLower(v) {
	case "0", "f", "n", "no", "off", "false":
		return false
	case "1", "t", "y", "yes", "on", "true":
		return true
	}
	q.problems = append(q.problems, name+": Input should be a valid boolean, unable to interpret input")
	return fallback
}

// Problem is the 422 message, "" when the query is valid.
func (q *Query) Problem() string {
	if len(q.problems) == 0 {
		return ""
	}
	return "invalid query parameters: " + strings.Join(q.problems, "; ")
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

// unquotePlus is urllib's unquote_plus as parse_qsl applies it: + is a space, %XX a byte,
// a % not followed by two hex digits stays as it is, and the bytes of each ASCII run are read
// as UTF-8 with invalid sequences replaced. Characters above ASCII (Latin-1 decoded bytes)
// pass through. (Where Go and Python place replacement characters differently, the value is
// invalid either way, and pydantic's messages never quote it.)
func unquotePlus(s string) string {
	s = strings.ReplaceAll(s, "+", " ")
	if !strings.Contains(s, "%") {
		return s
	}
	var out strings.Builder
	var run []byte
	flush := func() {
		out.WriteString(strings.ToValidUTF8(string(unquoteBytes(run)), "\uFFFD"))
		run = run[:0]
	}
	for _, r := range s {
		if r >= 0x80 {
			flush()
			out.WriteRune(r)
			continue
		}
		run = append(run, byte(r))
	}
	flush()
	return out.String()
}

func unquoteBytes(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '%' && i+2 < len(b) {
			hi, ok1 := unhex(b[i+1])
			lo, ok2 := unhex(b[i+2])
			if ok1 && ok2 {
				out = append(out, hi<<4|lo)
				i += 2
				continue
			}
		}
		out = append(out, b[i])
	}
	return out
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

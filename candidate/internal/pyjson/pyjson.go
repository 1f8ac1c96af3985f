// Package pyjson decodes a request body the way legacy's stack does (FastAPI calls
// json.loads on the bytes): the same encodings accepted (UTF-8, UTF-8 with a BOM, UTF-16 and
// UTF-32 detected as json.detect_encoding does, lone surrogates passed through), the same
// extensions (NaN, Infinity), and the same error positions (CPython's _json scanner), in
// code points. Legacy puts that position in its 422 message ("body.14: JSON decode error"),
// so encoding/json, which reports byte offsets and different places, cannot stand in.
//
// Kept: the kind of every value, strings (with a flag for lone surrogates, which Go strings
// cannot hold), numbers as written (json.loads makes an int of an integer literal and a float
// of any other), arrays, and objects with their keys in Python's dict order.
package pyjson

import (
	"encoding/binary"
	"errors"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Kind is a JSON value's type.
type Kind int

// The kinds of value.
const (
	Null Kind = iota
	Bool
	Number
	String
	Array
	Object
)

// Value is one decoded JSON value.
type Value struct {
	Kind Kind
	Bool bool
	// Str is a String's text; a lone surrogate (valid in a Python str, not in Go's) is
	// written as U+FFFD and flagged by LoneSurrogate.
	Str           string
	LoneSurrogate bool
	// Num is a Number's literal as written ("-0", "2.5e3", "NaN", "-Infinity").
	Num   string
	Items []Value
	// Fields holds an Object's members; of duplicate keys the last wins, as in Python.
	Fields map[string]Value
	// Keys are an Object's keys in Python's dict order: each where it first appeared.
	Keys []string
	// KeySurrogate flags an Object one of whose keys held a lone surrogate (written, like a
	// string's, as U+FFFD in Keys and Fields).
	KeySurrogate bool
}

// SyntaxError is json.JSONDecodeError: Pos is the index, in code points of the decoded
// text, where decoding failed.
type SyntaxError struct {
	Msg string
	Pos int
}

func (e *SyntaxError) Error() string { return e.Msg }

// ErrUndecodable is every other failure of json.loads (bytes that are not text in the
// detected encoding, an integer of more than 4300 digits, nesting deeper than Python's
// recursion limit): FastAPI answers those 400 "There was an error parsing the body".
var ErrUndecodable = errors.New("the body cannot be parsed")

// maxDepth stands in for CPython's recursion limit (1000 frames, some of which the server's
// own call stack uses); the exact depth at which legacy fails is not knowable from here.
const maxDepth = 900

// maxIntDigits is CPython's int max_str_digits default.
const maxIntDigits = 4300

// Decode parses body as json.loads(body) would.
func Decode(body []byte) (Value, error) {
	text, err := decodeText(body)
	if err != nil {
		return Value{}, err
	}
	d := decoder{s: text}
	idx := d.skipWhitespace(0)
	v, end, err := d.scan(idx, 0)
	if err != nil {
		return Value{}, err
	}
	end = d.skipWhitespace(end)
	if end != len(text) {
		return Value{}, &SyntaxError{"Extra data", end}
	}
	return v, nil
}

// decodeText is bytes.decode(json.detect_encoding(b), "surrogatepass") as code points
// (surrogates included).
func decodeText(b []byte) ([]rune, error) {
	switch {
	case hasPrefix(b, 0x00, 0x00, 0xFE, 0xFF):
		return decodeUTF32(b[4:], binary.BigEndian)
	case hasPrefix(b, 0xFF, 0xFE, 0x00, 0x00):
		return decodeUTF32(b[4:], binary.LittleEndian)
	case hasPrefix(b, 0xFE, 0xFF):
		return decodeUTF16(b[2:], binary.BigEndian)
	case hasPrefix(b, 0xFF, 0xFE):
		return decodeUTF16(b[2:], binary.LittleEndian)
	case hasPrefix(b, 0xEF, 0xBB, 0xBF):
		return decodeUTF8(b[3:])
	}
	switch {
	case len(b) >= 4 && b[0] == 0:
		if b[1] != 0 {
			return decodeUTF16(b, binary.BigEndian)
		}
		return decodeUTF32(b, binary.BigEndian)
	case len(b) >= 4 && b[1] == 0:
		if b[2] != 0 || b[3] != 0 {
			return decodeUTF16(b, binary.LittleEndian)
		}
		return decodeUTF32(b, binary.LittleEndian)
	case len(b) == 2 && b[0] == 0:
		return decodeUTF16(b, binary.BigEndian)
	case len(b) == 2 && b[1] == 0:
		return decodeUTF16(b, binary.LittleEndian)
	}
	return decodeUTF8(b)
}

func hasPrefix(b []byte, prefix ...byte) bool {
	return len(b) >= len(prefix) && string(b[:len(prefix)]) == string(prefix)
}

func decodeUTF8(b []byte) ([]rune, error) {
	out := make([]rune, 0, len(b))
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size <= 1 {
			// surrogatepass: a surrogate encoded as three bytes is kept as that code point.
			if len(b) >= 3 && b[0] == 0xED && b[1]&0xE0 == 0xA0 && b[2]&0xC0 == 0x80 {
				out = append(out, rune(b[0]&0x0F)<<12|rune(b[1]&0x3F)<<6|rune(b[2]&0x3F))
				b = b[3:]
				continue
			}
			return nil, ErrUndecodable
		}
		out = append(out, r)
		b = b[size:]
	}
	return out, nil
}

func decodeUTF16(b []byte, order binary.ByteOrder) ([]rune, error) {
	if len(b)%2 != 0 {
		return nil, ErrUndecodable
	}
	units := make([]uint16, len(b)/2)
	for i := range units {
		units[i] = order.Uint16(b[2*i:])
	}
	out := make([]rune, 0, len(units))
	for i := 0; i < len(units); i++ {
		u := rune(units[i])
		if utf16.IsSurrogate(u) && u < 0xDC00 && i+1 < len(units) {
			if r := utf16.DecodeRune(u, rune(units[i+1])); r != utf8.RuneError {
				out = append(out, r)
				i++
				continue
			}
		}
		out = append(out, u) // surrogatepass keeps an unpaired surrogate
	}
	return out, nil
}

func decodeUTF32(b []byte, order binary.ByteOrder) ([]rune, error) {
	if len(b)%4 != 0 {
		return nil, ErrUndecodable
	}
	out := make([]rune, 0, len(b)/4)
	for i := 0; i < len(b); i += 4 {
		r := order.Uint32(b[i:])
		if r > utf8.MaxRune {
			return nil, ErrUndecodable
		}
		out = append(out, rune(r))
	}
	return out, nil
}

type decoder struct{ s []rune }

func isWhitespace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }

func (d *decoder) skipWhitespace(i int) int {
	for i < len(d.s) && isWhitespace(d.s[i]) {
		i++
	}
	return i
}

func (d *decoder) hasAt(i int, word string) bool {
	for _, c := range word {
		if i >= len(d.s) || d.s[i] != c {
			return false
		}
		i++
	}
	return true
}

// scan is _json's scan_once_unicode: one value at idx, or "Expecting value" there.
func (d *decoder) scan(idx, depth int) (Value, int, error) {
	if idx >= len(d.s) {
		return Value{}, 0, &SyntaxError{"Expecting value", idx}
	}
	switch d.s[idx] {
	case '"':
		return d.scanString(idx + 1)
	case '{':
		if depth >= maxDepth {
			return Value{}, 0, ErrUndecodable
		}
		return d.scanObject(idx+1, depth+1)
	case '[':
		if depth >= maxDepth {
			return Value{}, 0, ErrUndecodable
		}
		return d.scanArray(idx+1, depth+1)
	case 'n':
		if d.hasAt(idx, "null") {
			return Value{Kind: Null}, idx + 4, nil
		}
	case 't':
		if d.hasAt(idx, "true") {
			return Value{Kind: Bool, Bool: true}, idx + 4, nil
		}
	case 'f':
		if d.hasAt(idx, "false") {
			return Value{Kind: Bool}, idx + 5, nil
		}
	case 'N':
		if d.hasAt(idx, "NaN") {
			return Value{Kind: Number, Num: "NaN"}, idx + 3, nil
		}
	case 'I':
		if d.hasAt(idx, "Infinity") {
			return Value{Kind: Number, Num: "Infinity"}, idx + 8, nil
		}
	case '-':
		if d.hasAt(idx, "-Infinity") {
			return Value{Kind: Number, Num: "-Infinity"}, idx + 9, nil
		}
	}
	return d.scanNumber(idx)
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// scanNumber is _match_number_unicode: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?
func (d *decoder) scanNumber(start int) (Value, int, error) {
	s, idx, last := d.s, start, len(d.s)-1
	if s[idx] == '-' {
		idx++
		if idx > last {
			return Value{}, 0, &SyntaxError{"Expecting value", start}
		}
	}
	intStart := idx
	switch {
	case s[idx] >= '1' && s[idx] <= '9':
		idx++
		for idx <= last && isDigit(s[idx]) {
			idx++
		}
	case s[idx] == '0':
		idx++
	default:
		return Value{}, 0, &SyntaxError{"Expecting value", start}
	}
	intDigits := idx - intStart
	isFloat := false
	if idx < last && s[idx] == '.' && isDigit(s[idx+1]) {
		isFloat = true
		idx += 2
		for idx <= last && isDigit(s[idx]) {
			idx++
		}
	}
	if idx < last && (s[idx] == 'e' || s[idx] == 'E') {
		eStart := idx
		idx++
		if idx < last && (s[idx] == '-' || s[idx] == '+') {
			idx++
		}
		for idx <= last && isDigit(s[idx]) {
			idx++
		}
		if isDigit(s[idx-1]) {
			isFloat = true
		} else {
			idx = eStart
		}
	}
	if !isFloat && intDigits > maxIntDigits {
		return Value{}, 0, ErrUndecodable // int(): "Exceeds the limit (4300 digits)"
	}
	return Value{Kind: Number, Num: string(s[start:idx])}, idx, nil
}

// scanString is scanstring_unicode with strict=True; end is the index after the quote.
func (d *decoder) scanString(end int) (Value, int, error) {
	s := d.s
	begin := end - 1
	var b strings.Builder
	surrogate := false
	write := func(r rune) {
		if r >= 0xD800 && r <= 0xDFFF {
			surrogate = true
			r = utf8.RuneError
		}
		b.WriteRune(r)
	}
	for {
		next := end
		var c rune
		for ; next < len(s); next++ {
			c = s[next]
			if c == '"' || c == '\\' {
				break
			}
			if c <= 0x1f {
				return Value{}, 0, &SyntaxError{"Invalid control character at", next}
			}
		}
		if next >= len(s) {
			return Value{}, 0, &SyntaxError{"Unterminated string starting at", begin}
		}
		for _, r := range s[end:next] {
			write(r)
		}
		next++
		if c == '"' {
			end = next
			break
		}
		if next == len(s) {
			return Value{}, 0, &SyntaxError{"Unterminated string starting at", begin}
		}
		c = s[next]
		if c != 'u' {
			end = next + 1
			switch c {
			case '"', '\\', '/':
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			default:
				return Value{}, 0, &SyntaxError{"Invalid \\escape", end - 2}
			}
			write(c)
			continue
		}
		next++
		end = next + 4
		if end >= len(s) {
			return Value{}, 0, &SyntaxError{"Invalid \\uXXXX escape", next - 1}
		}
		u, ok := hex4(s[next:end])
		if !ok {
			return Value{}, 0, &SyntaxError{"Invalid \\uXXXX escape", end - 5}
		}
		if u >= 0xD800 && u <= 0xDBFF && end+6 < len(s) && s[end] == '\\' && s[end+1] == 'u' {
			u2, ok := hex4(s[end+2 : end+6])
			if !ok {
				return Value{}, 0, &SyntaxError{"Invalid \\uXXXX escape", end + 1}
			}
			if u2 >= 0xDC00 && u2 <= 0xDFFF {
				u = utf16.DecodeRune(u, u2)
				end += 6
			}
		}
		write(u)
	}
	return Value{Kind: String, Str: b.String(), LoneSurrogate: surrogate}, end, nil
}

func hex4(digits []rune) (rune, bool) {
	var v rune
	for _, c := range digits {
		v <<= 4
		switch {
		case c >= '0' && c <= '9':
			v |= c - '0'
		case c >= 'a' && c <= 'f':
			v |= c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v |= c - 'A' + 10
		default:
			return 0, false
		}
	}
	return v, true
}

// scanObject is _parse_object_unicode; idx is just after the '{'.
func (d *decoder) scanObject(idx, depth int) (Value, int, error) {
	s := d.s
	fields := map[string]Value{}
	var keys []string
	keySurrogate := false
	idx = d.skipWhitespace(idx)
	if idx >= len(s) || s[idx] != '}' {
		for {
			if idx >= len(s) || s[idx] != '"' {
				return Value{}, 0, &SyntaxError{"Expecting property name enclosed in double quotes", idx}
			}
			key, next, err := d.scanString(idx + 1)
			if err != nil {
				return Value{}, 0, err
			}
			idx = d.skipWhitespace(next)
			if idx >= len(s) || s[idx] != ':' {
				return Value{}, 0, &SyntaxError{"Expecting ':' delimiter", idx}
			}
			idx = d.skipWhitespace(idx + 1)
			value, next, err := d.scan(idx, depth)
			if err != nil {
				return Value{}, 0, err
			}
			keySurrogate = keySurrogate || key.LoneSurrogate
			if _, seen := fields[key.Str]; !seen {
				keys = append(keys, key.Str)
			}
			fields[key.Str] = value
			idx = d.skipWhitespace(next)
			if idx < len(s) && s[idx] == '}' {
				break
			}
			if idx >= len(s) || s[idx] != ',' {
				return Value{}, 0, &SyntaxError{"Expecting ',' delimiter", idx}
			}
			idx = d.skipWhitespace(idx + 1)
		}
	}
	return Value{Kind: Object, Fields: fields, Keys: keys, KeySurrogate: keySurrogate}, idx + 1, nil
}

// scanArray is _parse_array_unicode; idx is just after the '['.
func (d *decoder) scanArray(idx, depth int) (Value, int, error) {
	s := d.s
	var items []Value
	idx = d.skipWhitespace(idx)
	if idx >= len(s) || s[idx] != ']' {
		for {
			value, next, err := d.scan(idx, depth)
			if err != nil {
				return Value{}, 0, err
			}
			items = append(items, value)
			idx = d.skipWhitespace(next)
			if idx < len(s) && s[idx] == ']' {
				break
			}
			if idx >= len(s) || s[idx] != ',' {
				return Value{}, 0, &SyntaxError{"Expecting ',' delimiter", idx}
			}
			idx = d.skipWhitespace(idx + 1)
		}
	}
	return Value{Kind: Array, Items: items}, idx + 1, nil
}

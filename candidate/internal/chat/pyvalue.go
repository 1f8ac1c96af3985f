package chat

import (
	"errors"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"banyan/candidate/internal/pyjson"
	"banyan/candidate/internal/pyrepr"
)

// Legacy hands the request's JSON to Python functions that print it again: json.dumps (the
// model payload, tokens of tools and schemas), str() and repr() (tokens of odd message
// fields, the unknown-model message). These do the same to a decoded pyjson.Value, where
// json.loads has made an int of an integer literal and a float of any other number.

// errUnencodable is what json.dumps(allow_nan=False) and .encode("utf-8") raise on a value
// with NaN or Infinity, or a string with a lone surrogate: legacy's model call never starts.
var errUnencodable = errors.New("the request holds NaN, Infinity or a lone surrogate, which JSON over UTF-8 cannot carry")

// isInt reports whether json.loads made an int of the number v: a literal of a sign and
// digits only (no fraction, exponent, NaN or Infinity).
func isInt(v pyjson.Value) bool {
	return v.Kind == pyjson.Number && strings.Trim(v.Num, "-0123456789") == ""
}

// intText is str() of an int literal: "-0" is 0.
func intText(num string) string {
	if strings.Trim(num, "-0") == "" {
		return "0"
	}
	return num
}

// floatOf is float() of a number literal (1e400 is inf, as in Python).
func floatOf(num string) float64 {
	f, err := strconv.ParseFloat(num, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return math.NaN() // cannot happen for a literal json.loads accepted
	}
	return f
}

// floatRepr is Python's repr(float): the shortest digits that read back, in fixed notation
// when the decimal point falls within 16 digits of them (and at least "0.0001"), else
// scientific with an exponent of two digits or more.
func floatRepr(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	sci := strconv.FormatFloat(f, 'e', -1, 64)
	exp, _ := strconv.Atoi(sci[strings.IndexByte(sci, 'e')+1:])
	if decpt := exp + 1; decpt <= -4 || decpt > 16 {
		return sci // Go writes "1e+16", "1.5e-05", as Python does
	}
	fixed := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(fixed, ".") {
		fixed += ".0"
	}
	return fixed
}

// integralInt is legacy's JsonInt for a number: the int it stands for (an integral float
// becomes that int, exactly), or false.
func integralInt(v pyjson.Value) (*big.Int, bool) {
	if v.Kind != pyjson.Number {
		return nil, false
	}
	if isInt(v) {
		n, ok := new(big.Int).SetString(v.Num, 10)
		return n, ok
	}
	f := floatOf(v.Num)
	if math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) {
		return nil, false
	}
	n, _ := big.NewFloat(f).Int(nil)
	return n, true
}

// dumpStyle is json.dumps's separators and sort_keys.
type dumpStyle struct {
	itemSep, keySep string
	sortKeys        bool
	allowNaN        bool // false: NaN, Infinity and lone surrogates are errUnencodable
}

var (
	// compactJSON is httpx's request encoding: json.dumps(ensure_ascii=False,
	// separators=(",", ":"), allow_nan=False), then UTF-8.
	compactJSON = dumpStyle{itemSep: ",", keySep: ":"}
	// sortedJSON is json.dumps(sort_keys=True, ensure_ascii=False), as the tokenizer counts.
	sortedJSON = dumpStyle{itemSep: ", ", keySep: ": ", sortKeys: true, allowNaN: true}
)

// dump writes v as json.dumps would with style.
func dump(b *strings.Builder, v pyjson.Value, style dumpStyle) error {
	switch v.Kind {
	case pyjson.Null:
		b.WriteString("null")
	case pyjson.Bool:
		b.WriteString(strconv.FormatBool(v.Bool))
	case pyjson.Number:
		return dumpNumber(b, v, style)
	case pyjson.String:
		if v.LoneSurrogate && !style.allowNaN {
			return errUnencodable
		}
		writeJSONString(b, v.Str)
	case pyjson.Array:
		b.WriteByte('[')
		for i, item := range v.Items {
			if i > 0 {
				b.WriteString(style.itemSep)
			}
			if err := dump(b, item, style); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case pyjson.Object:
		if v.KeySurrogate && !style.allowNaN {
			return errUnencodable
		}
		keys := v.Keys
		if style.sortKeys {
			keys = slices.Clone(keys)
			slices.Sort(keys) // Go compares UTF-8 bytes: code point order, as Python
		}
		b.WriteByte('{')
		for i, key := range keys {
			if i > 0 {
				b.WriteString(style.itemSep)
			}
			writeJSONString(b, key)
			b.WriteString(style.keySep)
			if err := dump(b, v.Fields[key], style); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	}
	return nil
}

func dumpNumber(b *strings.Builder, v pyjson.Value, style dumpStyle) error {
	if isInt(v) {
		b.WriteString(intText(v.Num))
		return nil
	}
	f := floatOf(v.Num)
	if !math.IsNaN(f) && !math.IsInf(f, 0) {
		b.WriteString(floatRepr(f))
		return nil
	}
	if !style.allowNaN {
		return errUnencodable
	}
	switch {
	case math.IsNaN(f):
		b.WriteString("NaN")
	case f > 0:
		b.WriteString("Infinity")
	default:
		b.WriteString("-Infinity")
	}
	return nil
}

// writeJSONString is json.dumps(ensure_ascii=False) of a str: UTF-8 as is, only quotes,
// backslashes and control characters escaped.
func writeJSONString(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			b.WriteString(`\"`)
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\b':
			b.WriteString(`\b`)
		case c == '\f':
			b.WriteString(`\f`)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xF])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// jsonString is writeJSONString to a new string.
func jsonString(s string) string {
	var b strings.Builder
	writeJSONString(&b, s)
	return b.String()
}

// pyStr is Python's str() of the value json.loads made of v.
func pyStr(v pyjson.Value) string {
	if v.Kind == pyjson.String {
		return v.Str
	}
	return pyRepr(v)
}

// pyRepr is Python's repr() of the value json.loads made of v.
func pyRepr(v pyjson.Value) string {
	switch v.Kind {
	case pyjson.Null:
		return "None"
	case pyjson.Bool:
		if v.Bool {
			return "True"
		}
		return "False"
	case pyjson.Number:
		if isInt(v) {
			return intText(v.Num)
		}
		return floatRepr(floatOf(v.Num))
	case pyjson.String:
		return pyrepr.Str(v.Str)
	case pyjson.Array:
		parts := make([]string, len(v.Items))
		for i, item := range v.Items {
			parts[i] = pyRepr(item)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	default:
		parts := make([]string, len(v.Keys))
		for i, key := range v.Keys {
			parts[i] = pyrepr.Str(key) + ": " + pyRepr(v.Fields[key])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
}

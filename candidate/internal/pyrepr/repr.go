// Package pyrepr is Python's repr() of a str, as legacy writes values into its messages
// ({speaker!r}, {model!r}, a message type, a keyterm) and into token counts of str() of
// containers. Printability follows the Unicode tables of legacy's Python (tables_gen.go,
// generated from it), which are older than Go's unicode package: Go would print characters
// Python escapes, and a message would differ by a \u escape.
package pyrepr

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Str is repr() of s: single quotes unless s has one and no double quote; backslash, the
// quote, \t \n \r escaped; characters str.isprintable() rejects as \xhh, \uhhhh or
// \Uhhhhhhhh.
func Str(s string) string {
	quote := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		quote = '"'
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
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
		case IsPrintable(r):
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

// IsPrintable is str.isprintable() of one character, by legacy's Python's tables.
func IsPrintable(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= ' ' && r != 0x7f
	}
	_, found := slices.BinarySearchFunc(notPrintable, r, func(span [2]rune, r rune) int {
		switch {
		case span[1] < r:
			return -1
		case span[0] > r:
			return 1
		}
		return 0
	})
	return !found
}

func hexDigits(r rune, width int) string {
	s := strconv.FormatInt(int64(r), 16)
	return strings.Repeat("0", width-len(s)) + s
}

package tts

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Repr is Python's repr() of a str, as legacy's messages quote a speaker ({speaker!r}):
// single quotes unless the text has one and no double quote; backslash, the quote, \t \n \r
// escaped; characters str.isprintable() rejects (by legacy's Python's Unicode tables) as
// \xhh, \uhhhh or \Uhhhhhhhh.
func Repr(s string) string {
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
		case r < utf8.RuneSelf && r >= ' ' && r != 0x7f, r >= utf8.RuneSelf && isPrintable(r):
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

func isPrintable(r rune) bool {
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

package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// split is cl100k_base's pre-tokenizer: text cut into the pieces BPE encodes one by one.
// tiktoken matches this pattern (fancy-regex) repeatedly from the start of the text:
//
//	'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s
//
// Go's regexp has neither the lookahead nor the possessive quantifiers, so matchAt tries the
// eight alternatives in order by hand. Every character starts some alternative, so the pieces
// cover the text. \p{L} is unicode.IsLetter, \p{N} unicode.IsNumber and \s unicode.IsSpace
// (Unicode's White_Space, as Rust's \s).
func split(text string) []string {
	var pieces []string
	for i := 0; i < len(text); {
		n := matchAt(text, i)
		pieces = append(pieces, text[i:i+n])
		i += n
	}
	return pieces
}

// matchAt is the length in bytes of the piece starting at i (> 0).
func matchAt(s string, i int) int {
	r0, w0 := utf8.DecodeRuneInString(s[i:])
	// '(?i:[sdmt]|ll|ve|re)
	if r0 == '\'' {
		if n := contraction(s[i+w0:]); n > 0 {
			return w0 + n
		}
	}
	// [^\r\n\p{L}\p{N}]?+\p{L}++
	if isLetter(r0) {
		return w0 + letters(s[i+w0:])
	}
	if r0 != '\r' && r0 != '\n' && !isNumber(r0) {
		if r1, _ := utf8.DecodeRuneInString(s[i+w0:]); i+w0 < len(s) && isLetter(r1) {
			return w0 + letters(s[i+w0:])
		}
	}
	// \p{N}{1,3}+
	if isNumber(r0) {
		n := w0
		for k := 1; k < 3 && i+n < len(s); k++ {
			r, w := utf8.DecodeRuneInString(s[i+n:])
			if !isNumber(r) {
				break
			}
			n += w
		}
		return n
	}
	// ' ?[^\s\p{L}\p{N}]++[\r\n]*+': the optional space backtracks, the rest does not.
	j := i
	if r0 == ' ' {
		j = i + 1
	}
	if r, _ := utf8.DecodeRuneInString(s[j:]); j < len(s) && isOther(r) {
		for j < len(s) {
			r, w := utf8.DecodeRuneInString(s[j:])
			if !isOther(r) {
				break
			}
			j += w
		}
		for j < len(s) && (s[j] == '\r' || s[j] == '\n') {
			j++
		}
		return j - i
	}
	// Whitespace from here on (every other character matched above).
	end, lastLineEnd, lastStart := i, -1, i
	for end < len(s) {
		r, w := utf8.DecodeRuneInString(s[end:])
		if !unicode.IsSpace(r) {
			break
		}
		if r == '\r' || r == '\n' {
			lastLineEnd = end
		}
		lastStart = end
		end += w
	}
	switch {
	case end == len(s): // \s++$
		return end - i
	case lastLineEnd >= 0: // \s*[\r\n]: up to the run's last line end
		return lastLineEnd + 1 - i
	case lastStart > i: // \s+(?!\S): the run but its last character
		return lastStart - i
	default: // \s
		return w0
	}
}

// contraction is the length of [sdmt], ll, ve or re (any case) at the start of s, or 0.
func contraction(s string) int {
	r1, w1 := utf8.DecodeRuneInString(s)
	if len(s) == 0 {
		return 0
	}
	for _, c := range "sdmt" {
		if foldsTo(r1, c) {
			return w1
		}
	}
	r2, w2 := utf8.DecodeRuneInString(s[w1:])
	if w1 >= len(s) {
		return 0
	}
	for _, pair := range [][2]rune{{'l', 'l'}, {'v', 'e'}, {'r', 'e'}} {
		if foldsTo(r1, pair[0]) && foldsTo(r2, pair[1]) {
			return w1 + w2
		}
	}
	return 0
}

// foldsTo reports whether r matches c case-insensitively (simple case folding, as Rust's
// regex: 'ſ' is an 's').
func foldsTo(r, c rune) bool {
	for f := c; ; {
		if f == r {
			return true
		}
		if f = unicode.SimpleFold(f); f == c {
			return false
		}
	}
}

// letters is the length of the run of letters at the start of s.
func letters(s string) int {
	n := 0
	for n < len(s) {
		r, w := utf8.DecodeRuneInString(s[n:])
		if !isLetter(r) {
			break
		}
		n += w
	}
	return n
}

func isLetter(r rune) bool { return unicode.IsLetter(r) }
func isNumber(r rune) bool { return unicode.IsNumber(r) }

// isOther is [^\s\p{L}\p{N}].
func isOther(r rune) bool { return !unicode.IsSpace(r) && !isLetter(r) && !isNumber(r) }

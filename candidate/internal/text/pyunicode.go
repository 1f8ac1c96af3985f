package text

import (
	"sort"
	"strings"
	"unicode"
)

// Python's notion of some Unicode classes, where legacy's behaviour depends on them and Go's
// standard library differs (Go's regexp \w and \d are ASCII-only; Python's str.lower applies
// special casing and the final-sigma rule).

// isWordRune is Python re's \w for str patterns: alphanumeric (a letter, or a character with
// a numeric value) or the underscore. Combining marks (Indic vowel signs) are not.
func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r)
}

// isDecimalRune is Python re's \d for str patterns (and what int() accepts): category Nd.
func isDecimalRune(r rune) bool { return unicode.Is(unicode.Nd, r) }

// decimalValue is the digit value of an Nd character, as Python's int() reads it. Unicode
// encodes every decimal digit set as ten consecutive code points from zero, and sets that
// touch are whole sets, so the value is the offset from the start of the run, modulo 10.
func decimalValue(r rune) int {
	if r >= '0' && r <= '9' {
		return int(r - '0')
	}
	start := r
	for start > 0 && isDecimalRune(start-1) {
		start--
	}
	return int(r-start) % 10
}

// pyLower is Python's str.lower(): full lowercase mapping, so "İ" becomes "i̇" and a capital
// sigma at the end of a word becomes "ς".
func pyLower(s string) string {
	if isASCIILower(s) {
		return s
	}
	runes := []rune(s)
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range runes {
		switch {
		case r == 'İ':
			b.WriteString("i\u0307")
		case r == 'Σ':
			b.WriteRune(finalSigma(runes, i))
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

func isASCIILower(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || ('A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// finalSigma is CPython's handle_capital_sigma: ς when the sigma follows a cased letter and
// no cased letter follows (skipping case-ignorable characters both ways), else σ.
func finalSigma(runes []rune, i int) rune {
	j := i - 1
	for j >= 0 && isCaseIgnorable(runes[j]) {
		j--
	}
	final := j >= 0 && isCased(runes[j])
	if final && i+1 < len(runes) {
		j = i + 1
		for j < len(runes) && isCaseIgnorable(runes[j]) {
			j++
		}
		final = j == len(runes) || !isCased(runes[j])
	}
	if final {
		return 'ς'
	}
	return 'σ'
}

func isCased(r rune) bool {
	return unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r) ||
		unicode.Is(unicode.Other_Lowercase, r) || unicode.Is(unicode.Other_Uppercase, r)
}

// caseIgnorablePunctuation are the Word_Break MidLetter, MidNumLet and Single_Quote
// characters, which Unicode counts as case-ignorable besides Mn, Me, Cf, Lm and Sk.
var caseIgnorablePunctuation = []rune{
	'\'', '.', ':', 0x00B7, 0x0387, 0x055F, 0x05F4, 0x2018, 0x2019, 0x2024, 0x2027,
	0xFE13, 0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A,
}

func isCaseIgnorable(r rune) bool {
	if unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk) {
		return true
	}
	for _, p := range caseIgnorablePunctuation {
		if r == p {
			return true
		}
	}
	return false
}

// nfcIndic is unicodedata.normalize("NFC", s) for text whose only characters with a
// decomposition or a combining class are in U+0900..U+0DFF (the generated tables); every
// other character is taken as a starter without decomposition, which holds for the Latin
// and Indic text spelling.go produces.
func nfcIndic(s string) string {
	var decomposed []rune
	for _, r := range s {
		decomposed = appendDecomposed(decomposed, r)
	}
	// Canonical ordering: stable sort of each run of non-starters by combining class.
	for i := 0; i < len(decomposed); {
		if indicCombiningClass[decomposed[i]] == 0 {
			i++
			continue
		}
		j := i
		for j < len(decomposed) && indicCombiningClass[decomposed[j]] != 0 {
			j++
		}
		run := decomposed[i:j]
		sort.SliceStable(run, func(a, b int) bool {
			return indicCombiningClass[run[a]] < indicCombiningClass[run[b]]
		})
		i = j
	}
	// Canonical composition.
	out := make([]rune, 0, len(decomposed))
	starter := -1
	for _, r := range decomposed {
		ccc := indicCombiningClass[r]
		if starter >= 0 {
			adjacent := len(out)-1 == starter
			var last uint8
			if !adjacent {
				last = indicCombiningClass[out[len(out)-1]]
			}
			if adjacent || (last != 0 && last < ccc) {
				if composite, ok := indicComposition[[2]rune{out[starter], r}]; ok {
					out[starter] = composite
					continue
				}
			}
		}
		if ccc == 0 {
			starter = len(out)
		}
		out = append(out, r)
	}
	return string(out)
}

func appendDecomposed(dst []rune, r rune) []rune {
	if pair, ok := indicDecomposition[r]; ok {
		dst = appendDecomposed(dst, pair[0])
		return appendDecomposed(dst, pair[1])
	}
	return append(dst, r)
}

// Package chunking splits text to fit a model's context limit without cutting words or
// sentences: a port of legacy/speech/chunking.py's split_text, which legacy's translation
// uses (and its TTS, when that route is ported). Lengths are in code points, as Python's len
// counts them, and whitespace is Python's (text.IsSpace), so chunks fall exactly where
// legacy's do.
//
// Sentences end at . ! ? and the Devanagari danda (। ॥) followed by whitespace; a sentence
// longer than the limit is split between words; a word longer than the limit (no space to
// split at) is cut hard, the only case where a chunk boundary falls inside a word. Chunks keep
// every non-space character in order. It does no I/O and keeps no state.
package chunking

import (
	"strings"
	"unicode/utf8"

	"banyan/candidate/internal/text"
)

// Split is split_text(s, maxChars): s (stripped of surrounding whitespace) as
// chunks of at most maxChars code points, each sentence's pieces packed with the sentences
// around it while they fit (joined by one space). Text of nothing but whitespace gives no
// chunks. maxChars below 1 is a programming error, and panics (legacy raises ValueError).
func Split(s string, maxChars int) []string {
	if maxChars < 1 {
		panic("chunking: maxChars must be at least 1")
	}
	var pieces []string
	for _, sentence := range sentences(strings.TrimFunc(s, text.IsSpace)) {
		pieces = append(pieces, fit(sentence, maxChars)...)
	}
	return pack(pieces, maxChars)
}

func isSentenceEnd(r rune) bool {
	return r == '.' || r == '!' || r == '?' || r == '।' || r == '॥'
}

// sentences is _SENTENCE_END.split(s) for (?<=[.!?।॥])\s+: s cut at every run of
// whitespace that directly follows a sentence end, the run dropped. A match always starts
// right after a sentence end (not whitespace), so each run is taken whole.
func sentences(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if !isSentenceEnd(r) {
			continue
		}
		end := i
		for i < len(s) {
			next, n := utf8.DecodeRuneInString(s[i:])
			if !text.IsSpace(next) {
				break
			}
			i += n
		}
		if i > end {
			out = append(out, s[start:end])
			start = i
		}
	}
	return append(out, s[start:])
}

// fit is _fit: a sentence as pieces of at most maxChars, split between words where possible.
func fit(sentence string, maxChars int) []string {
	if runeCount(sentence) <= maxChars {
		if sentence == "" {
			return nil
		}
		return []string{sentence}
	}
	var words []string
	for _, w := range strings.FieldsFunc(sentence, text.IsSpace) {
		runes := []rune(w)
		for i := 0; i < len(runes); i += maxChars {
			words = append(words, string(runes[i:min(i+maxChars, len(runes))]))
		}
	}
	return pack(words, maxChars)
}

// pack is _pack: consecutive pieces joined with a space while the result stays within
// maxChars.
func pack(pieces []string, maxChars int) []string {
	var packed []string
	current, currentLen := "", 0
	for _, piece := range pieces {
		n := runeCount(piece)
		switch {
		case current == "":
			current, currentLen = piece, n
		case currentLen+1+n <= maxChars:
			current, currentLen = current+" "+piece, currentLen+1+n
		default:
			packed = append(packed, current)
			current, currentLen = piece, n
		}
	}
	if current != "" {
		packed = append(packed, current)
	}
	return packed
}

func runeCount(s string) int { return utf8.RuneCountInString(s) }

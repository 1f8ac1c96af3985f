package stt

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"banyan/candidate/internal/pyjson"
	"banyan/candidate/internal/pyrepr"
)

// The keyterms limits of legacy/stt_api.py.
const (
	MaxKeyterms     = 50
	MaxKeytermChars = 64
)

// ParseKeyterms is legacy's parse_keyterms, shared by the REST form field and the socket's
// query parameter: "", "null" (or only whitespace around them) mean none; otherwise a JSON
// array of 1 to 64-character strings, at most 50, and only with model saaras:v4. The second
// result is the 400's message ("" when the terms are fine).
func ParseKeyterms(raw, model string) ([]string, string) {
	if trimmed := pyStrip(raw); trimmed == "" || trimmed == "null" {
		return nil, ""
	}
	const notArray = `keyterms: must be a JSON array of strings, e.g. ["Sarvam"]`
	v, err := pyjson.Decode([]byte(raw))
	if err != nil || v.Kind != pyjson.Array {
		return nil, notArray
	}
	terms := make([]string, 0, len(v.Items))
	for _, item := range v.Items {
		if item.Kind != pyjson.String || item.LoneSurrogate {
			return nil, notArray
		}
		terms = append(terms, item.Str)
	}
	if len(terms) > MaxKeyterms {
		return nil, fmt.Sprintf("keyterms: at most %d terms, got %d", MaxKeyterms, len(terms))
	}
	for _, term := range terms {
		if pyStrip(term) == "" || utf8.RuneCountInString(term) > MaxKeytermChars {
			runes := []rune(term)
			return nil, fmt.Sprintf("keyterms: each term must be 1 to %d characters; %s is not",
				MaxKeytermChars, pyrepr.Str(string(runes[:min(len(runes), 80)])))
		}
	}
	if len(terms) > 0 && model != "saaras:v4" {
		return nil, "keyterms are only supported with model saaras:v4"
	}
	return terms, ""
}

// pyStrip is Python's str.strip(): Unicode whitespace (and the four separators Python
// counts) at both ends.
func pyStrip(s string) string {
	return strings.TrimFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || r == 0x1c || r == 0x1d || r == 0x1e || r == 0x1f
	})
}

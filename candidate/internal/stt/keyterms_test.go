package stt

import (
	"reflect"
	"strings"
	"testing"
)

// TestParseKeytermsAsLegacy covers each of parse_keyterms' answers; the socket's query cases
// (internal/sttws, generated from legacy) replay many more through the handshake.
func TestParseKeytermsAsLegacy(t *testing.T) {
	long := strings.Repeat("x", 65)
	many := "[" + strings.TrimSuffix(strings.Repeat(`"a",`, 51), ",") + "]"
	for _, c := range []struct {
		raw, model string
		terms      []string
		problem    string
	}{
		{"", "saaras:v3", nil, ""},
		{" null\n", "saaras:v3", nil, ""},
		{`["Sarvam", "Jaipur"]`, "saaras:v4", []string{"Sarvam", "Jaipur"}, ""},
		{`[]`, "saaras:v3", []string{}, ""},
		{`["Sarvam"]`, "saaras:v3", nil, "keyterms are only supported with model saaras:v4"},
		{`"Sarvam"`, "saaras:v4", nil, `keyterms: must be a JSON array of strings, e.g. ["Sarvam"]`},
		{`[1]`, "saaras:v4", nil, `keyterms: must be a JSON array of strings, e.g. ["Sarvam"]`},
		{`["\ud800"]`, "saaras:v4", nil, `keyterms: must be a JSON array of strings, e.g. ["Sarvam"]`},
		{many, "saaras:v4", nil, "keyterms: at most 50 terms, got 51"},
		{`[" "]`, "saaras:v4", nil, "keyterms: each term must be 1 to 64 characters; ' ' is not"},
		{`["` + long + `"]`, "saaras:v4", nil, "keyterms: each term must be 1 to 64 characters; '" + long + "' is not"},
		{`["it's\n"]`, "saaras:v4", []string{"it's\n"}, ""},
	} {
		terms, problem := ParseKeyterms(c.raw, c.model)
		if problem != c.problem || (problem == "" && !reflect.DeepEqual(terms, c.terms)) {
			t.Errorf("ParseKeyterms(%q, %q) = %q, %q; want %q, %q", c.raw, c.model, terms, problem, c.terms, c.problem)
		}
	}
}

package text

import (
	"encoding/json"
	"testing"

	"banyan/candidate/internal/casefile"
)

type outputScriptCases struct {
	WriteIn []struct {
		Name         string `json:"name"`
		Text         string `json:"text"`
		Language     string `json:"language"`
		OutputScript string `json:"output_script"`
		Numerals     string `json:"numerals"`
		Want         string `json:"want"`
	} `json:"write_in"`
	Tokenize []struct {
		Text   string      `json:"text"`
		Tokens [][2]string `json:"tokens"`
	} `json:"tokenize"`
}

func loadOutputScriptCases(t *testing.T) outputScriptCases {
	t.Helper()
	raw, err := casefile.Read("testdata/output_script_cases.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	var cases outputScriptCases
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases.WriteIn) == 0 || len(cases.Tokenize) == 0 {
		t.Fatal("no cases")
	}
	return cases
}

// TestWriteInAsLegacy replays legacy's write_in (gen/gen_output_cases.py): the translation
// model's real answers written every way /translate offers, edge texts, native digits in all
// 23 languages.
func TestWriteInAsLegacy(t *testing.T) {
	w := NewWriter(New())
	for _, tc := range loadOutputScriptCases(t).WriteIn {
		t.Run(tc.Name, func(t *testing.T) {
			if got := w.WriteIn(tc.Text, tc.Language, tc.OutputScript, tc.Numerals); got != tc.Want {
				t.Errorf("WriteIn(%q, %s, %q, %s)\n got %q\nlegacy %q", tc.Text, tc.Language, tc.OutputScript, tc.Numerals, got, tc.Want)
			}
		})
	}
}

var tokenKindNames = map[tokenKind]string{tokenNumber: "number", tokenWord: "word", tokenSpace: "space", tokenOther: "other"}

func TestTokenizeAsLegacy(t *testing.T) {
	for _, tc := range loadOutputScriptCases(t).Tokenize {
		got := tokenize(tc.Text)
		if len(got) != len(tc.Tokens) {
			t.Errorf("tokenize(%q): %d tokens %v, legacy %d %v", tc.Text, len(got), got, len(tc.Tokens), tc.Tokens)
			continue
		}
		for i, tok := range got {
			if want := tc.Tokens[i]; tokenKindNames[tok.kind] != want[0] || tok.text != want[1] {
				t.Errorf("tokenize(%q)[%d] = %s %q, legacy %s %q", tc.Text, i, tokenKindNames[tok.kind], tok.text, want[0], want[1])
			}
		}
	}
}

// NativeDigits was given only the core languages' scripts: /translate (sarvam-translate:v1)
// writes native digits for the other 12 languages too, as legacy does.
func TestNativeDigitsOfEveryLanguage(t *testing.T) {
	for language, want := range map[string]string{
		"ne-IN": "१२", "as-IN": "১২", "sa-IN": "१२", "ur-IN": "12", "sat-IN": "12", "mni-IN": "12",
	} {
		if got := NativeDigits("12", language); got != want {
			t.Errorf("NativeDigits(12, %s) = %q, legacy %q", language, got, want)
		}
	}
}

func TestNFD(t *testing.T) {
	for in, want := range map[string]string{
		"é":             "e\u0301",
		"क़":            "क\u093c",
		"ǖ":             "u\u0308\u0304",
		"한":             "\u1112\u1161\u11ab",
		"가":             "\u1100\u1161",
		"a\u0301\u0316": "a\u0316\u0301", // canonical order: below (220) before above (230)
		"ॐ":             "ॐ",
	} {
		if got := nfd(in); got != want {
			t.Errorf("nfd(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIsSpaceIsPythons(t *testing.T) {
	for _, r := range []rune{'\t', '\n', '\v', '\f', '\r', 0x1C, 0x1D, 0x1E, 0x1F, ' ', 0x85, 0xA0, 0x1680, 0x2000, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000} {
		if !IsSpace(r) {
			t.Errorf("IsSpace(%U) = false; Python's str.isspace says true", r)
		}
	}
	for _, r := range []rune{'a', 0x200B, 0x180E, 0xFEFF, 0x1B} {
		if IsSpace(r) {
			t.Errorf("IsSpace(%U) = true; Python's str.isspace says false", r)
		}
	}
}

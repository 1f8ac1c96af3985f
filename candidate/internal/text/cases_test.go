package text

import (
	"encoding/json"
	"errors"
	"os"
	"slices"
	"testing"

	"banyan/candidate/internal/casefile"
)

// The table of testdata/cases.json: legacy's answers (gen/gen_cases.py ran legacy's Python),
// fed to the Go implementation. A case marked "divergence" documents a decided difference:
// it must still differ, so a fix shows up as a failure asking to drop the mark.

type transliterationCase struct {
	Name                       string `json:"name"`
	Input                      string `json:"input"`
	Source                     string `json:"source"`
	Target                     string `json:"target"`
	NumeralsFormat             string `json:"numerals_format"`
	SpokenForm                 bool   `json:"spoken_form"`
	SpokenFormNumeralsLanguage string `json:"spoken_form_numerals_language"`
	Want                       struct {
		Text          string `json:"text"`
		Source        string `json:"source"`
		Error         string `json:"error"`
		InternalError string `json:"internal_error"`
	} `json:"want"`
	Divergence string `json:"divergence"`
}

type lidCase struct {
	Name           string  `json:"name"`
	Input          string  `json:"input"`
	LanguageCode   *string `json:"language_code"`
	ScriptCode     *string `json:"script_code"`
	DominantScript *string `json:"dominant_script"`
	// ModelCalls are what legacy asked the inference server's model, with its answers.
	ModelCalls []struct {
		Text       string   `json:"text"`
		Candidates []string `json:"candidates"`
		Answer     *string  `json:"answer"`
	} `json:"model_calls"`
	Divergence string `json:"divergence"`
}

// identifyAsLegacy runs Identify and, where legacy asked the model, checks that Go asks the
// same question and gives it the model's recorded answer.
func identifyAsLegacy(t *testing.T, tc lidCase) Identification {
	t.Helper()
	found := Identify(tc.Input)
	switch {
	case len(tc.ModelCalls) == 0 && found.Candidates != nil:
		t.Errorf("Go would ask the model (candidates %v); legacy did not", found.Candidates)
	case len(tc.ModelCalls) == 1 && !slices.Equal(found.Candidates, tc.ModelCalls[0].Candidates):
		t.Errorf("Go candidates %v, legacy asked the model with %v", found.Candidates, tc.ModelCalls[0].Candidates)
	case len(tc.ModelCalls) == 1:
		answer := ""
		if a := tc.ModelCalls[0].Answer; a != nil {
			answer = *a
		}
		found = found.Decided(answer)
	case len(tc.ModelCalls) > 1:
		t.Fatalf("legacy asked the model %d times", len(tc.ModelCalls))
	}
	return found
}

type spellCase struct {
	Word     string `json:"word"`
	Language string `json:"language"`
	Want     string `json:"want"`
}

type cases struct {
	Transliterate []transliterationCase `json:"transliterate"`
	LID           []lidCase             `json:"lid"`
	SpellEnglish  []spellCase           `json:"spell_english"`
}

func loadCases(t *testing.T, path string) cases {
	t.Helper()
	raw, err := casefile.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	var c cases
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}

// checkDivergence reports a case whose Go answer differs from legacy's: a failure unless the
// case documents the difference, and a failure if a documented difference is gone.
func checkDivergence(t *testing.T, name, divergence string, same bool, got, want any) {
	t.Helper()
	switch {
	case divergence == "" && !same:
		t.Errorf("%s: got %#v, legacy %#v", name, got, want)
	case divergence != "" && same:
		t.Errorf("%s: marked as a divergence (%s) but Go now answers as legacy: drop the mark in gen/gen_cases.py", name, divergence)
	case divergence != "":
		t.Logf("%s: known divergence (%s): Go %#v, legacy %#v", name, divergence, got, want)
	}
}

func TestTransliterationMatchesLegacy(t *testing.T) {
	c := loadCases(t, "testdata/cases.json")
	if len(c.Transliterate) < 40 {
		t.Fatalf("only %d transliteration cases", len(c.Transliterate))
	}
	tr := New()
	for _, tc := range c.Transliterate {
		t.Run(tc.Name, func(t *testing.T) {
			text, source, err := tr.Run(tc.Input, tc.Source, tc.Target, Options{
				NumeralsFormat: tc.NumeralsFormat, SpokenForm: tc.SpokenForm,
				SpokenFormNumeralsLanguage: tc.SpokenFormNumeralsLanguage,
			})
			var got, want [2]string
			var userErr *Error
			switch {
			case errors.As(err, &userErr):
				got = [2]string{"error", userErr.Message}
			case errors.Is(err, ErrNumberTooLarge):
				got = [2]string{"internal_error", "NumberTooLargeError"}
			case err != nil:
				got = [2]string{"unexpected", err.Error()}
			default:
				got = [2]string{text, source}
			}
			switch {
			case tc.Want.Error != "":
				want = [2]string{"error", tc.Want.Error}
			case tc.Want.InternalError != "":
				want = [2]string{"internal_error", tc.Want.InternalError}
			default:
				want = [2]string{tc.Want.Text, tc.Want.Source}
			}
			checkDivergence(t, tc.Name, tc.Divergence, got == want, got, want)
		})
	}
}

func TestLanguageIdentificationMatchesLegacy(t *testing.T) {
	c := loadCases(t, "testdata/cases.json")
	if len(c.LID) < 20 {
		t.Fatalf("only %d LID cases", len(c.LID))
	}
	str := func(p *string) string {
		if p == nil {
			return "<null>"
		}
		return *p
	}
	for _, tc := range c.LID {
		t.Run(tc.Name, func(t *testing.T) {
			if got, want := DominantScript(tc.Input), str(tc.DominantScript); got != want && !(got == "" && want == "<null>") {
				t.Errorf("dominant script %q, legacy %q", got, want)
			}
			found := identifyAsLegacy(t, tc)
			got := [2]string{str(found.LanguageCode), str(found.ScriptCode)}
			want := [2]string{str(tc.LanguageCode), str(tc.ScriptCode)}
			checkDivergence(t, tc.Name, tc.Divergence, got == want, got, want)
		})
	}
}

func TestSpellEnglishMatchesLegacy(t *testing.T) {
	c := loadCases(t, "testdata/cases.json")
	tr := New()
	for _, tc := range c.SpellEnglish {
		if got := tr.SpellEnglish(tc.Word, tc.Language); got != tc.Want {
			t.Errorf("SpellEnglish(%q, %s) = %q, legacy %q", tc.Word, tc.Language, got, tc.Want)
		}
	}
}

// TestExtraCases replays a larger table in the same format when TEXT_EXTRA_CASES names one
// (a randomised corpus from gen/gen_fuzz.py, too big to commit).
func TestExtraCases(t *testing.T) {
	path := os.Getenv("TEXT_EXTRA_CASES")
	if path == "" {
		t.Skip("TEXT_EXTRA_CASES not set")
	}
	c := loadCases(t, path)
	tr := New()
	failures := 0
	for _, tc := range c.Transliterate {
		text, source, err := tr.Run(tc.Input, tc.Source, tc.Target, Options{
			NumeralsFormat: tc.NumeralsFormat, SpokenForm: tc.SpokenForm,
			SpokenFormNumeralsLanguage: tc.SpokenFormNumeralsLanguage,
		})
		var errText string
		if err != nil {
			errText = err.Error()
		}
		if (tc.Want.Error == "" && tc.Want.InternalError == "" && (err != nil || text != tc.Want.Text || source != tc.Want.Source)) ||
			(tc.Want.Error != "" && errText != tc.Want.Error) {
			failures++
			if failures <= 30 {
				t.Errorf("%s %s→%s %q: got %q (%v), legacy %q", tc.Name, tc.Source, tc.Target, tc.Input, text, err, tc.Want)
			}
		}
	}
	for _, tc := range c.SpellEnglish {
		if got := tr.SpellEnglish(tc.Word, tc.Language); got != tc.Want {
			failures++
			if failures <= 30 {
				t.Errorf("SpellEnglish(%q, %s) = %q, legacy %q", tc.Word, tc.Language, got, tc.Want)
			}
		}
	}
	t.Logf("%d transliteration and %d spelling cases, %d failures",
		len(c.Transliterate), len(c.SpellEnglish), failures)
}

package text

import "strings"

// Error is a request the text functions cannot serve as asked (legacy's TransliterationError
// and NumberWordsUnavailable): the route answers 400 with Message.
type Error struct{ Message string }

func (e *Error) Error() string { return e.Message }

// schemeOfScript is legacy's _SCHEME_OF_SCRIPT: the sanscript scheme each script is read and
// written with (Latin is ITRANS).
var schemeOfScript = map[string]string{
	"Deva": "devanagari", "Beng": "bengali", "Guru": "gurmukhi", "Gujr": "gujarati",
	"Orya": "oriya", "Taml": "tamil", "Telu": "telugu", "Knda": "kannada", "Mlym": "malayalam",
	"Latn": "itrans",
}

// zeroOfScript is the code point of each Indic script's digit zero.
var zeroOfScript = map[string]rune{
	"Deva": 0x0966, "Beng": 0x09E6, "Guru": 0x0A66, "Gujr": 0x0AE6, "Orya": 0x0B66,
	"Taml": 0x0BE6, "Telu": 0x0C66, "Knda": 0x0CE6, "Mlym": 0x0D66,
}

// Transliterator holds every scheme-to-scheme map, built once (New) and shared read-only by
// all requests.
type Transliterator struct {
	maps map[[2]string]*schemeMap
}

// New builds the scheme maps of every pair of the core languages' schemes (about a
// millisecond; done at start so no request pays for it).
func New() *Transliterator {
	t := &Transliterator{maps: map[[2]string]*schemeMap{}}
	for i := range schemeSpecs {
		for j := range schemeSpecs {
			from, to := &schemeSpecs[i], &schemeSpecs[j]
			t.maps[[2]string{from.name, to.name}] = newSchemeMap(from, to)
		}
	}
	return t
}

func (t *Transliterator) convert(s, fromScheme, toScheme string) string {
	return t.maps[[2]string{fromScheme, toScheme}].transliterate(s)
}

// Transliterate is legacy's transliteration.transliterate with international numerals: the
// text in the target language's script, and the source language used (the one the script
// stands for when source is "auto"). Roman output is lower-cased ITRANS; every Indic digit
// becomes 0-9.
func (t *Transliterator) Transliterate(s, source, target string) (string, string, error) {
	if source == "auto" {
		script := DominantScript(s)
		if _, ok := schemeOfScript[script]; !ok {
			return "", "", &Error{"could not tell the input's script; pass source_language_code"}
		}
		source = firstLanguageOf(script)
	}
	sourceScript, targetScript := ScriptOf(source), ScriptOf(target)
	converted := t.convert(s, schemeOfScript[sourceScript], schemeOfScript[targetScript])
	if targetScript == "Latn" {
		converted = pyLower(converted)
	}
	return asciiDigits(converted), source, nil
}

// indicZeros are zeroOfScript's values, for asciiDigits.
var indicZeros = [...]rune{0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66}

// asciiDigits writes the nine Indic scripts' digits as 0-9.
func asciiDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if r < indicZeros[0] || r > indicZeros[len(indicZeros)-1]+9 {
			return r
		}
		for _, zero := range indicZeros {
			if r >= zero && r <= zero+9 {
				return '0' + (r - zero)
			}
		}
		return r
	}, s)
}

// NativeDigits is legacy's output_script.native_digits: 0-9 in the language's script's own
// digits (unchanged for a script without them here, such as Latin).
func NativeDigits(s, language string) string {
	zero, ok := zeroOfScript[ScriptOf(language)]
	if !ok {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return zero + (r - '0')
		}
		return r
	}, s)
}

// Options are /transliterate's optional fields ("" for absent).
type Options struct {
	NumeralsFormat             string // "international" (default) or "native"
	SpokenForm                 bool
	SpokenFormNumeralsLanguage string // "english" (default) or "native"
}

// Run is the work of legacy's POST /transliterate after validation and before billing is
// settled: transliterate, then numbers as words when spoken_form (not for an en-IN target),
// then native digits when asked. The caller checks that source differs from target.
func (t *Transliterator) Run(input, source, target string, o Options) (string, string, error) {
	out, used, err := t.Transliterate(input, source, target)
	if err != nil {
		return "", "", err
	}
	if o.SpokenForm && target != "en-IN" {
		numerals := o.SpokenFormNumeralsLanguage
		if numerals == "" {
			numerals = "english"
		}
		if out, err = t.SpokenNumbers(out, target, numerals); err != nil {
			return "", "", err
		}
	}
	if o.NumeralsFormat == "native" {
		out = NativeDigits(out, target)
	}
	return out, used, nil
}

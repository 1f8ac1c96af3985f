package text

import (
	"math/big"
	"slices"
	"strings"
	"testing"
)

func TestDominantScript(t *testing.T) {
	for in, want := range map[string]string{
		"नमस्ते":       "Deva",
		"आমি":          "Beng", // 1 Devanagari letter, 2 Bengali
		"hello नमस्ते": "Deva", // vowel signs and viramas vote too (6 > 5)
		"ab கக":        "Latn", // a tie goes to the script seen first
		"12345 !!!":    "",
		"":             "",
		"Ünïcödé":      "Latn",
		"× ÷":          "", // not letters
		"میں":          "Arab",
		"ᱥᱟᱱ":          "Olck",
		"ꯃꯅꯤ":          "Mtei",
		"꣠꣡ ꣲ":         "Deva", // Devanagari Extended: only its letters vote
		"ஸ்ரீ ਪੰਜਾਬ ગુજરાત ଓଡ଼ିଆ": "Gujr", // ગુજરાત has 6 code points, the most
	} {
		if got := DominantScript(in); got != want {
			t.Errorf("DominantScript(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIdentifyLeavesSharedScriptsToTheModel(t *testing.T) {
	got := Identify("माझे नाव राहुल आहे")
	if got.LanguageCode != nil || *got.ScriptCode != "Deva" || !slices.Equal(got.Candidates, []string{"hi-IN", "mr-IN"}) {
		t.Fatalf("Devanagari: %+v", got)
	}
	if d := got.Decided("mr-IN"); *d.LanguageCode != "mr-IN" || d.Candidates != nil || *d.ScriptCode != "Deva" {
		t.Errorf("decided mr-IN: %+v", d)
	}
	if d := got.Decided(""); *d.LanguageCode != "hi-IN" {
		t.Errorf("the model could not tell: %v, want hi-IN as legacy", *d.LanguageCode)
	}
	if got := Identify("தமிழ் பேசுகிறேன்"); *got.LanguageCode != "ta-IN" || got.Candidates != nil {
		t.Errorf("Tamil names its language: %+v", got)
	}
	if got := Identify("ᱥᱟᱱ"); got.LanguageCode != nil || *got.ScriptCode != "Olck" || got.Candidates != nil {
		t.Errorf("Ol Chiki: %+v", got)
	}
	if got := Identify("!!!"); got.LanguageCode != nil || got.ScriptCode != nil {
		t.Errorf("no script: %+v", got)
	}
}

func TestTransliterate(t *testing.T) {
	tr := New()
	for _, tc := range []struct{ in, source, target, want, used string }{
		{"नमस्ते", "hi-IN", "ta-IN", "நமஸ்தே", "hi-IN"},
		{"नमस्ते दुनिया 2024", "auto", "en-IN", "namaste duniya 2024", "hi-IN"},
		{"कृष्ण", "hi-IN", "en-IN", "krrishna", "hi-IN"},
		{"ক্ষ", "auto", "hi-IN", "क्ष", "bn-IN"},
		{"ਪੱਕਾ", "pa-IN", "hi-IN", "पक्का", "pa-IN"}, // the addak doubles the stop
		{"উৎসব", "bn-IN", "hi-IN", "उत्सव", "bn-IN"}, // khanda ta
		{"namaste", "en-IN", "hi-IN", "नमस्ते", "en-IN"},
		{"kRRiShNa", "en-IN", "kn-IN", "ಕೃಷ್ಣ", "en-IN"},
		{"१२३ ৪৫", "hi-IN", "gu-IN", "123 45", "hi-IN"}, // every Indic digit becomes 0-9
		{"HELLO", "auto", "en-IN", "hello", "en-IN"},
	} {
		got, used, err := tr.Transliterate(tc.in, tc.source, tc.target)
		if err != nil || got != tc.want || used != tc.used {
			t.Errorf("Transliterate(%q, %s, %s) = %q, %q, %v; want %q, %q", tc.in, tc.source, tc.target, got, used, err, tc.want, tc.used)
		}
	}
	if _, _, err := tr.Transliterate("123", "auto", "hi-IN"); err == nil || err.Error() != "could not tell the input's script; pass source_language_code" {
		t.Errorf("no script: %v", err)
	}
}

func TestNativeDigits(t *testing.T) {
	for _, tc := range []struct{ in, lang, want string }{
		{"250 रुपये", "hi-IN", "२५० रुपये"}, {"0123456789", "ta-IN", "௦௧௨௩௪௫௬௭௮௯"},
		{"42", "en-IN", "42"}, {"42", "bn-IN", "৪২"},
	} {
		if got := NativeDigits(tc.in, tc.lang); got != tc.want {
			t.Errorf("NativeDigits(%q, %s) = %q, want %q", tc.in, tc.lang, got, tc.want)
		}
	}
}

func TestEnglishNumber(t *testing.T) {
	for in, want := range map[string]string{
		"0": "zero", "19": "nineteen", "20": "twenty", "42": "forty two", "100": "one hundred",
		"2024": "two thousand twenty four", "150000": "one lakh fifty thousand",
		"2500000000": "two hundred fifty crore", "100000000000000": "one crore crore",
	} {
		n, _ := new(big.Int).SetString(in, 10)
		if got := EnglishNumber(n); got != want {
			t.Errorf("EnglishNumber(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestSpokenNumbers(t *testing.T) {
	tr := New()
	for _, tc := range []struct{ in, lang, numerals, want string }{
		{"250", "hi-IN", "native", "दो सौ पचास"},
		{"2024 সাল", "bn-IN", "native", "দুই হাজার চব্বিশ সাল"},
		{"3.25", "hi-IN", "native", "तीन दशमलव दो पाँच"},
		{"1,00,071", "bn-IN", "native", "এক লাখ একাত্তর"}, // num2words' trailing space is stripped
		{"x1 1x 1", "hi-IN", "native", "x1 1x एक"},        // only whole numbers between non-word characters
		{"1,234,5678", "hi-IN", "native", "एक हज़ार दो सौ चौंतीस,पाँच हज़ार छह सौ अठहत्तर"},
	} {
		got, err := tr.SpokenNumbers(tc.in, tc.lang, tc.numerals)
		if err != nil || got != tc.want {
			t.Errorf("SpokenNumbers(%q, %s, %s) = %q, %v; want %q", tc.in, tc.lang, tc.numerals, got, err, tc.want)
		}
	}
	if _, err := tr.SpokenNumbers("1", "ta-IN", "native"); err == nil ||
		err.Error() != "spoken_form_numerals_language 'native' is available for bn-IN, hi-IN; use 'english' for ta-IN" {
		t.Errorf("Tamil native words: %v", err)
	}
	if _, err := tr.SpokenNumbers("1"+strings.Repeat("0", 307), "bn-IN", "native"); err != ErrNumberTooLarge {
		t.Errorf("308 digits in Bengali: %v, want ErrNumberTooLarge", err)
	}
}

func TestMatchNumberBacktracksAsPythonRe(t *testing.T) {
	for _, tc := range []struct {
		in              string
		whole, decimals string
		ok              bool
	}{
		{"1,234,567", "1,234,567", "", true},
		{"12,34,567", "12,34,567", "", true},
		{"1,234,5678", "1,234", "", true}, // the last group cannot take 4 digits
		{"3.25", "3", "25", true},
		{"3.", "3", "", true},
		{"12a", "", "", false},
		{"١٢", "١٢", "", true}, // any Unicode decimal digits
	} {
		r := []rune(tc.in)
		m, ok := matchNumber(r, 0)
		if ok != tc.ok || (ok && (string(r[m.wholeStart:m.wholeEnd]) != tc.whole || string(r[m.decStart:m.decEnd]) != tc.decimals)) {
			t.Errorf("matchNumber(%q) = %+v %v", tc.in, m, ok)
		}
	}
}

func TestPythonUnicodeHelpers(t *testing.T) {
	for in, want := range map[string]string{"ABC": "abc", "İ": "i\u0307", "ΣΑΣ": "σας", "Σ": "σ", "ΑΣ.": "ας."} {
		if got := pyLower(in); got != want {
			t.Errorf("pyLower(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"\u092B\u093C":       "\u092B\u093C", // फ़ stays decomposed (a composition exclusion)
		"\u095E":             "\u092B\u093C",
		"\u0928\u093C":       "\u0929", // ऩ composes
		"\u0B47\u0B3E":       "\u0B4B",
		"\u0915\u094D\u093C": "\u0915\u093C\u094D", // nukta (7) before virama (9)
		"\u0CC6\u0CC2\u0CD5": "\u0CCB",
	} {
		if got := nfcIndic(in); got != want {
			t.Errorf("nfcIndic(%+q) = %+q, want %+q", in, got, want)
		}
	}
	for r, want := range map[rune]int{'7': 7, '७': 7, '٣': 3, '𝟗': 9, '𝟎': 0} {
		if got := decimalValue(r); got != want {
			t.Errorf("decimalValue(%q) = %d, want %d", r, got, want)
		}
	}
}

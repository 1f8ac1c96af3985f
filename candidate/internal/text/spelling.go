package text

import "strings"

// schemeOfLanguage is legacy spelling.py's SCHEME_OF_LANGUAGE for the core languages.
var schemeOfLanguage = map[string]string{
	"hi-IN": "devanagari", "mr-IN": "devanagari", "bn-IN": "bengali", "pa-IN": "gurmukhi",
	"gu-IN": "gujarati", "od-IN": "oriya", "ta-IN": "tamil", "te-IN": "telugu",
	"kn-IN": "kannada", "ml-IN": "malayalam", "en-IN": "itrans",
}

// dropsFinalVirama are the Indo-Aryan scripts, whose languages drop a word's final schwa:
// "फ़ोन", not "फ़ोन्".
var dropsFinalVirama = map[string]bool{"Deva": true, "Beng": true, "Guru": true, "Gujr": true, "Orya": true}

const viramas = "\u094d\u09cd\u0a4d\u0acd\u0b4d"

// SpellEnglish is legacy's spelling.spell_english: an English word as it sounds, written in
// language's script ("computer" → "कोम्प्यूटर"). Irregular words come from a table, the rest
// through englishRules into ITRANS, which is then written in the target script.
func (t *Transliterator) SpellEnglish(word, language string) string {
	script := ScriptOf(language)
	if script == "Latn" {
		return word
	}
	lower := pyLower(word)
	sound, ok := irregularSounds[lower]
	if !ok || sound == "" {
		sound = lower
		for _, rule := range englishRules {
			sound = rule(sound)
		}
	}
	if script != "Deva" && script != "Guru" { // no nukta letters: f is ph, z is j
		sound = strings.ReplaceAll(strings.ReplaceAll(sound, "f", "ph"), "z", "j")
	}
	written := t.convert(sound, "itrans", schemeOfLanguage[language])
	if dropsFinalVirama[script] {
		if r := []rune(written); len(r) > 1 && strings.ContainsRune(viramas, r[len(r)-1]) {
			written = string(r[:len(r)-1])
		}
	}
	return nfcIndic(written) // one spelling of फ़ (फ + nukta), as typed
}

// englishRules are legacy's _ENGLISH_RULES, in order (each sees the output of the ones before
// it). Go's regexp has no lookaround or backreferences, so each is written out; the comment
// above each is the Python pattern and replacement.
var englishRules = []func(string) string{
	// [ts]ion\b → shan
	subEach(func(r []rune, i int) (int, string) {
		if (r[i] == 't' || r[i] == 's') && hasAt(r, i+1, "ion") && wordBoundaryAfter(r, i+4) {
			return 4, "shan"
		}
		return 0, ""
	}),
	literal("igh", "Ai"),
	// ^([^aeiou]+)y$ → \1Ai
	consonantsThenY,
	literal("ph", "f"), literal("ck", "k"), literal("qu", "kv"), literal("q", "k"), literal("x", "ks"),
	// c(?=[eiy]) → s
	subEach(func(r []rune, i int) (int, string) {
		if r[i] == 'c' && i+1 < len(r) && strings.ContainsRune("eiy", r[i+1]) {
			return 1, "s"
		}
		return 0, ""
	}),
	// c(?!h) → k
	subEach(func(r []rune, i int) (int, string) {
		if r[i] == 'c' && (i+1 >= len(r) || r[i+1] != 'h') {
			return 1, "k"
		}
		return 0, ""
	}),
	// ([bdfghjklmnprstvwz])\1 → \1
	subEach(func(r []rune, i int) (int, string) {
		if strings.ContainsRune("bdfghjklmnprstvwz", r[i]) && i+1 < len(r) && r[i+1] == r[i] {
			return 2, string(r[i])
		}
		return 0, ""
	}),
	alternatives("I", "ee", "ea"), literal("oo", "U"), alternatives("au", "ou", "ow"),
	alternatives("e", "ai", "ay"), literal("oa", "o"),
	// a([^aeiou])e\b → e\1, and likewise for i (Ai\1), o (o\1) and u (yU\1): magic e.
	magicE('a', "e"), magicE('i', "Ai"), magicE('o', "o"), magicE('u', "yU"),
	// (?<=[^aeiou])e\b → ""
	subEach(func(r []rune, i int) (int, string) {
		if r[i] == 'e' && i > 0 && !isVowel(r[i-1]) && wordBoundaryAfter(r, i+1) {
			return 1, ""
		}
		return 0, ""
	}),
	// (?<=[^aeiou])y\b → I
	subEach(func(r []rune, i int) (int, string) {
		if r[i] == 'y' && i > 0 && !isVowel(r[i-1]) && wordBoundaryAfter(r, i+1) {
			return 1, "I"
		}
		return 0, ""
	}),
	// (?<=[^aeiou])y(?=[^aeiou]) → Ai
	subEach(func(r []rune, i int) (int, string) {
		if r[i] == 'y' && i > 0 && !isVowel(r[i-1]) && i+1 < len(r) && !isVowel(r[i+1]) {
			return 1, "Ai"
		}
		return 0, ""
	}),
	// (?:er|or)\b → ar
	subEach(func(r []rune, i int) (int, string) {
		if (r[i] == 'e' || r[i] == 'o') && i+1 < len(r) && r[i+1] == 'r' && wordBoundaryAfter(r, i+2) {
			return 2, "ar"
		}
		return 0, ""
	}),
	literal("w", "v"),
	// th is held as \x01 (dental) while t and d become retroflex.
	literal("th", "\x01"), literal("t", "T"), literal("d", "D"), literal("\x01", "th"),
}

func isVowel(r rune) bool { return strings.ContainsRune("aeiou", r) }

func hasAt(r []rune, i int, s string) bool {
	for _, c := range s {
		if i >= len(r) || r[i] != c {
			return false
		}
		i++
	}
	return true
}

// wordBoundaryAfter is \b after a word character ending at i: no word character follows.
func wordBoundaryAfter(r []rune, i int) bool { return i >= len(r) || !isWordRune(r[i]) }

// subEach is re.sub for a pattern that never matches empty: at each position, match returns
// how many runes it consumes (0: no match there) and their replacement; scanning resumes
// after a match, and lookarounds see the original string.
func subEach(match func(r []rune, i int) (int, string)) func(string) string {
	return func(s string) string {
		r := []rune(s)
		var b strings.Builder
		for i := 0; i < len(r); {
			if n, repl := match(r, i); n > 0 {
				b.WriteString(repl)
				i += n
				continue
			}
			b.WriteRune(r[i])
			i++
		}
		return b.String()
	}
}

func literal(old, replacement string) func(string) string {
	return func(s string) string { return strings.ReplaceAll(s, old, replacement) }
}

// alternatives is re.sub("a|b", replacement): at each position the first alternative that
// matches wins.
func alternatives(replacement string, options ...string) func(string) string {
	return subEach(func(r []rune, i int) (int, string) {
		for _, o := range options {
			if hasAt(r, i, o) {
				return len([]rune(o)), replacement
			}
		}
		return 0, ""
	})
}

// magicE is re.sub(rf"{vowel}([^aeiou])e\b", rf"{sound}\1").
func magicE(vowel rune, sound string) func(string) string {
	return subEach(func(r []rune, i int) (int, string) {
		if r[i] == vowel && i+2 < len(r) && !isVowel(r[i+1]) && r[i+2] == 'e' && wordBoundaryAfter(r, i+3) {
			return 3, sound + string(r[i+1])
		}
		return 0, ""
	})
}

// consonantsThenY is re.sub(r"^([^aeiou]+)y$", r"\1Ai"): a word of no vowel letters but a
// final y ("my", "fly"). Python's $ also matches before a final newline.
func consonantsThenY(s string) string {
	r := []rune(s)
	n := len(r)
	if n >= 3 && r[n-1] == '\n' && r[n-2] == 'y' && noVowels(r[:n-2]) {
		return string(r[:n-2]) + "Ai\n"
	}
	if n >= 2 && r[n-1] == 'y' && noVowels(r[:n-1]) {
		return string(r[:n-1]) + "Ai"
	}
	return s
}

func noVowels(r []rune) bool {
	for _, c := range r {
		if isVowel(c) {
			return false
		}
	}
	return true
}

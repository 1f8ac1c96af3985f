package text

import (
	"sort"
	"strings"
	"unicode"
)

// This file is a port of legacy/text/output_script.py (how /translate writes its answer:
// output_script and numerals_format, sdk-contract §1.6) and of what it calls that the text
// routes did not need yet: legacy/text/tokens.py's tokenizer and spelling.py's romanize.
//
//   - "" — as the model wrote it;
//   - "roman" — every word in plain lower-case Latin; danda and double danda become ".";
//   - "fully-native" — every Latin word respelled by sound in the target script;
//   - "spoken-form-in-native" — fully native, and numbers said as English words in the
//     target script.
//
// numerals_format "native" then writes 0-9 in the target script's digits (not for roman).

//go:generate ../../../.venv/bin/python gen/gen_output_tables.py
//go:generate $GOROOT/bin/gofmt -w output_script_tables_gen.go

// Writer writes a translation as output_script and numerals_format ask (legacy's write_in).
// Built once (NewWriter) and shared read-only by all requests.
type Writer struct {
	t *Transliterator
	// romanizers read a word in each script romanize knows into ITRANS (legacy's
	// _SCHEME_OF_SCRIPT, Latin excepted: romanize leaves Latin words as they are).
	romanizers map[string]*schemeMap
}

// romanizeSchemes are the schemes romanizeSchemeSpecs holds, by the script they read.
var romanizeSchemes = map[string]string{"Arab": "urdu", "Olck": "ol_chiki", "Mtei": "manipuri"}

// NewWriter builds the romanizers: the core scripts' maps come from t, the others (Arabic,
// Ol Chiki, Meetei Mayek: words the model leaves as they are) are built here.
func NewWriter(t *Transliterator) *Writer {
	w := &Writer{t: t, romanizers: map[string]*schemeMap{}}
	for script, scheme := range schemeOfScript {
		if script != "Latn" {
			w.romanizers[script] = t.maps[[2]string{scheme, "itrans"}]
		}
	}
	itrans := specNamed(schemeSpecs, "itrans")
	for script, scheme := range romanizeSchemes {
		w.romanizers[script] = newSchemeMap(specNamed(romanizeSchemeSpecs, scheme), itrans)
	}
	return w
}

func specNamed(specs []schemeSpec, name string) *schemeSpec {
	for i := range specs {
		if specs[i].name == name {
			return &specs[i]
		}
	}
	panic("text: no scheme " + name + " in the generated tables")
}

// WriteIn is legacy's write_in(s, language, outputScript or None, numerals): s (the model's
// translation, in language) written as asked. outputScript is "", "roman", "fully-native" or
// "spoken-form-in-native", and is only given for a core language (the route refuses it
// otherwise); numerals is "international" or "native" (any of the 23 languages).
func (w *Writer) WriteIn(s, language, outputScript, numerals string) string {
	if outputScript == "roman" {
		return w.romanText(s)
	}
	if outputScript == "fully-native" || outputScript == "spoken-form-in-native" {
		s = w.nativeText(s, language)
	}
	if outputScript == "spoken-form-in-native" {
		said, err := w.t.SpokenNumbers(s, language, "english")
		if err != nil {
			// English number words exist for every number; only native words can fail.
			panic("text: English number words failed: " + err.Error())
		}
		s = said
	}
	if numerals == "native" {
		return NativeDigits(s, language)
	}
	return s
}

// romanText is legacy's _roman: each word romanized by its own script, danda and double
// danda written as ".", everything else kept.
func (w *Writer) romanText(s string) string {
	var b strings.Builder
	for _, tok := range tokenize(s) {
		switch {
		case tok.kind == tokenWord:
			if script := DominantScript(tok.text); script != "" {
				b.WriteString(w.romanize(tok.text, script))
			} else {
				b.WriteString(tok.text)
			}
		case tok.text == "।" || tok.text == "॥":
			b.WriteByte('.')
		default:
			b.WriteString(tok.text)
		}
	}
	return b.String()
}

// nativeText is legacy's _native: every word mostly in Latin letters respelled by sound in
// language's script.
func (w *Writer) nativeText(s, language string) string {
	var b strings.Builder
	for _, tok := range tokenize(s) {
		if tok.kind == tokenWord && DominantScript(tok.text) == "Latn" {
			b.WriteString(w.t.SpellEnglish(tok.text, language))
		} else {
			b.WriteString(tok.text)
		}
	}
	return b.String()
}

// romanize is legacy's spelling.romanize: a word in an Indian script (or Arabic, Ol Chiki,
// Meetei Mayek) in lower-case ITRANS, nuktas dropped; Bengali ব read as "b"; the final
// inherent vowel of an Indo-Aryan word not said ("घर" is "ghar"). Latin words and scripts
// without a scheme are left as they are.
func (w *Writer) romanize(word, script string) string {
	m, ok := w.romanizers[script]
	if !ok {
		return word
	}
	roman := pyLower(m.transliterate(plain(word)))
	if script == "Beng" {
		roman = strings.ReplaceAll(roman, "v", "b")
	}
	runes := []rune(word)
	endsBare := len(runes) > 1 && unicode.Is(unicode.Lo, runes[len(runes)-1])
	if dropsFinalVirama[script] && endsBare && strings.HasSuffix(roman, "a") {
		roman = roman[:len(roman)-1]
	}
	return roman
}

// plain is spelling._plain: the word in NFD without the nukta signs (ड़ is read as ड), since
// most scripts have no counterpart for the nukta letters.
func plain(word string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '\u093c', '\u09bc', '\u0a3c', '\u0abc', '\u0b3c':
			return -1
		}
		return r
	}, nfd(word))
}

// nfd is unicodedata.normalize("NFD", s): every character fully decomposed (the generated
// table; Hangul syllables by the Unicode algorithm), then each run of combining marks put in
// canonical order (a stable sort by combining class).
func nfd(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if d, ok := canonicalDecomposition[r]; ok {
			out = append(out, []rune(d)...)
			continue
		}
		out = appendHangul(out, r)
	}
	for i := 0; i < len(out); {
		if combiningClass[out[i]] == 0 {
			i++
			continue
		}
		j := i
		for j < len(out) && combiningClass[out[j]] != 0 {
			j++
		}
		run := out[i:j]
		sort.SliceStable(run, func(a, b int) bool { return combiningClass[run[a]] < combiningClass[run[b]] })
		i = j
	}
	return string(out)
}

// appendHangul appends r, decomposed into its jamo when it is a precomposed Hangul syllable
// (Unicode §3.12).
func appendHangul(dst []rune, r rune) []rune {
	const sBase, lBase, vBase, tBase, tCount, nCount, sCount = 0xAC00, 0x1100, 0x1161, 0x11A7, 28, 588, 11172
	index := r - sBase
	if index < 0 || index >= sCount {
		return append(dst, r)
	}
	dst = append(dst, lBase+index/nCount, vBase+(index%nCount)/tCount)
	if t := index % tCount; t != 0 {
		dst = append(dst, tBase+t)
	}
	return dst
}

// tokenKind is the kind of a token (legacy's TokenKind).
type tokenKind int

const (
	tokenNumber tokenKind = iota // digits of the ten digit sets, with . , : between digits
	tokenWord                    // letters and the scripts' combining marks, with one 's tail
	tokenSpace                   // a run of whitespace
	tokenOther                   // any other single character
)

type token struct {
	kind tokenKind
	text string
}

// tokenize is legacy/text/tokens.py's tokenize: the text cut into numbers, words, spaces and
// single other characters, in order; joining the tokens' text gives s back. The pattern, tried
// in this order at each position:
//
//	(?P<number>[D]+(?:[.,:][D]+)*) | (?P<word>(?:[^\W\d_]|[M])+(?:'[^\W\d_]+)?) | (?P<space>\s+) | (?P<other>.)
//
// where D is 0-9 and the nine Indic digit sets, M the marks of wordMarkRuns.
func tokenize(s string) []token {
	r := []rune(s)
	var out []token
	for i := 0; i < len(r); {
		kind, end := tokenOther, i+1
		switch {
		case isTokenDigit(r[i]):
			kind, end = tokenNumber, digitsEnd(r, i)
			for end+1 < len(r) && strings.ContainsRune(".,:", r[end]) && isTokenDigit(r[end+1]) {
				end = digitsEnd(r, end+1)
			}
		case isWordLetter(r[i]) || isWordMark(r[i]):
			kind, end = tokenWord, i
			for end < len(r) && (isWordLetter(r[end]) || isWordMark(r[end])) {
				end++
			}
			if end+1 < len(r) && r[end] == '\'' && isWordLetter(r[end+1]) {
				end++
				for end < len(r) && isWordLetter(r[end]) {
					end++
				}
			}
		case IsSpace(r[i]):
			kind, end = tokenSpace, i
			for end < len(r) && IsSpace(r[end]) {
				end++
			}
		}
		out = append(out, token{kind, string(r[i:end])})
		i = end
	}
	return out
}

func digitsEnd(r []rune, i int) int {
	for i < len(r) && isTokenDigit(r[i]) {
		i++
	}
	return i
}

// isTokenDigit is 0-9 or a digit of the nine Indic scripts (not every Unicode digit: an
// Arabic-Indic digit is an "other" token).
func isTokenDigit(r rune) bool {
	if r >= '0' && r <= '9' {
		return true
	}
	for _, zero := range indicZeros {
		if r >= zero && r <= zero+9 {
			return true
		}
	}
	return false
}

// isWordLetter is regex [^\W\d_]: a word character that is neither a decimal digit nor "_".
func isWordLetter(r rune) bool { return r != '_' && isWordRune(r) && !isDecimalRune(r) }

func isWordMark(r rune) bool {
	for _, run := range wordMarkRuns {
		if r < run.low {
			return false
		}
		if r <= run.high {
			return true
		}
	}
	return false
}

// IsSpace is Python's str.isspace for one character (what regex \s, str.strip and
// str.split use): Go's unicode.IsSpace plus the four information separators U+001C..U+001F.
func IsSpace(r rune) bool { return unicode.IsSpace(r) || (r >= 0x1C && r <= 0x1F) }

// runeRun is an inclusive range of code points.
type runeRun struct{ low, high rune }

package text

import "strings"

// This file is a port of indic_transliteration.sanscript (2.3.82): SchemeMap's construction
// and the two mappers, _brahmic (the source is a script) and _roman (the source is ITRANS).
// It is kept close to the Python on purpose, quirks included (which groups override which,
// the longest-token-first reading, the implicit "a" of a consonant), so that legacy's output
// is matched byte for byte; the scheme data comes from the installed package (tables_gen.go).

//go:generate ../../../.venv/bin/python gen/gen_tables.py
//go:generate $GOROOT/bin/gofmt -w tables_gen.go

type schemeEntry struct{ key, value string }

type schemeGroup struct {
	name    string
	entries []schemeEntry
}

type schemeAlternate struct {
	symbol   string
	synonyms []string
}

// schemeSpec is one sanscript.Scheme: its groups in dict order (keys are Devanagari, values
// the scheme's symbols) and its alternates (other spellings of a symbol).
type schemeSpec struct {
	name       string
	roman      bool
	maxKeyLen  int // SchemeMap.max_key_length_from_scheme (lengths of keys, in code points)
	groups     []schemeGroup
	alternates []schemeAlternate
}

func (s *schemeSpec) group(name string) *schemeGroup {
	for i := range s.groups {
		if s.groups[i].name == name {
			return &s.groups[i]
		}
	}
	return nil
}

// groupKeys is "".join(scheme[group]) in Python: the group's keys, concatenated.
func (s *schemeSpec) groupKeys(name string) string {
	g := s.group(name)
	if g == nil {
		return ""
	}
	var b strings.Builder
	for _, e := range g.entries {
		b.WriteString(e.key)
	}
	return b.String()
}

// schemeMap is sanscript.SchemeMap: what each token of the source scheme becomes.
type schemeMap struct {
	from, to    *schemeSpec
	vowelMarks  map[string]string
	virama      map[string]string
	viramaFirst string // next(iter(virama.values())): what ends a consonant in _brahmic
	vowels      map[string]string
	consonants  map[string]string
	nonMarks    map[string]string // non_marks_viraama
	accents     map[string]string
	accentOrder []string // accents' keys in insertion order (their values feed a regex class)
	maxKeyLen   int
}

// orderedMap keeps Python dict semantics where they matter: an overwritten key keeps its
// first position.
type orderedMap struct {
	keys   []string
	values map[string]string
}

func newOrderedMap() *orderedMap { return &orderedMap{values: map[string]string{}} }

func (m *orderedMap) set(k, v string) {
	if _, ok := m.values[k]; !ok {
		m.keys = append(m.keys, k)
	}
	m.values[k] = v
}

func newSchemeMap(from, to *schemeSpec) *schemeMap {
	m := &schemeMap{
		from: from, to: to,
		vowelMarks: map[string]string{}, virama: map[string]string{},
		vowels: map[string]string{}, consonants: map[string]string{},
		nonMarks: map[string]string{}, accents: map[string]string{},
		maxKeyLen: from.maxKeyLen,
	}
	alternates := map[string][]string{}
	for _, a := range from.alternates {
		alternates[a.symbol] = a.synonyms
	}
	for _, group := range from.groups {
		if group.name == "alternates" || group.name == "accented_vowel_alternates" {
			continue
		}
		toGroup := to.group(group.name)
		if toGroup == nil {
			continue
		}
		toValues := make(map[string]string, len(toGroup.entries))
		for _, e := range toGroup.entries {
			toValues[e.key] = e.value
		}
		conjunct := newOrderedMap()
		for _, e := range group.entries {
			toSymbol, ok := toValues[e.key]
			if !ok {
				continue
			}
			if toSymbol == "" && group.name != "virama" && group.name != "zwj" && group.name != "skip" {
				toSymbol = e.value
			}
			conjunct.set(e.value, toSymbol)
			for _, synonym := range alternates[e.value] {
				conjunct.set(synonym, toSymbol)
			}
		}
		switch {
		case strings.HasSuffix(group.name, "vowel_marks"):
			copyInto(m.vowelMarks, conjunct)
		case group.name == "virama":
			m.virama = conjunct.values
			m.viramaFirst = ""
			if len(conjunct.keys) > 0 {
				m.viramaFirst = conjunct.values[conjunct.keys[0]]
			}
		default:
			copyInto(m.nonMarks, conjunct)
			switch {
			case strings.HasSuffix(group.name, "consonants"):
				copyInto(m.consonants, conjunct)
			case strings.HasSuffix(group.name, "vowels"):
				copyInto(m.vowels, conjunct)
			case group.name == "accents":
				m.accents = conjunct.values
				m.accentOrder = conjunct.keys
			}
		}
	}
	return m
}

func copyInto(dst map[string]string, src *orderedMap) {
	for _, k := range src.keys {
		dst[k] = src.values[k]
	}
}

// transliterate is sanscript.transliterate(data, from, to) for the schemes ported here
// (none has shortcuts or capitalisation, so unapply/apply_shortcuts and fix_om do nothing).
func (m *schemeMap) transliterate(data string) string {
	if m.from.roman {
		return m.roman([]rune(data))
	}
	return m.brahmic([]rune(preprocessBrahmic(m.from.name, data)))
}

// preprocessBrahmic is what _brahmic does to some sources before mapping: the Gurmukhi addak
// (gemination mark) spelled out as a consonant and virama, the Bengali khanda ta, and the
// Telugu and Kannada nakaara pollu, written as the letter and a virama.
func preprocessBrahmic(scheme, data string) string {
	switch scheme {
	case "gurmukhi":
		return replaceAddak(data)
	case "bengali":
		return strings.ReplaceAll(data, "\u09CE", "\u09A4\u09CD")
	case "telugu":
		return strings.ReplaceAll(data, "\u0C5D", "\u0C28\u0C4D")
	case "kannada":
		data = strings.ReplaceAll(data, "\u0CDD", "\u0CA8\u0CCD")
		return strings.ReplaceAll(data, "\u0CDC", "\u0936\u094D\u0930\u0940")
	}
	return data
}

// addakRules are GurmukhiScheme.replace_addak's substitutions, applied in order: addak before
// a stop becomes the unaspirated stop and a virama; before the other listed letters, that
// letter doubled.
var addakRules = []struct {
	letters string
	stop    rune // 0: the letter itself is doubled
}{
	{"\u0A15\u0A16", 0x0A15}, {"\u0A17\u0A18", 0x0A17}, {"\u0A1A\u0A1B", 0x0A1A},
	{"\u0A1C\u0A1D", 0x0A1C}, {"\u0A1F\u0A20", 0x0A1F}, {"\u0A21\u0A22", 0x0A21},
	{"\u0A24\u0A25", 0x0A24}, {"\u0A26\u0A27", 0x0A26}, {"\u0A2A\u0A2B", 0x0A2A},
	{"\u0A2C\u0A2D", 0x0A2C},
	{"\u0A2F\u0A30\u0A32\u0A35\u0A36\u0A38\u0A39\u0A19\u0A1E\u0A23\u0A28\u0A2E\u0A5B\u0A5C\u0A5E", 0},
}

func replaceAddak(data string) string {
	const addak, virama = '\u0A71', '\u0A4D'
	if !strings.ContainsRune(data, addak) {
		return data
	}
	runes := []rune(data)
	for _, rule := range addakRules {
		out := make([]rune, 0, len(runes)+4)
		for i := 0; i < len(runes); i++ {
			if runes[i] == addak && i+1 < len(runes) && strings.ContainsRune(rule.letters, runes[i+1]) {
				letter := runes[i+1]
				first := rule.stop
				if first == 0 {
					first = letter
				}
				out = append(out, first, virama, letter)
				i++
				continue
			}
			out = append(out, runes[i])
		}
		runes = out
	}
	return string(runes)
}

// swapPairs is regex.sub("([first])([second])", r"\2\1", data): each char of the first class
// directly followed by one of the second changes places with it (left to right, no overlaps).
func swapPairs(data []rune, first, second string) []rune {
	out := make([]rune, 0, len(data))
	for i := 0; i < len(data); i++ {
		if i+1 < len(data) && strings.ContainsRune(first, data[i]) && strings.ContainsRune(second, data[i+1]) {
			out = append(out, data[i+1], data[i])
			i++
			continue
		}
		out = append(out, data[i])
	}
	return out
}

func (m *schemeMap) accentValues() string {
	var b strings.Builder
	for _, k := range m.accentOrder {
		b.WriteString(m.accents[k])
	}
	return b.String()
}

// brahmic is sanscript's _brahmic: read the longest known token at each position; a
// consonant written to a roman scheme carries an implicit "a" unless a vowel sign or virama
// follows.
func (m *schemeMap) brahmic(data []rune) string {
	toRoman := m.to.roman
	if toRoman && len(m.accents) > 0 {
		data = swapPairs(data, m.from.groupKeys("yogavaahas"), strings.Join(m.accentOrder, ""))
	}
	var buf strings.Builder
	hadConsonant := false
	for i := 0; i <= len(data); {
		found := false
		n := min(m.maxKeyLen, len(data)-i)
		for ; n > 0; n-- {
			token := string(data[i : i+n])
			if n == 1 {
				if v, ok := m.vowelMarks[token]; ok {
					buf.WriteString(v)
				} else if v, ok := m.virama[token]; ok {
					buf.WriteString(v)
				} else {
					if hadConsonant {
						buf.WriteByte('a')
					}
					if v, ok := m.nonMarks[token]; ok {
						buf.WriteString(v)
					} else {
						buf.WriteString(token)
					}
				}
				found = true
			} else if v, ok := m.nonMarks[token]; ok {
				if hadConsonant {
					buf.WriteByte('a')
				}
				buf.WriteString(v)
				found = true
			}
			if found {
				_, isConsonant := m.consonants[token]
				hadConsonant = toRoman && isConsonant
				i += n
				break
			}
		}
		if !found {
			// Only at the end of the data (a one-character token is always found).
			if hadConsonant {
				buf.WriteString(m.viramaFirst)
			}
			if i < len(data) {
				buf.WriteRune(data[i])
				hadConsonant = false
			}
			i++
		}
	}
	if hadConsonant {
		buf.WriteByte('a')
	}
	return buf.String()
}

// roman is sanscript's _roman: a consonant followed by a vowel takes the vowel's sign; one
// followed by anything else gets a virama.
func (m *schemeMap) roman(data []rune) string {
	toRoman := m.to.roman
	var buf strings.Builder
	hadConsonant := false
	for i := 0; i <= len(data); {
		found := false
		n := min(m.maxKeyLen, len(data)-i)
		for ; n > 0; n-- {
			token := string(data[i : i+n])
			if _, isVowel := m.vowels[token]; hadConsonant && isVowel {
				if mark := m.vowelMarks[token]; mark != "" {
					buf.WriteString(mark)
				} else if toRoman {
					buf.WriteString(m.vowels[token])
				}
				found = true
			} else if v, ok := m.nonMarks[token]; ok {
				if hadConsonant {
					buf.WriteString(m.virama[""])
				}
				buf.WriteString(v)
				found = true
			}
			if found {
				_, hadConsonant = m.consonants[token]
				i += n
				break
			}
		}
		if !found {
			if hadConsonant {
				buf.WriteString(m.virama[""])
			}
			if i < len(data) {
				buf.WriteRune(data[i])
				hadConsonant = false
			}
			i++
		}
	}
	if !toRoman && len(m.accents) > 0 {
		return string(swapPairs([]rune(buf.String()), m.accentValues(), m.to.groupKeys("yogavaahas")))
	}
	return buf.String()
}

package text

import (
	"errors"
	"math/big"
	"strings"
)

// ErrNumberTooLarge is num2words' NumberTooLargeError: Bengali words for a number over 307
// digits. Legacy does not catch it (its route answers 500), so neither does the route here.
var ErrNumberTooLarge = errors.New("number too large for Bengali number words")

// SpokenNumbers is legacy's number_words.spoken_numbers: every number in s (0-9 or any other
// Unicode decimal digits, 1,234 and 12,34,567 grouping, decimals) said in words in
// language's script: English number words respelled in that script ("english"), or the
// language's own words ("native": Hindi and Bengali only; an *Error names them otherwise).
func (t *Transliterator) SpokenNumbers(s, language, numerals string) (string, error) {
	if numerals == "native" && !isNativeNumberLanguage(language) && language != "en-IN" {
		return "", &Error{"spoken_form_numerals_language 'native' is available for " +
			strings.Join(nativeNumberLanguages, ", ") + "; use 'english' for " + language}
	}
	if numerals == "native" && language == "en-IN" {
		numerals = "english"
	}
	runes := []rune(s)
	var b strings.Builder
	for i := 0; i < len(runes); {
		m, ok := matchNumber(runes, i)
		if !ok {
			b.WriteRune(runes[i])
			i++
			continue
		}
		said, err := t.say(runes[m.wholeStart:m.wholeEnd], runes[m.decStart:m.decEnd], language, numerals)
		if err != nil {
			return "", err
		}
		b.WriteString(said)
		i = m.end
	}
	return b.String(), nil
}

func isNativeNumberLanguage(language string) bool {
	for _, l := range nativeNumberLanguages {
		if l == language {
			return true
		}
	}
	return false
}

// numberMatch is one match of legacy's pattern
//
//	(?<![\w.])(\d{1,3}(?:,\d{2,3})+|\d+)(?:\.(\d+))?(?![\w])
//
// (Unicode \w and \d): the whole part, the decimals (empty when none) and where it ends.
type numberMatch struct {
	wholeStart, wholeEnd, decStart, decEnd, end int
}

// matchNumber tries the pattern at i with Python re's backtracking order (first alternative
// first, greedy quantifiers longest first), since which match wins decides the output.
func matchNumber(r []rune, i int) (numberMatch, bool) {
	if i >= len(r) || !isDecimalRune(r[i]) || (i > 0 && (isWordRune(r[i-1]) || r[i-1] == '.')) {
		return numberMatch{}, false
	}
	n := decimalRun(r, i)
	for k := min(3, n); k >= 1; k-- { // \d{1,3}(?:,\d{2,3})+
		if m, ok := matchGroups(r, i+k); ok {
			m.wholeStart = i
			return m, true
		}
	}
	for k := n; k >= 1; k-- { // \d+
		if m, ok := matchTail(r, i+k); ok {
			m.wholeStart = i
			return m, true
		}
	}
	return numberMatch{}, false
}

// matchGroups matches (?:,\d{2,3})+ at p and then the tail.
func matchGroups(r []rune, p int) (numberMatch, bool) {
	if p >= len(r) || r[p] != ',' {
		return numberMatch{}, false
	}
	n := decimalRun(r, p+1)
	for _, k := range [...]int{3, 2} {
		if k > n {
			continue
		}
		next := p + 1 + k
		if m, ok := matchGroups(r, next); ok { // greedy: one more group first
			return m, true
		}
		if m, ok := matchTail(r, next); ok {
			return m, true
		}
	}
	return numberMatch{}, false
}

// matchTail matches (?:\.(\d+))?(?![\w]) at p, the whole part ending at p.
func matchTail(r []rune, p int) (numberMatch, bool) {
	notWordAt := func(e int) bool { return e >= len(r) || !isWordRune(r[e]) }
	if p < len(r) && r[p] == '.' {
		for k := decimalRun(r, p+1); k >= 1; k-- {
			if e := p + 1 + k; notWordAt(e) {
				return numberMatch{wholeEnd: p, decStart: p + 1, decEnd: e, end: e}, true
			}
		}
	}
	if notWordAt(p) {
		return numberMatch{wholeEnd: p, decStart: p, decEnd: p, end: p}, true
	}
	return numberMatch{}, false
}

func decimalRun(r []rune, p int) int {
	n := 0
	for p+n < len(r) && isDecimalRune(r[p+n]) {
		n++
	}
	return n
}

// say is legacy's _say for one number.
func (t *Transliterator) say(whole, decimals []rune, language, numerals string) (string, error) {
	number := new(big.Int)
	ten := big.NewInt(10)
	for _, d := range whole {
		if d == ',' {
			continue
		}
		number.Mul(number, ten).Add(number, big.NewInt(int64(decimalValue(d))))
	}
	if numerals == "native" {
		first, err := nativeNumber(number, language)
		if err != nil {
			return "", err
		}
		if len(decimals) == 0 {
			return first, nil
		}
		words := []string{first, pointWord[language]}
		for _, d := range decimals {
			w, err := nativeNumber(big.NewInt(int64(decimalValue(d))), language)
			if err != nil {
				return "", err
			}
			words = append(words, w)
		}
		return strings.Join(words, " "), nil
	}
	english := strings.Fields(EnglishNumber(number))
	if len(decimals) > 0 {
		english = append(english, "point")
		for _, d := range decimals {
			english = append(english, englishOnes[decimalValue(d)])
		}
	}
	for i, w := range english {
		english[i] = t.SpellEnglish(w, language)
	}
	return strings.Join(english, " "), nil
}

// indianScales are the Indian system's units, largest first.
var indianScales = []struct {
	name string
	size int64
}{{"crore", 10_000_000}, {"lakh", 100_000}, {"thousand", 1000}, {"hundred", 100}}

// indian is legacy's _indian: crore, lakh, thousand, hundred, then the rest (a count above
// 99 crore is itself said in the Indian system: "one hundred crore").
func indian(number *big.Int, belowHundred func(int) string, scale func(string) string) string {
	if number.IsInt64() && number.Int64() < 100 {
		return belowHundred(int(number.Int64()))
	}
	rest := new(big.Int).Set(number)
	var parts []string
	for _, s := range indianScales {
		count := new(big.Int)
		count.DivMod(rest, big.NewInt(s.size), rest)
		if count.Sign() != 0 {
			parts = append(parts, indian(count, belowHundred, scale)+" "+scale(s.name))
		}
	}
	if rest.Sign() != 0 {
		parts = append(parts, belowHundred(int(rest.Int64())))
	}
	return strings.Join(parts, " ")
}

func englishBelowHundred(n int) string {
	if n < 20 {
		return englishOnes[n]
	}
	if n%10 == 0 {
		return englishTens[n/10]
	}
	return englishTens[n/10] + " " + englishOnes[n%10]
}

// EnglishNumber is legacy's english_number: 2024 → "two thousand twenty four", 150000 →
// "one lakh fifty thousand".
func EnglishNumber(number *big.Int) string {
	return indian(number, englishBelowHundred, func(name string) string { return name })
}

func nativeNumber(number *big.Int, language string) (string, error) {
	if language == "hi-IN" {
		return indian(number, func(n int) string { return hindiBelow100[n] },
			func(name string) string { return hindiScale[name] }), nil
	}
	return bengaliCardinal(number)
}

// bengaliCardinal is num2words(number, lang="bn") for a whole number (Num2Word_BN).
func bengaliCardinal(number *big.Int) (string, error) {
	if len(number.String()) > bengaliMaxDigits {
		return "", ErrNumberTooLarge
	}
	return bengaliWords(number), nil
}

var (
	bengaliTen7 = big.NewInt(10_000_000)
	bengaliTen5 = big.NewInt(100_000)
	bengaliTen3 = big.NewInt(1000)
)

// bengaliWords is Num2Word_BN._number_to_bengali_word, concatenation and strip included.
func bengaliWords(number *big.Int) string {
	if number.Sign() == 0 {
		return "শূন্য"
	}
	n := new(big.Int).Set(number)
	var words strings.Builder
	for _, unit := range []struct {
		size *big.Int
		word string
	}{{bengaliTen7, bengaliKoti}, {bengaliTen5, bengaliLakh}, {bengaliTen3, bengaliHazar}} {
		if n.Cmp(unit.size) >= 0 {
			count := new(big.Int)
			count.DivMod(n, unit.size, n)
			words.WriteString(bengaliWords(count) + unit.word)
		}
	}
	rest := int(n.Int64())
	if rest >= 100 {
		words.WriteString(bengaliAkok[rest/100] + "শত ")
		rest %= 100
	}
	if rest >= 10 {
		words.WriteString(bengaliDosok[rest-10] + " ")
		rest = 0
	}
	if rest > 0 {
		words.WriteString(bengaliAkok[rest] + " ")
	}
	return strings.TrimSpace(words.String())
}

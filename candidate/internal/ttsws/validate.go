package ttsws

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"banyan/candidate/internal/pyjson"
	"banyan/candidate/internal/text"
)

// Client messages are validated as legacy's pydantic models do it in their default (lax)
// mode on what json.loads made of the frame: numbers from strings, booleans from 0/1 and
// "yes"/"off"…, integers from integral floats, each problem named "<field>: <pydantic
// message>" in the model's field order and joined by "; ". The rules were read off
// pydantic 2.14 and are pinned by testdata/config_cases.json.gz, generated from legacy.

// Pydantic's messages.
const (
	msgRequired    = "Field required"
	msgNotString   = "Input should be a valid string"
	msgSurrogate   = "Input should be a valid string, unable to parse raw data as a unicode string"
	msgNotBool     = "Input should be a valid boolean"
	msgBoolParse   = "Input should be a valid boolean, unable to interpret input"
	msgNotInt      = "Input should be a valid integer"
	msgIntParse    = "Input should be a valid integer, unable to parse string as an integer"
	msgIntFraction = "Input should be a valid integer, got a number with a fractional part"
	msgIntTooBig   = "Unable to parse input string as an integer, exceeded maximum size"
	msgNotFinite   = "Input should be a finite number"
	msgNotNumber   = "Input should be a valid number"
	msgFloatParse  = "Input should be a valid number, unable to parse string as a number"
)

// The Literal types of legacy's TTS (voices.Model, scripts.CoreLanguage, codecs.CodecName,
// codecs.Bitrate), in declaration order, as pydantic lists them.
var (
	Models        = []string{"bulbul:v2", "bulbul:v3", "bulbul:v4-flash"}
	CoreLanguages = []string{"bn-IN", "en-IN", "gu-IN", "hi-IN", "kn-IN", "ml-IN", "mr-IN", "od-IN", "pa-IN", "ta-IN", "te-IN"}
	Codecs        = []string{"mp3", "linear16", "mulaw", "alaw", "opus", "flac", "aac", "wav"}
	Bitrates      = []string{"32k", "64k", "96k", "128k", "192k"}
)

// VoiceConfig is a validated config message (legacy's TtsConfig); nil and "" are fields the client
// left out or sent null.
type VoiceConfig struct {
	LanguageCode        string
	Speaker             *string
	Pitch               *float64
	Pace                *float64
	Loudness            *float64
	SpeechSampleRate    *int // an integer beyond int's range is clamped to it (no rate is valid there)
	EnablePreprocessing *bool
	OutputAudioCodec    string
	OutputAudioBitrate  string
	MinBufferSize       int
	MaxChunkLength      int
	DictID              *string
	Model               string
	Temperature         *float64
}

// fields reads one model's fields from a JSON object, recording problems in order.
type fields struct {
	data     map[string]pyjson.Value
	problems []string
}

func (f *fields) add(name, msg string) { f.problems = append(f.problems, name+": "+msg) }

func (f *fields) message() string { return strings.Join(f.problems, "; ") }

// get is a field's value; absent and (for an optional field) null are not there.
func (f *fields) get(name string, optional bool) (pyjson.Value, bool) {
	v, ok := f.data[name]
	if !ok || (optional && v.Kind == pyjson.Null) {
		return v, false
	}
	return v, true
}

// surrogate reports a string pydantic cannot hand to its validators (a lone surrogate).
func (f *fields) surrogate(name string, v pyjson.Value) bool {
	if v.Kind == pyjson.String && v.LoneSurrogate {
		f.add(name, msgSurrogate)
		return true
	}
	return false
}

// str is a `str | None` field of at most maxLen code points.
func (f *fields) str(name string, maxLen int) *string {
	v, ok := f.get(name, true)
	if !ok || f.surrogate(name, v) {
		return nil
	}
	if v.Kind != pyjson.String {
		f.add(name, msgNotString)
		return nil
	}
	if utf8.RuneCountInString(v.Str) > maxLen {
		f.add(name, fmt.Sprintf("String should have at most %d characters", maxLen))
		return nil
	}
	s := v.Str
	return &s
}

// literal is a Literal[...] field (optional: may be absent or null, then "").
func (f *fields) literal(name string, optional bool, choices []string) string {
	v, ok := f.get(name, optional)
	if !ok {
		if !optional {
			f.add(name, msgRequired)
		}
		return ""
	}
	if f.surrogate(name, v) {
		return ""
	}
	if v.Kind == pyjson.String {
		for _, c := range choices {
			if v.Str == c {
				return c
			}
		}
	}
	f.add(name, "Input should be "+expected(choices))
	return ""
}

// bounds are a number field's ge/le, with the texts pydantic prints for them.
type bounds struct {
	ge, le         float64
	geText, leText string
}

// float is a `float | None` field within b.
func (f *fields) float(name string, b bounds) *float64 {
	v, ok := f.get(name, true)
	if !ok || f.surrogate(name, v) {
		return nil
	}
	x, msg := laxFloat(v)
	switch {
	case msg != "":
		f.add(name, msg)
		return nil
	case !(x <= b.le): // NaN fails both; pydantic checks le first
		f.add(name, "Input should be less than or equal to "+b.leText)
		return nil
	case !(x >= b.ge):
		f.add(name, "Input should be greater than or equal to "+b.geText)
		return nil
	}
	return &x
}

// integer is an int field within [ge, le] (le < 0: no bounds); optional ones may be null.
func (f *fields) integer(name string, optional bool, fallback, ge, le int) (int, bool) {
	v, ok := f.get(name, optional) // a required int's null is laxInt's "valid integer" problem
	if !ok || f.surrogate(name, v) {
		return fallback, false
	}
	n, msg := laxInt(v)
	if msg != "" {
		f.add(name, msg)
		return fallback, false
	}
	if le >= 0 {
		if n.Cmp(big.NewInt(int64(le))) > 0 {
			f.add(name, fmt.Sprintf("Input should be less than or equal to %d", le))
			return fallback, false
		}
		if n.Cmp(big.NewInt(int64(ge))) < 0 {
			f.add(name, fmt.Sprintf("Input should be greater than or equal to %d", ge))
			return fallback, false
		}
	}
	switch {
	case !n.IsInt64() && n.Sign() > 0, n.IsInt64() && n.Int64() > math.MaxInt:
		return math.MaxInt, true
	case !n.IsInt64(), n.Int64() < math.MinInt:
		return math.MinInt, true
	}
	return int(n.Int64()), true
}

// boolean is a `bool | None` field.
func (f *fields) boolean(name string) *bool {
	v, ok := f.get(name, true)
	if !ok || f.surrogate(name, v) {
		return nil
	}
	b, msg := laxBool(v)
	if msg != "" {
		f.add(name, msg)
		return nil
	}
	return &b
}

// laxFloat is pydantic's float from a JSON value: numbers, booleans, and strings Python's
// float() would read (whitespace around, _ between digits, inf and nan).
func laxFloat(v pyjson.Value) (float64, string) {
	switch v.Kind {
	case pyjson.Bool:
		if v.Bool {
			return 1, ""
		}
		return 0, ""
	case pyjson.Number:
		return numberFloat(v.Num), ""
	case pyjson.String:
		if x, ok := parseFloat(v.Str); ok {
			return x, ""
		}
		return 0, msgFloatParse
	}
	return 0, msgNotNumber
}

// numberFloat is float() of a JSON number literal (json.loads' int or float).
func numberFloat(num string) float64 {
	switch num {
	case "NaN":
		return math.NaN()
	case "Infinity":
		return math.Inf(1)
	case "-Infinity":
		return math.Inf(-1)
	}
	x, err := strconv.ParseFloat(num, 64)
	if err != nil && !isRangeError(err) {
		return math.NaN() // unreachable: pyjson only makes valid literals
	}
	return x // ±Inf past the range, as Python's float('1e400')
}

func isRangeError(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// parseFloat reads a string as pydantic does for a float: stripped, an optional sign, then
// inf, infinity or nan in any case, or decimal digits (single underscores between digits)
// with an optional fraction and exponent.
func parseFloat(s string) (float64, bool) {
	s = strings.TrimFunc(s, text.IsSpace)
	body := strings.TrimLeft(s, "+-")
	if len(s)-len(body) > 1 {
		return 0, false
	}
	switch strings.ToLower(body) {
	case "inf", "infinity", "nan":
		x, err := strconv.ParseFloat(s, 64)
		return x, err == nil
	}
	clean, ok := decimalDigits(body)
	if !ok {
		return 0, false
	}
	x, err := strconv.ParseFloat(s[:len(s)-len(body)]+clean, 64)
	if err != nil && !isRangeError(err) {
		return 0, false
	}
	return x, true
}

// decimalDigits checks digits[.digits][e[+-]digits] (at least one digit in the mantissa,
// underscores only between two digits) and returns it without the underscores.
func decimalDigits(s string) (string, bool) {
	var b strings.Builder
	mantissa, dot, exp, expDigits := 0, false, false, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if exp {
				expDigits++
			} else {
				mantissa++
			}
		case c == '_':
			if i == 0 || i == len(s)-1 || !isDigit(s[i-1]) || !isDigit(s[i+1]) {
				return "", false
			}
			continue
		case c == '.' && !dot && !exp:
			dot = true
		case (c == 'e' || c == 'E') && !exp && mantissa > 0:
			exp = true
			if i+1 < len(s) && (s[i+1] == '+' || s[i+1] == '-') {
				b.WriteByte(c)
				i++
				c = s[i]
			}
		default:
			return "", false
		}
		b.WriteByte(c)
	}
	if mantissa == 0 || (exp && expDigits == 0) {
		return "", false
	}
	return b.String(), true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// laxInt is pydantic's int from a JSON value: integers, booleans, integral floats, and
// strings of digits (stripped, a sign, _ between digits, trailing ".0…" allowed).
func laxInt(v pyjson.Value) (*big.Int, string) {
	switch v.Kind {
	case pyjson.Bool:
		if v.Bool {
			return big.NewInt(1), ""
		}
		return big.NewInt(0), ""
	case pyjson.Number:
		if n, ok := numberInt(v.Num); ok {
			return n, ""
		}
		x := numberFloat(v.Num)
		switch {
		case math.IsNaN(x) || math.IsInf(x, 0):
			return nil, msgNotFinite
		case x != math.Trunc(x):
			return nil, msgIntFraction
		case x >= 1<<63 || x < -(1<<63):
			return nil, msgIntTooBig
		}
		return big.NewInt(int64(x)), ""
	case pyjson.String:
		if n, ok := parseInt(v.Str); ok {
			return n, ""
		}
		return nil, msgIntParse
	}
	return nil, msgNotInt
}

// numberInt is json.loads' int of an integer literal (no fraction, no exponent).
func numberInt(num string) (*big.Int, bool) {
	if strings.ContainsAny(num, ".eEIN") {
		return nil, false
	}
	n, ok := new(big.Int).SetString(num, 10)
	return n, ok
}

// parseInt reads a string as pydantic does for an int.
func parseInt(s string) (*big.Int, bool) {
	s = strings.TrimFunc(s, text.IsSpace)
	if whole, frac, found := strings.Cut(s, "."); found {
		if frac == "" || strings.Trim(frac, "0") != "" {
			return nil, false
		}
		s = whole
	}
	body := strings.TrimLeft(s, "+-")
	if len(s)-len(body) > 1 || body == "" {
		return nil, false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c == '_' && i > 0 && i < len(body)-1 && isDigit(body[i-1]) && isDigit(body[i+1]) {
			continue
		}
		if !isDigit(c) {
			return nil, false
		}
	}
	return new(big.Int).SetString(s[:len(s)-len(body)]+strings.ReplaceAll(body, "_", ""), 10)
}

// laxBool is pydantic's bool from a JSON value.
func laxBool(v pyjson.Value) (bool, string) {
	switch v.Kind {
	case pyjson.Bool:
		return v.Bool, ""
	case pyjson.Number:
		n, ok := numberInt(v.Num)
		if !ok {
			x := numberFloat(v.Num)
			if x != math.Trunc(x) || math.IsInf(x, 0) || x >= 1<<63 || x < -(1<<63) {
				return false, msgNotBool
			}
			n = big.NewInt(int64(x))
		}
		switch {
		case !n.IsInt64():
			return false, msgNotBool
		case n.Int64() == 0:
			return false, ""
		case n.Int64() == 1:
			return true, ""
		}
		return false, msgBoolParse
	case pyjson.String:
		switch strings.ToLower(v.Str) {
		case "0", "f", "n", "no", "off", "false":
			return false, ""
		case "1", "t", "y", "yes", "on", "true":
			return true, ""
		}
		return false, msgBoolParse
	}
	return false, msgNotBool
}

// expected is pydantic's list of allowed values: 'a', 'b' or 'c'.
func expected(choices []string) string {
	quoted := make([]string, len(choices))
	for i, c := range choices {
		quoted[i] = "'" + c + "'"
	}
	if len(quoted) == 1 {
		return quoted[0]
	}
	return strings.Join(quoted[:len(quoted)-1], ", ") + " or " + quoted[len(quoted)-1]
}

var (
	pitchBounds       = bounds{-0.75, 0.75, "-0.75", "0.75"}
	paceBounds        = bounds{0.3, 3.0, "0.3", "3"}
	temperatureBounds = bounds{0.01, 1.0, "0.01", "1"}
)

// parseConfig validates a config message's data (legacy's TtsConfig.model_validate(data or
// {})): the config, or the message the session answers with ("config message: …").
func parseConfig(data map[string]pyjson.Value) (VoiceConfig, string) {
	f := &fields{data: data}
	var c VoiceConfig
	c.LanguageCode = f.literal("language_code", false, CoreLanguages)
	c.Speaker = f.str("speaker", 64)
	c.Pitch = f.float("pitch", pitchBounds)
	c.Pace = f.float("pace", paceBounds)
	c.Loudness = f.float("loudness", paceBounds)
	if rate, ok := f.integer("speech_sample_rate", true, 0, 0, -1); ok {
		c.SpeechSampleRate = &rate
	}
	c.EnablePreprocessing = f.boolean("enable_preprocessing")
	c.OutputAudioCodec = f.literal("output_audio_codec", true, Codecs)
	c.OutputAudioBitrate = f.literal("output_audio_bitrate", true, Bitrates)
	c.MinBufferSize, _ = f.integer("min_buffer_size", false, 50, 1, 1000)
	c.MaxChunkLength, _ = f.integer("max_chunk_length", false, 150, 20, 500)
	c.DictID = f.str("dict_id", 128)
	c.Model = f.literal("model", true, Models)
	c.Temperature = f.float("temperature", temperatureBounds)
	if len(f.problems) > 0 {
		return VoiceConfig{}, "config message: " + f.message()
	}
	return c, ""
}

// maxTextChars is the longest text message (legacy's _Text: 1-2500 characters).
const maxTextChars = 2500

// parseText validates a text message's data (legacy's _Text): the text and its length in
// code points, or the message the session answers with ("text message: …").
func parseText(data map[string]pyjson.Value) (string, int, string) {
	v, ok := data["text"]
	problem := ""
	n := 0
	switch {
	case !ok:
		problem = msgRequired
	case v.Kind == pyjson.String && v.LoneSurrogate:
		problem = msgSurrogate
	case v.Kind != pyjson.String:
		problem = msgNotString
	default:
		n = utf8.RuneCountInString(v.Str)
		if n < 1 {
			problem = "String should have at least 1 character"
		} else if n > maxTextChars {
			problem = fmt.Sprintf("String should have at most %d characters", maxTextChars)
		}
	}
	if problem != "" {
		return "", 0, "text message: text: " + problem
	}
	return v.Str, n, ""
}

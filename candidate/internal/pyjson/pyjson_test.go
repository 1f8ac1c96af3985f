package pyjson

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"testing"
)

// TestDecodeMatchesCPython replays testdata/decode_cases.json: what CPython's json.loads made
// of each body (gen/gen_cases.py), including the code-point position of every syntax error.
func TestDecodeMatchesCPython(t *testing.T) {
	raw, err := os.ReadFile("testdata/decode_cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct{ Body, Want string }
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	for i, tc := range cases {
		body, err := base64.StdEncoding.DecodeString(tc.Body)
		if err != nil {
			t.Fatal(err)
		}
		if got := outcome(body); got != tc.Want {
			t.Errorf("case %d %q: got %s, CPython %s", i, truncate(body), got, tc.Want)
		}
	}
}

func outcome(body []byte) string {
	v, err := Decode(body)
	var syntax *SyntaxError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("syntax %d", syntax.Pos)
	case err != nil:
		return "undecodable"
	}
	return [...]string{"null", "bool", "number", "string", "array", "object"}[v.Kind]
}

func truncate(b []byte) string {
	if len(b) > 60 {
		return string(b[:60]) + "…"
	}
	return string(b)
}

func TestDecodeValues(t *testing.T) {
	v, err := Decode([]byte(`{"input": "a\u00e9\ud83d\ude00", "x": null, "b": true, "input2": "\ud800", "n": [1, 2]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Fields["input"]; got.Kind != String || got.Str != "aé😀" || got.LoneSurrogate {
		t.Errorf("input = %+v", got)
	}
	if got := v.Fields["input2"]; !got.LoneSurrogate || got.Str != "\uFFFD" {
		t.Errorf("a lone surrogate must be flagged: %+v", got)
	}
	if v.Fields["x"].Kind != Null || !v.Fields["b"].Bool || len(v.Fields["n"].Items) != 2 {
		t.Errorf("fields = %+v", v.Fields)
	}
	dup, err := Decode([]byte(`{"a": 1, "a": "last"}`))
	if err != nil || dup.Fields["a"].Str != "last" {
		t.Errorf("the last duplicate key wins, as in Python: %+v %v", dup, err)
	}
}

func TestDeepNestingIsUndecodable(t *testing.T) {
	body := make([]byte, 0, 4000)
	for i := 0; i < 2000; i++ {
		body = append(body, '[')
	}
	for i := 0; i < 2000; i++ {
		body = append(body, ']')
	}
	if _, err := Decode(body); !errors.Is(err, ErrUndecodable) {
		t.Errorf("2000 levels: got %v, want ErrUndecodable (CPython's RecursionError)", err)
	}
}

func TestNumbersAsWrittenAndKeysInDictOrder(t *testing.T) {
	v, err := Decode([]byte(`{"b": -0, "a": 2.5e3, "c": NaN, "b": -Infinity, "d": [1E400, 0.10]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(v.Keys); got != "[b a c d]" {
		t.Errorf("keys = %s, want Python's dict order [b a c d] (a repeated key keeps its place)", got)
	}
	for key, want := range map[string]string{"a": "2.5e3", "b": "-Infinity", "c": "NaN"} {
		if got := v.Fields[key].Num; got != want {
			t.Errorf("%s: Num = %q, want %q", key, got, want)
		}
	}
	if items := v.Fields["d"].Items; items[0].Num != "1E400" || items[1].Num != "0.10" {
		t.Errorf("d = %+v", items)
	}
}

func TestAKeyWithALoneSurrogateIsFlagged(t *testing.T) {
	v, err := Decode([]byte(`{"a\udc00": 1, "b": {"c": 2}}`))
	if err != nil {
		t.Fatal(err)
	}
	if !v.KeySurrogate || v.Fields["b"].KeySurrogate || v.Keys[0] != "a\uFFFD" {
		t.Errorf("got %+v", v)
	}
}

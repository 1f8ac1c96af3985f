package pyrepr

import (
	"encoding/json"
	"os"
	"testing"
	"unicode/utf8"
)

// TestStrAsPython replays testdata/repr_cases.json (Python's own repr(), gen/gen_tables.py).
func TestStrAsPython(t *testing.T) {
	raw, err := os.ReadFile("testdata/repr_cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases [][2]string
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 15 {
		t.Fatalf("%d cases", len(cases))
	}
	for _, c := range cases {
		if got := Str(c[0]); got != c[1] {
			t.Errorf("Str(%q) = %s, Python %s", c[0], got, c[1])
		}
	}
}

// TestPrintableFollowsPythonNotGo: where Go's newer Unicode tables and legacy's Python's
// disagree, Python's win (a character unassigned in Unicode 14 is escaped).
func TestPrintableFollowsPythonNotGo(t *testing.T) {
	for r, want := range map[rune]bool{'a': true, ' ': true, 0x7f: false, 0xa0: false, 0x200b: false, 'क': true, 0x0378: false} {
		if IsPrintable(r) != want {
			t.Errorf("IsPrintable(%U) = %v", r, !want)
		}
	}
	if !utf8.ValidString(Str("\xff")) {
		t.Error("invalid UTF-8 is repaired, as Go ranges over it")
	}
}

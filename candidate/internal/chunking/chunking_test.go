package chunking

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"banyan/candidate/internal/text"
)

type splitCase struct {
	Name     string   `json:"name"`
	Text     string   `json:"text"`
	MaxChars int      `json:"max_chars"`
	Chunks   []string `json:"chunks"`
}

// TestSplitAsLegacy replays testdata/split_cases.json (legacy's split_text, run by
// gen/gen_cases.py).
func TestSplitAsLegacy(t *testing.T) {
	raw, err := os.ReadFile("testdata/split_cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []splitCase
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("no cases")
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			got := Split(tc.Text, tc.MaxChars)
			if len(got) == 0 && len(tc.Chunks) == 0 {
				return
			}
			if !reflect.DeepEqual(got, tc.Chunks) {
				t.Errorf("Split(%q, %d)\n got %q\nlegacy %q", tc.Text, tc.MaxChars, got, tc.Chunks)
			}
		})
	}
}

func TestSplitKeepsEveryCharacterWithinTheLimit(t *testing.T) {
	texts := []string{
		"One. Two! Three? Four। Five॥ Six",
		strings.Repeat("मेरा नाम राहुल है। ", 40),
		strings.Repeat("x", 1234) + " tail. " + strings.Repeat("word ", 300),
	}
	for _, s := range texts {
		for _, limit := range []int{1, 2, 7, 50, 500} {
			chunks := Split(s, limit)
			for _, c := range chunks {
				if n := utf8.RuneCountInString(c); n == 0 || n > limit {
					t.Fatalf("limit %d: chunk of %d characters: %q", limit, n, c)
				}
			}
			joined := strings.Join(strings.FieldsFunc(strings.Join(chunks, ""), text.IsSpace), "")
			want := strings.Join(strings.FieldsFunc(s, text.IsSpace), "")
			if joined != want {
				t.Fatalf("limit %d: the chunks lost or reordered characters", limit)
			}
		}
	}
}

func TestSplitRefusesALimitBelowOne(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Split(_, 0) did not panic")
		}
	}()
	Split("a", 0)
}

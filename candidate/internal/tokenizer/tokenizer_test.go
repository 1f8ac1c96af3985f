package tokenizer

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"

	"banyan/candidate/internal/casefile"
)

var (
	loadOnce sync.Once
	loaded   *Encoding
	loadErr  error
)

func cl100k(t *testing.T) *Encoding {
	t.Helper()
	loadOnce.Do(func() { loaded, loadErr = Load() })
	if loadErr != nil {
		t.Fatal(loadErr)
	}
	return loaded
}

// TestLegacyCases replays the token ids legacy's tiktoken gave (gen/gen_tokenizer.py).
func TestLegacyCases(t *testing.T) {
	raw, err := casefile.Read("testdata/cases.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Text   string `json:"text"`
		Tokens []int  `json:"tokens"`
	}
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	enc := cl100k(t)
	failed := 0
	for _, c := range cases {
		got := enc.Encode(c.Text)
		if !slices.Equal(got, c.Tokens) && (len(got) != 0 || len(c.Tokens) != 0) {
			failed++
			if failed <= 20 {
				t.Errorf("Encode(%q) = %v, legacy %v (pieces %q)", c.Text, got, c.Tokens, split(c.Text))
			}
			continue
		}
		if n := enc.Count(c.Text); n != len(c.Tokens) {
			t.Errorf("Count(%q) = %d, legacy %d", c.Text, n, len(c.Tokens))
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d cases differ", failed, len(cases))
	}
}

func TestSplitCoversTheText(t *testing.T) {
	for _, text := range []string{"", "a", " \n ", "don't 123456 !!", "x\xffy", "नमस्ते"} {
		if got := strings.Join(split(text), ""); got != text {
			t.Errorf("split(%q) joined = %q", text, got)
		}
	}
}

func TestPieces(t *testing.T) {
	for _, c := range []struct {
		text string
		want []string
	}{
		{"don't", []string{"don", "'t"}},
		{"hello world", []string{"hello", " world"}},
		{"a  b", []string{"a", " ", " b"}},
		{"a \n\n b", []string{"a", " \n\n", " b"}},
		{"12345", []string{"123", "45"}},
		{" !!\n\nx", []string{" !!\n\n", "x"}},
		{"end  ", []string{"end", "  "}},
		{"'ſa", []string{"'ſ", "a"}},
	} {
		if got := split(c.text); !slices.Equal(got, c.want) {
			t.Errorf("split(%q) = %q, want %q", c.text, got, c.want)
		}
	}
}

// A long run of one letter is one piece; the merge must stay fast on it.
func TestLongPieceIsFast(t *testing.T) {
	enc := cl100k(t)
	if n := enc.Count(strings.Repeat("a", 200_000)); n == 0 {
		t.Fatal("no tokens")
	}
}

func BenchmarkCountSentence(b *testing.B) {
	enc, err := Load()
	if err != nil {
		b.Fatal(err)
	}
	text := strings.Repeat("नमस्ते, मुझे दिल्ली के बारे में बताइए। Hello there, how are you? ", 20)
	b.ResetTimer()
	for range b.N {
		enc.Count(text)
	}
}

package chat

import (
	"encoding/json"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"banyan/candidate/internal/casefile"
	"banyan/candidate/internal/pyjson"
	"banyan/candidate/internal/tokenizer"
)

var (
	encOnce sync.Once
	enc     *tokenizer.Encoding
	encErr  error
)

func cl100k(t *testing.T) *tokenizer.Encoding {
	t.Helper()
	encOnce.Do(func() { enc, encErr = tokenizer.Load() })
	if encErr != nil {
		t.Fatal(encErr)
	}
	return enc
}

// legacyCase is one request of testdata/cases.json with what legacy did with it.
type legacyCase struct {
	Name       string            `json:"name"`
	Body       string            `json:"body"`
	Headers    [][2]string       `json:"headers"`
	Status     int               `json:"status"`
	Response   string            `json:"response"`
	Billing    []json.RawMessage `json:"billing"`
	ModelCalls []struct {
		Payload string `json:"payload"`
	} `json:"model_calls"`
}

func loadCases(t *testing.T) []legacyCase {
	t.Helper()
	raw, err := casefile.Read("testdata/cases.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	var cases []legacyCase
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	return cases
}

func (c legacyCase) contentType() string {
	for _, h := range c.Headers {
		if h[0] == "content-type" {
			return h[1]
		}
	}
	return ""
}

// TestLegacyRequests replays legacy's validation messages, the model it looked up, the
// estimate it held (prompt tokens and the most tokens out) and the bytes it sent the model.
func TestLegacyRequests(t *testing.T) {
	words := cl100k(t)
	checked := 0
	for _, c := range loadCases(t) {
		if c.contentType() != "application/json" {
			continue // the route's business (readBody)
		}
		v, err := pyjson.Decode([]byte(c.Body))
		if err != nil || v.Kind != pyjson.Object {
			continue
		}
		checked++
		req, problems := Parse(v.Fields)
		var legacy struct {
			Error struct{ Message string }
		}
		_ = json.Unmarshal([]byte(c.Response), &legacy)
		if c.Status == 422 {
			if got := strings.Join(problems, "; "); got != legacy.Error.Message {
				t.Errorf("%s: problems\n got  %s\n want %s", c.Name, got, legacy.Error.Message)
			}
			continue
		}
		if problems != nil {
			t.Errorf("%s: problems %v, legacy accepted it (%d)", c.Name, problems, c.Status)
			continue
		}
		card, refusal := Lookup(req.Model)
		if refusal != "" {
			if c.Status != 400 || refusal != legacy.Error.Message {
				t.Errorf("%s: refusal %q, legacy %d %q", c.Name, refusal, c.Status, legacy.Error.Message)
			}
			continue
		}
		prompt := PromptTokens(words, req)
		budget := Budget(card, prompt, req.Limit)
		var authorize struct {
			Call     string           `json:"call"`
			Model    string           `json:"model"`
			Estimate [][2]json.Number `json:"estimate"`
		}
		if len(c.Billing) > 0 {
			_ = json.Unmarshal(c.Billing[0], &authorize)
			want := [2]string{string(authorize.Estimate[0][1]), string(authorize.Estimate[1][1])}
			got := [2]string{strconv.Itoa(prompt), strconv.Itoa(MostTokensOut(card, prompt, budget))}
			if got != want || authorize.Model != card.ID {
				t.Errorf("%s: estimate (in, out) %v for %s, legacy %v for %s", c.Name, got, card.ID, want, authorize.Model)
			}
		}
		payload, err := Payload(req, budget)
		switch {
		case len(c.ModelCalls) == 0 && c.Status == 500:
			if err == nil {
				t.Errorf("%s: payload encoded, legacy's encoder failed (500)", c.Name)
			}
		case len(c.ModelCalls) == 1:
			if string(payload) != c.ModelCalls[0].Payload {
				t.Errorf("%s: payload\n got  %s\n want %s", c.Name, payload, c.ModelCalls[0].Payload)
			}
		}
	}
	if checked < 100 {
		t.Errorf("only %d cases checked", checked)
	}
}

// TestLegacyChunks replays legacy's StreamWriter and collect on event sequences.
func TestLegacyChunks(t *testing.T) {
	raw, err := os.ReadFile("testdata/chunks.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name         string `json:"name"`
		IncludeUsage bool   `json:"include_usage"`
		Events       []struct {
			Type             string  `json:"type"`
			Text             string  `json:"text"`
			Tokens           int     `json:"tokens"`
			ToolID           *string `json:"tool_id"`
			ToolName         *string `json:"tool_name"`
			FinishReason     string  `json:"finish_reason"`
			CompletionTokens int     `json:"completion_tokens"`
		} `json:"events"`
		Frames     []Frame `json:"frames"`
		Completion string  `json:"completion"`
	}
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	identity := Identity{ID: "chatcmpl-0123456789abcdef01234567", Created: 1767225600, Model: "sarvam-m"}
	for _, c := range cases {
		var events []Event
		for _, e := range c.Events {
			if e.Type == "end" {
				events = append(events, End{e.FinishReason, e.CompletionTokens})
			} else {
				events = append(events, Delta{e.Text, e.Tokens, e.ToolID, e.ToolName})
			}
		}
		w := NewStreamWriter(identity, 11, c.IncludeUsage)
		frames := []Frame{w.Opening()}
		finish := "length"
		for _, e := range events {
			if end, ok := e.(End); ok {
				finish = end.FinishReason
				break
			}
			frames = append(frames, w.Delta(e.(Delta)))
		}
		frames = append(frames, w.Closing(finish)...)
		if len(frames) != len(c.Frames) {
			t.Errorf("%s: %d frames, legacy %d", c.Name, len(frames), len(c.Frames))
			continue
		}
		for i := range frames {
			if frames[i] != c.Frames[i] {
				t.Errorf("%s frame %d:\n got  %+v\n want %+v", c.Name, i, frames[i], c.Frames[i])
			}
		}
		if got, _ := Completion(identity, 11, events); got != c.Completion {
			t.Errorf("%s completion:\n got  %s\n want %s", c.Name, got, c.Completion)
		}
	}
}

func TestFloatRepr(t *testing.T) {
	for f, want := range map[float64]string{
		1: "1.0", 0.1: "0.1", 1e16: "1e+16", 1e15: "1000000000000000.0", 0.0001: "0.0001",
		0.00001: "1e-05", 1.5e300: "1.5e+300", -2.5: "-2.5", 123456789.125: "123456789.125",
		math.Copysign(0, -1): "-0.0", math.Inf(1): "inf", 5e-324: "5e-324",
		9007199254740993: "9007199254740992.0",
	} {
		if got := floatRepr(f); got != want {
			t.Errorf("floatRepr(%v) = %q, want %q", f, got, want)
		}
	}
}

package chat

import (
	"math/big"
	"strings"

	"banyan/candidate/internal/pyjson"
)

// Counter counts tokens of text (tokenizer.Encoding: cl100k_base, as legacy).
type Counter interface {
	Count(text string) int
}

// How legacy/inference/tokenizer.py counts a chat prompt (OpenAI's cookbook rule for ChatML):
// framing per message, one more for a name, the reply's priming, a flat price per image.
const (
	perMessage   = 3
	perName      = 1
	replyPriming = 3
	imageTokens  = 85
)

// PromptTokens is legacy's Tokenizer.prompt_tokens(messages, tools, response_format): the
// tokens the request puts in front of the model, which legacy holds and bills as tokens_in.
func PromptTokens(c Counter, req *Request) int {
	total := replyPriming
	for _, m := range req.Messages {
		total += perMessage + c.Count(m.Fields["role"].Str)
		if content, ok := m.Fields["content"]; ok {
			total += contentTokens(c, content)
		}
		if name, ok := m.Fields["name"]; ok && truthy(name) {
			total += perName + c.Count(pyStr(name))
		}
		if calls, ok := m.Fields["tool_calls"]; ok && calls.Kind == pyjson.Array {
			for _, call := range calls.Items {
				total += c.Count(sortedDump(call))
			}
		}
		if id, ok := m.Fields["tool_call_id"]; ok && truthy(id) {
			total += c.Count(pyStr(id))
		}
	}
	if req.tools != nil && len(req.tools.Items) > 0 {
		total += c.Count(sortedDump(*req.tools))
	}
	if f := req.responseFormat; f != nil && len(f.Keys) > 0 {
		if t, ok := f.Fields["type"]; !ok || t.Kind != pyjson.String || t.Str != "text" {
			total += c.Count(sortedDump(*f))
		}
	}
	return total
}

// contentTokens is _content_tokens: a string's tokens; for a list, each part's text, 85 for
// an image part, or the tokens of str() of a part that is not an object; nothing else counts.
func contentTokens(c Counter, content pyjson.Value) int {
	switch content.Kind {
	case pyjson.String:
		return c.Count(content.Str)
	case pyjson.Array:
	default:
		return 0
	}
	total := 0
	for _, part := range content.Items {
		if part.Kind != pyjson.Object {
			total += c.Count(pyStr(part))
			continue
		}
		if text, ok := part.Fields["text"]; ok && text.Kind == pyjson.String {
			total += c.Count(text.Str)
		} else if t, ok := part.Fields["type"]; ok && strings.Contains(pyStr(t), "image") {
			total += imageTokens
		}
	}
	return total
}

// truthy is Python's bool() of the value.
func truthy(v pyjson.Value) bool {
	switch v.Kind {
	case pyjson.Bool:
		return v.Bool
	case pyjson.Number:
		if isInt(v) {
			return intText(v.Num) != "0"
		}
		return floatOf(v.Num) != 0 // NaN is true
	case pyjson.String:
		return v.Str != ""
	case pyjson.Array:
		return len(v.Items) > 0
	case pyjson.Object:
		return len(v.Keys) > 0
	}
	return false
}

func sortedDump(v pyjson.Value) string {
	var b strings.Builder
	_ = dump(&b, v, sortedJSON) // allows everything
	return b.String()
}

// Budget is output_budget: the most tokens the request may produce, its limit as asked (a
// limit over the context is kept, so the model refuses it), else the model's default bounded
// by the context left, never below 0.
func Budget(card Card, prompt int, limit *big.Int) *big.Int {
	if limit != nil {
		return limit
	}
	return big.NewInt(int64(max(0, min(card.DefaultMaxTokens, card.ContextTokens-prompt))))
}

// MostTokensOut is the completion estimate legacy holds: the budget, never more than the
// context leaves.
func MostTokensOut(card Card, prompt int, budget *big.Int) int {
	left := max(0, card.ContextTokens-prompt)
	if budget.Cmp(big.NewInt(int64(left))) < 0 {
		return int(budget.Int64())
	}
	return left
}

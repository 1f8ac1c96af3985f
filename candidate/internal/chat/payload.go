package chat

import (
	"math/big"
	"strings"

	"banyan/candidate/internal/pyjson"
)

// Payload is the body legacy POSTs to the model's /v1/generate (its _payload, encoded as
// httpx encodes json=): the request's model, messages, stop, seed, temperature, tools,
// tool_choice and response_format in that order, those absent or null left out, then the
// budget as max_tokens and "stream": true. Byte for byte legacy's, so the model (seeded by
// what it is sent) answers both the same.
//
// It fails with a value JSON over UTF-8 cannot carry (NaN, Infinity, a lone surrogate), where
// legacy's encoder raises before the call: legacy answers that 500.
func Payload(req *Request, budget *big.Int) ([]byte, error) {
	var b strings.Builder
	field := func(name string, v *pyjson.Value) error {
		if v == nil {
			return nil
		}
		b.WriteString(`,"` + name + `":`)
		return dump(&b, *v, compactJSON)
	}
	b.WriteString(`{"model":`)
	writeJSONString(&b, req.Model)
	messages := pyjson.Value{Kind: pyjson.Array, Items: req.Messages}
	if err := field("messages", &messages); err != nil {
		return nil, err
	}
	if err := field("stop", req.stop); err != nil {
		return nil, err
	}
	if req.seed != nil {
		b.WriteString(`,"seed":` + req.seed.String())
	}
	if req.temperature != nil {
		b.WriteString(`,"temperature":` + floatRepr(*req.temperature))
	}
	for _, f := range []struct {
		name  string
		value *pyjson.Value
	}{{"tools", req.tools}, {"tool_choice", req.toolChoice}, {"response_format", req.responseFormat}} {
		if err := field(f.name, f.value); err != nil {
			return nil, err
		}
	}
	b.WriteString(`,"max_tokens":` + budget.String() + `,"stream":true}`)
	return []byte(b.String()), nil
}

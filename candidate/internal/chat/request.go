package chat

import (
	"fmt"
	"math"
	"math/big"
	"strconv"

	"banyan/candidate/internal/pyjson"
)

// Request is a chat completion request that passed legacy's validation (ChatCompletionRequest
// in legacy/chat/schemas.py: strict JSON types, unknown keys ignored, null the same as
// absent). Messages, tools, tool_choice and response_format stay the JSON they came as: the
// model reads them as they are.
type Request struct {
	Model        string
	Messages     []pyjson.Value // each an object with a string role
	Stream       bool
	IncludeUsage bool // stream_options.include_usage
	// Limit is max_tokens, else max_completion_tokens (its alias); nil when neither is given.
	Limit *big.Int

	stop, tools, toolChoice, responseFormat *pyjson.Value
	seed                                    *big.Int
	temperature                             *float64
}

// Pydantic's messages.
const (
	msgRequired  = "Field required"
	msgString    = "Input should be a valid string"
	msgSurrogate = "Input should be a valid string, unable to parse raw data as a unicode string"
	msgBool      = "Input should be a valid boolean"
	msgInt       = "Input should be a valid integer"
	msgNumber    = "Input should be a valid number"
	msgList      = "Input should be a valid list"
	msgDict      = "Input should be a valid dictionary"
	msgModel     = "Input should be a valid dictionary or object to extract fields from"
	toolChoices  = "literal['none','auto','required']"
)

// problems collects validation failures in pydantic's order, each "body.<loc>: <message>".
type problems []string

func (p *problems) add(loc, message string) { *p = append(*p, "body."+loc+": "+message) }

// Parse validates a decoded JSON object as legacy's ChatCompletionRequest does. It returns
// the request, or the problems FastAPI would list in its 422 (joined with "; ").
func Parse(body map[string]pyjson.Value) (*Request, []string) {
	var p problems
	req := &Request{}
	present := func(name string) (pyjson.Value, bool) {
		v, ok := body[name]
		return v, ok && v.Kind != pyjson.Null
	}
	// model: str, min_length=1, required (null is a type error then).
	if v, ok := body["model"]; !ok {
		p.add("model", msgRequired)
	} else if v.Kind != pyjson.String {
		p.add("model", msgString)
	} else if v.LoneSurrogate {
		p.add("model", msgSurrogate) // the length check reads it as UTF-8
	} else if v.Str == "" {
		p.add("model", "String should have at least 1 character")
	} else {
		req.Model = v.Str
	}
	// messages: list[dict[str, Any]], min_length=1, required; then every one needs a role.
	if v, ok := body["messages"]; !ok {
		p.add("messages", msgRequired)
	} else if messages, ok := dictList(&p, "messages", v); ok {
		if len(messages) == 0 {
			p.add("messages", "List should have at least 1 item after validation, not 0")
		} else if i := firstWithoutRole(messages); i >= 0 {
			p.add("messages", fmt.Sprintf("Value error, messages[%d] needs a role (system, user, assistant…)", i))
		} else {
			req.Messages = messages
		}
	}
	maxTokens := positiveInt(&p, "max_tokens", body, 1, 0)
	maxCompletionTokens := positiveInt(&p, "max_completion_tokens", body, 1, 0)
	if v, ok := present("stream"); ok {
		if v.Kind != pyjson.Bool {
			p.add("stream", msgBool)
		}
		req.Stream = v.Bool
	}
	if v, ok := present("stream_options"); ok {
		if v.Kind != pyjson.Object {
			p.add("stream_options", msgModel)
		} else if usage, ok := v.Fields["include_usage"]; ok && usage.Kind != pyjson.Null {
			if usage.Kind != pyjson.Bool {
				p.add("stream_options.include_usage", msgBool)
			}
			req.IncludeUsage = usage.Bool
		}
	}
	if v, ok := present("stop"); ok && stopProblems(&p, v) {
		req.stop = &v
	}
	if v, ok := present("seed"); ok {
		if n, ok := integralInt(v); ok {
			req.seed = n
		} else {
			p.add("seed", msgInt)
		}
	}
	req.temperature = boundedFloat(&p, "temperature", body, 2)
	boundedFloat(&p, "top_p", body, 1)
	positiveInt(&p, "n", body, 1, 1)
	if v, ok := present("tools"); ok {
		if _, ok := dictList(&p, "tools", v); ok {
			req.tools = &v
		}
	}
	if v, ok := present("tool_choice"); ok {
		if v.Kind == pyjson.Object || (v.Kind == pyjson.String && !v.LoneSurrogate && isToolChoice(v.Str)) {
			req.toolChoice = &v
		} else {
			literal := "Input should be 'none', 'auto' or 'required'"
			if v.Kind == pyjson.String && v.LoneSurrogate {
				literal = msgSurrogate
			}
			p.add("tool_choice."+toolChoices, literal)
			p.add("tool_choice.dict[str,any]", msgDict)
		}
	}
	if v, ok := present("response_format"); ok {
		if v.Kind != pyjson.Object {
			p.add("response_format", msgDict)
		} else if msg := formatProblem(v); msg != "" {
			p.add("response_format", "Value error, "+msg)
		} else {
			req.responseFormat = &v
		}
	}
	if len(p) > 0 {
		return nil, p
	}
	req.Limit = maxTokens
	if req.Limit == nil {
		req.Limit = maxCompletionTokens
	}
	return req, nil
}

// dictList is list[dict[str, Any]]: the items, or false after recording what is wrong.
func dictList(p *problems, name string, v pyjson.Value) ([]pyjson.Value, bool) {
	if v.Kind != pyjson.Array {
		p.add(name, msgList)
		return nil, false
	}
	ok := true
	for i, item := range v.Items {
		if item.Kind != pyjson.Object {
			p.add(fmt.Sprintf("%s.%d", name, i), msgDict)
			ok = false
		}
	}
	return v.Items, ok
}

func firstWithoutRole(messages []pyjson.Value) int {
	for i, m := range messages {
		if role, ok := m.Fields["role"]; !ok || role.Kind != pyjson.String {
			return i
		}
	}
	return -1
}

// positiveInt is `Annotated[int, Field(ge=lo[, le=hi]), IntegralFloat] | None` (hi 0: no
// upper bound): an integral float is that int; pydantic checks le before ge.
func positiveInt(p *problems, name string, body map[string]pyjson.Value, lo, hi int64) *big.Int {
	v, ok := body[name]
	if !ok || v.Kind == pyjson.Null {
		return nil
	}
	n, ok := integralInt(v)
	switch {
	case !ok:
		p.add(name, msgInt)
	case hi > 0 && n.Cmp(big.NewInt(hi)) > 0:
		p.add(name, fmt.Sprintf("Input should be less than or equal to %d", hi))
	case n.Cmp(big.NewInt(lo)) < 0:
		p.add(name, fmt.Sprintf("Input should be greater than or equal to %d", lo))
	default:
		return n
	}
	return nil
}

// boundedFloat is `float | None = Field(ge=0, le=hi)`, strict: an int or a float (an int
// too large for a float is not a number); le is checked before ge, so NaN fails le.
func boundedFloat(p *problems, name string, body map[string]pyjson.Value, hi float64) *float64 {
	v, ok := body[name]
	if !ok || v.Kind == pyjson.Null {
		return nil
	}
	if v.Kind != pyjson.Number {
		p.add(name, msgNumber)
		return nil
	}
	f := floatOf(v.Num)
	if isInt(v) && math.IsInf(f, 0) {
		p.add(name, msgNumber) // float(int) overflows
		return nil
	}
	switch {
	case !(f <= hi):
		p.add(name, "Input should be less than or equal to "+strconv.FormatFloat(hi, 'f', -1, 64))
	case !(f >= 0):
		p.add(name, "Input should be greater than or equal to 0")
	default:
		return &f
	}
	return nil
}

// stopProblems checks `str | list[str] | None` and the at-most-four rule; false after
// recording problems. (A lone surrogate passes: no constraint reads the text.)
func stopProblems(p *problems, v pyjson.Value) bool {
	switch v.Kind {
	case pyjson.String:
		return true
	case pyjson.Array:
		ok := true
		for _, item := range v.Items {
			ok = ok && item.Kind == pyjson.String
		}
		if ok {
			if len(v.Items) > 4 {
				p.add("stop", "Value error, at most 4 stop sequences")
				return false
			}
			return true
		}
		p.add("stop.str", msgString)
		for i, item := range v.Items {
			if item.Kind != pyjson.String {
				p.add(fmt.Sprintf("stop.list[str].%d", i), msgString)
			}
		}
	default:
		p.add("stop.str", msgString)
		p.add("stop.list[str]", msgList)
	}
	return false
}

func isToolChoice(s string) bool { return s == "none" || s == "auto" || s == "required" }

// formatProblem is legacy's _known_format: the type (text by default, also for {}) must be
// known, and json_schema needs its object.
func formatProblem(v pyjson.Value) string {
	kind := "text"
	if t, ok := v.Fields["type"]; ok {
		if t.Kind != pyjson.String || t.LoneSurrogate {
			return "type must be text, json_object or json_schema"
		}
		kind = t.Str
	}
	switch kind {
	case "text", "json_object":
		return ""
	case "json_schema":
		if schema, ok := v.Fields["json_schema"]; !ok || schema.Kind != pyjson.Object {
			return "json_schema needs {name, schema}"
		}
		return ""
	}
	return "type must be text, json_object or json_schema"
}

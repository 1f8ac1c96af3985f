package chat

import (
	"strconv"
	"strings"
)

// Model events turned into OpenAI-shaped results (legacy/chat/chunks.py): SSE frames for a
// stream, one chat.completion otherwise. Pure: the route feeds the events in and sends the
// frames out.
//
// A stream follows the convention both SDKs parse (sdk-contract §1.7, §2.3, gotcha 2): every
// event one "data: <json>\n\n" (json.dumps with its default separators, as legacy writes
// them); a role chunk; content or tool-call deltas; a chunk with an empty delta and the
// finish_reason; the usage chunk (choices: []) only when asked for; "data: [DONE]". Never an
// error event: sarvamai cannot parse one, so a stream that must end early ends like any other.

// Done is the stream's last frame.
const Done = "data: [DONE]\n\n"

// Event is what the model streams: a Delta, then one End.
type Event interface{ isEvent() }

// Delta is a piece of the model's answer: content text, or tool-call arguments; the first
// piece of a tool call names it (ToolID set, text empty).
type Delta struct {
	Text     string
	Tokens   int
	ToolID   *string
	ToolName *string
}

// End is the model's last event.
type End struct {
	FinishReason     string
	CompletionTokens int
}

func (Delta) isEvent() {}
func (End) isEvent()   {}

// Identity is what every chunk of one completion repeats.
type Identity struct {
	ID      string
	Created int64
	Model   string
}

// Frame is one SSE event and the completion tokens it delivers (so a stream cut short by
// the client bills the tokens of the frames it was sent).
type Frame struct {
	Data   string
	Tokens int
}

// StreamWriter turns one generation's events into frames and counts what it has framed.
type StreamWriter struct {
	identity         Identity
	promptTokens     int
	includeUsage     bool
	completionTokens int
	toolCalls        int
}

// NewStreamWriter starts the frames of one completion.
func NewStreamWriter(identity Identity, promptTokens int, includeUsage bool) *StreamWriter {
	return &StreamWriter{identity: identity, promptTokens: promptTokens, includeUsage: includeUsage}
}

// Opening is the role chunk.
func (w *StreamWriter) Opening() Frame {
	return w.frame(`{"role": "assistant", "content": ""}`, "", 0)
}

// Delta is the chunk of one model delta.
func (w *StreamWriter) Delta(d Delta) Frame {
	w.completionTokens += d.Tokens
	if d.ToolID != nil {
		w.toolCalls++
		call := `{"index": ` + strconv.Itoa(w.toolCalls-1) + `, "id": ` + jsonString(*d.ToolID) +
			`, "type": "function", "function": {"name": ` + nullable(d.ToolName) + `, "arguments": ` +
			jsonString(d.Text) + `}}`
		return w.frame(`{"tool_calls": [`+call+`]}`, "", d.Tokens)
	}
	if w.toolCalls > 0 {
		call := `{"index": ` + strconv.Itoa(w.toolCalls-1) + `, "function": {"arguments": ` + jsonString(d.Text) + `}}`
		return w.frame(`{"tool_calls": [`+call+`]}`, "", d.Tokens)
	}
	return w.frame(`{"content": `+jsonString(d.Text)+`}`, "", d.Tokens)
}

// Closing is the last frames: the finish chunk, the usage chunk if asked for, [DONE].
// finishReason is the model's, or "length" for a stream that had to end before the model
// finished.
func (w *StreamWriter) Closing(finishReason string) []Frame {
	frames := []Frame{w.frame("{}", finishReason, 0)}
	if w.includeUsage {
		frames = append(frames, Frame{Data: "data: " + w.head() + `, "choices": [], "usage": ` + w.usage() + "}\n\n"})
	}
	return append(frames, Frame{Data: Done})
}

// CompletionTokens is what the frames so far carry.
func (w *StreamWriter) CompletionTokens() int { return w.completionTokens }

func (w *StreamWriter) head() string {
	return `{"id": ` + jsonString(w.identity.ID) + `, "object": "chat.completion.chunk", "created": ` +
		strconv.FormatInt(w.identity.Created, 10) + `, "model": ` + jsonString(w.identity.Model)
}

func (w *StreamWriter) usage() string {
	return usageJSON(w.promptTokens, w.completionTokens, false)
}

// usageJSON is the usage object, as json.dumps writes it by default or (compact) as a
// JSONResponse does.
func usageJSON(prompt, completion int, compact bool) string {
	sep, colon := ", ", ": "
	if compact {
		sep, colon = ",", ":"
	}
	return `{"prompt_tokens"` + colon + strconv.Itoa(prompt) + sep + `"completion_tokens"` + colon +
		strconv.Itoa(completion) + sep + `"total_tokens"` + colon + strconv.Itoa(prompt+completion) + "}"
}

func (w *StreamWriter) frame(delta, finishReason string, tokens int) Frame {
	finish := "null"
	if finishReason != "" {
		finish = jsonString(finishReason)
	}
	data := "data: " + w.head() + `, "choices": [{"index": 0, "delta": ` + delta +
		`, "logprobs": null, "finish_reason": ` + finish + `}], "usage": null}` + "\n\n"
	return Frame{Data: data, Tokens: tokens}
}

func nullable(s *string) string {
	if s == nil {
		return "null"
	}
	return jsonString(*s)
}

// Completion builds the whole chat.completion of a generation's events (the answer when not
// streaming), serialised as legacy's JSONResponse sends it, and the completion tokens it
// holds: the sum of the deltas' tokens. Without an End the finish_reason is "length".
func Completion(identity Identity, promptTokens int, events []Event) (string, int) {
	var text strings.Builder
	type call struct{ id, name, arguments string }
	var calls []*call
	completion := 0
	finish := "length"
	for _, event := range events {
		switch e := event.(type) {
		case End:
			finish = e.FinishReason
		case Delta:
			completion += e.Tokens
			if e.ToolID != nil {
				name := ""
				if e.ToolName != nil {
					name = *e.ToolName
				}
				calls = append(calls, &call{id: *e.ToolID, name: name})
			}
			if len(calls) > 0 {
				calls[len(calls)-1].arguments += e.Text
			} else {
				text.WriteString(e.Text)
			}
		}
	}
	content, toolCalls := jsonString(text.String()), "null"
	if len(calls) > 0 {
		content = "null"
		parts := make([]string, len(calls))
		for i, c := range calls {
			parts[i] = `{"id":` + jsonString(c.id) + `,"type":"function","function":{"name":` +
				jsonString(c.name) + `,"arguments":` + jsonString(c.arguments) + `}}`
		}
		toolCalls = "[" + strings.Join(parts, ",") + "]"
	}
	body := `{"id":` + jsonString(identity.ID) + `,"object":"chat.completion","created":` +
		strconv.FormatInt(identity.Created, 10) + `,"model":` + jsonString(identity.Model) +
		`,"choices":[{"index":0,"message":{"role":"assistant","content":` + content +
		`,"refusal":null,"tool_calls":` + toolCalls + `},"finish_reason":` + jsonString(finish) +
		`,"logprobs":null}],"usage":` + usageJSON(promptTokens, completion, true) + "}"
	return body, completion
}

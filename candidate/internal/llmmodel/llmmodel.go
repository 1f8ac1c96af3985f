// Package llmmodel is the candidate's client of the inference server's chat model
// (POST /v1/generate, legacy/inference/llm.py): one generation streamed as NDJSON, a start
// line, delta lines, an end line. Legacy's chat routes ask the same model
// (legacy/chat/model_client.py), so both implementations stream the same tokens.
//
// Starting a generation waits for the model's first line, so a refusal (the context limit,
// a tool_choice naming no tool) is known before anything reaches the customer. Errors, with
// legacy's messages:
//
//	*Refused      the model answered 4xx (the caller's mistake: the route answers 400)
//	*Unavailable  unreachable, 5xx, or a malformed stream (the route answers 502)
//
// Deadlines, as legacy's httpx client (httpx.Timeout(60.0, connect=5.0)) plus a cap: new
// connections dial under ConnectTimeout (NewTransport), the answer's headers and every line
// after them must come within ReadTimeout, and no generation outlives MaxDuration. Like
// legacy's client, it forwards no request headers.
package llmmodel

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"banyan/candidate/internal/chat"
	"banyan/candidate/internal/httpxtext"
	"banyan/candidate/internal/pyjson"
)

// The deadlines of a generation.
const (
	ConnectTimeout = 5 * time.Second
	ReadTimeout    = 60 * time.Second
	MaxDuration    = 10 * time.Minute
)

// maxLine bounds one NDJSON line (a delta is a few tokens; a refusal a sentence).
const maxLine = 1 << 20

// Refused is the model's 4xx: Message is its error message, passed to the customer.
type Refused struct {
	Status  int
	Message string
}

func (e *Refused) Error() string { return e.Message }

// Unavailable is a model that could not be asked or did not answer usably.
type Unavailable struct{ Message string }

func (e *Unavailable) Error() string { return e.Message }

// Client asks one inference server's chat model; safe for concurrent use.
type Client struct {
	url         string
	http        *http.Client
	readTimeout time.Duration
	maxDuration time.Duration
}

// New returns a client of the model at baseURL (the inference server); httpClient should use
// NewTransport.
func New(baseURL string, httpClient *http.Client) *Client {
	return &Client{
		url: strings.TrimRight(baseURL, "/") + "/v1/generate", http: httpClient,
		readTimeout: ReadTimeout, maxDuration: MaxDuration,
	}
}

// NewTransport is base (cloned) dialing new connections under ConnectTimeout and waiting at
// most ReadTimeout for an answer's headers.
func NewTransport(base *http.Transport) *http.Transport {
	t := base.Clone()
	t.DialContext = (&net.Dialer{Timeout: ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext
	t.ResponseHeaderTimeout = ReadTimeout
	return t
}

// Generation is an open generation. Whoever holds it must Close it (it holds a connection).
// Not safe for concurrent use.
type Generation struct {
	body   io.ReadCloser
	lines  *bufio.Reader
	cancel context.CancelFunc
	idle   *time.Timer
	read   time.Duration
	// PromptTokens and MaxTokens are what the model's start line said.
	PromptTokens, MaxTokens int64
}

// Start asks the model for a generation of payload (chat.Payload) and waits for its first
// line. ctx ends the generation when it is done (a client gone away stops the model call).
func (c *Client) Start(ctx context.Context, payload []byte) (*Generation, error) {
	ctx, cancel := context.WithTimeout(ctx, c.maxDuration)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(payload))
	if err != nil {
		cancel()
		return nil, fmt.Errorf("build the model call: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		cancel()
		return nil, unreachable(err)
	}
	g := &Generation{
		body: resp.Body, lines: bufio.NewReaderSize(resp.Body, 64<<10), cancel: cancel,
		idle: time.AfterFunc(c.readTimeout, cancel), read: c.readTimeout,
	}
	if resp.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxLine))
		g.Close()
		return nil, refusal(resp.StatusCode, raw)
	}
	line, err := g.line()
	if err != nil {
		g.Close()
		if errors.Is(err, io.EOF) {
			return nil, broke("") // Python's StopAsyncIteration says nothing
		}
		return nil, broke(err.Error())
	}
	start, err := decodeLine(line)
	if err != nil {
		g.Close()
		return nil, broke(err.Error())
	}
	if t := start.Fields["type"]; t.Kind != pyjson.String || t.Str != "start" {
		g.Close()
		return nil, &Unavailable{Message: "the chat model's stream did not start with a start event"}
	}
	g.PromptTokens, _ = intField(start, "prompt_tokens")
	g.MaxTokens, _ = intField(start, "max_tokens")
	return g, nil
}

// Next is the model's next event: a chat.Delta, then one chat.End. After the End, or on an
// error (*Unavailable: the stream broke or ended without an end), the generation is over.
func (g *Generation) Next() (chat.Event, error) {
	for {
		line, err := g.line()
		if errors.Is(err, io.EOF) {
			return nil, &Unavailable{Message: "the chat model's stream ended without an end event"}
		}
		if err != nil {
			return nil, broke(err.Error())
		}
		if isBlank(line) {
			continue
		}
		event, err := decodeLine(line)
		if err != nil {
			return nil, broke(err.Error())
		}
		switch t := event.Fields["type"]; {
		case t.Kind == pyjson.String && t.Str == "delta":
			return delta(event)
		case t.Kind == pyjson.String && t.Str == "end":
			return end(event)
		}
	}
}

// Close ends the generation and gives its connection back.
func (g *Generation) Close() {
	g.idle.Stop()
	g.cancel()
	_ = g.body.Close()
}

// line reads one line, without its line end, within the read timeout. Lines end as
// httpx's aiter_lines ends them (str.splitlines): at \n, \r, \r\n, and also \v, \f,
// \x1c-\x1e, U+0085, U+2028 and U+2029, which json.dumps(ensure_ascii=False) leaves raw
// inside a string (so a delta holding one breaks legacy's stream, and the candidate's).
func (g *Generation) line() (string, error) {
	g.idle.Reset(g.read)
	defer g.idle.Stop()
	var b strings.Builder
	for {
		r, _, err := g.lines.ReadRune()
		if err != nil {
			if errors.Is(err, io.EOF) && b.Len() > 0 {
				return b.String(), nil
			}
			return "", readError(err)
		}
		switch r {
		case '\r':
			if next, _ := g.lines.Peek(1); len(next) == 1 && next[0] == '\n' {
				_, _ = g.lines.ReadByte()
			}
			return b.String(), nil
		case '\n', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
			return b.String(), nil
		}
		b.WriteRune(r) // an invalid byte is U+FFFD, as httpx decodes with errors="replace"
		if b.Len() > maxLine {
			return "", fmt.Errorf("a line of the stream is over %d bytes", maxLine)
		}
	}
}

// isBlank is `not line.strip()`.
func isBlank(line string) bool {
	return strings.TrimFunc(line, func(r rune) bool { return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f) }) == ""
}

func delta(event pyjson.Value) (chat.Event, error) {
	text, ok := event.Fields["text"]
	if !ok {
		return nil, broke("'text'") // Python's KeyError
	}
	tokens, ok := intField(event, "tokens")
	if !ok || text.Kind != pyjson.String {
		return nil, broke("a delta without text or tokens")
	}
	d := chat.Delta{Text: text.Str, Tokens: int(tokens)}
	for name, into := range map[string]**string{"tool_id": &d.ToolID, "tool_name": &d.ToolName} {
		if v, ok := event.Fields[name]; ok && v.Kind == pyjson.String {
			s := v.Str
			*into = &s
		}
	}
	return d, nil
}

func end(event pyjson.Value) (chat.Event, error) {
	reason, ok := event.Fields["finish_reason"]
	if !ok {
		return nil, broke("'finish_reason'")
	}
	tokens, ok := intField(event, "completion_tokens")
	if !ok || reason.Kind != pyjson.String {
		return nil, broke("an end without finish_reason or completion_tokens")
	}
	return chat.End{FinishReason: reason.Str, CompletionTokens: int(tokens)}, nil
}

// intField is int() of a number field (a float is truncated, as Python's int()).
func intField(event pyjson.Value, name string) (int64, bool) {
	v, ok := event.Fields[name]
	if !ok || v.Kind != pyjson.Number {
		return 0, false
	}
	f, err := strconv.ParseFloat(v.Num, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return int64(f), true
}

// decodeLine is json.loads of one line; its error reads as Python's JSONDecodeError.
func decodeLine(line string) (pyjson.Value, error) {
	v, err := pyjson.Decode([]byte(line))
	var syntax *pyjson.SyntaxError
	switch {
	case errors.As(err, &syntax):
		// No line breaks inside a line: line 1, column pos+1.
		return v, fmt.Errorf("%s: line 1 column %d (char %d)", syntax.Msg, syntax.Pos+1, syntax.Pos)
	case err != nil:
		return v, err
	case v.Kind != pyjson.Object:
		return v, errors.New("a line of the stream is not a JSON object")
	}
	return v, nil
}

func broke(reason string) *Unavailable {
	return &Unavailable{Message: "the chat model's stream broke: " + reason}
}

// refusal is legacy's _refusal: the model's error message (else the start of its body, else
// the status); a 4xx is the caller's mistake, anything else the model's failure.
func refusal(status int, body []byte) error {
	message := ""
	if v, err := pyjson.Decode(body); err == nil && v.Kind == pyjson.Object {
		if e := v.Fields["error"]; e.Kind == pyjson.Object {
			if m, ok := e.Fields["message"]; ok && m.Kind == pyjson.String {
				message = m.Str
			}
		}
	}
	if message == "" {
		message = firstChars(body, 200)
	}
	if message == "" {
		message = fmt.Sprintf("status %d", status)
	}
	if status >= 400 && status < 500 {
		return &Refused{Status: status, Message: message}
	}
	return &Unavailable{Message: fmt.Sprintf("the chat model failed (%d): %s", status, message)}
}

// firstChars is body.decode("utf-8", errors="replace")[:n].
func firstChars(body []byte, n int) string {
	var b strings.Builder
	for i := 0; i < len(body) && n > 0; n-- {
		r, size := utf8.DecodeRune(body[i:])
		b.WriteRune(r) // an invalid byte is U+FFFD
		i += size
	}
	return b.String()
}

// readError maps a failed read of the stream: the deadline (the idle timer or the cap)
// reads as httpx's ReadTimeout, which has no message.
func readError(err error) error {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return errors.New("")
	}
	return err
}

// unreachable is a call that got no answer, in legacy's words.
func unreachable(err error) *Unavailable {
	return &Unavailable{Message: "the chat model is unreachable: " + httpxtext.Describe(err)}
}

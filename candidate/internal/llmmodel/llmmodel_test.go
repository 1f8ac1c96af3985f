package llmmodel

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"banyan/candidate/internal/chat"
)

// model answers every call with status and body, after recording the payload.
func model(t *testing.T, status int, body string) (*Client, *string) {
	t.Helper()
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = r.URL.Path + " " + r.Header.Get("Content-Type") + " " + string(b)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return New(srv.URL+"/", srv.Client()), &got
}

func events(t *testing.T, g *Generation) ([]chat.Event, error) {
	t.Helper()
	var out []chat.Event
	for {
		e, err := g.Next()
		if err != nil {
			return out, err
		}
		out = append(out, e)
		if _, ok := e.(chat.End); ok {
			return out, nil
		}
	}
}

func TestAGenerationStreamsDeltasThenItsEnd(t *testing.T) {
	c, got := model(t, 200, `{"type": "start", "model": "sarvam-m", "prompt_tokens": 19, "max_tokens": 5}
{"type": "delta", "text": "नम", "tokens": 3}

{"type": "ping"}
{"type": "delta", "text": "", "tokens": 2, "tool_id": "call_1", "tool_name": "f"}
{"type": "end", "finish_reason": "stop", "prompt_tokens": 19, "completion_tokens": 5}
{"type": "delta", "text": "after the end", "tokens": 1}
`)
	g, err := c.Start(context.Background(), []byte(`{"model":"sarvam-m"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if *got != `/v1/generate application/json {"model":"sarvam-m"}` || g.PromptTokens != 19 || g.MaxTokens != 5 {
		t.Errorf("sent %q; start %d %d", *got, g.PromptTokens, g.MaxTokens)
	}
	evs, err := events(t, g)
	if err != nil || len(evs) != 3 {
		t.Fatalf("%v %v", evs, err)
	}
	first, tool, end := evs[0].(chat.Delta), evs[1].(chat.Delta), evs[2].(chat.End)
	if first.Text != "नम" || first.Tokens != 3 || first.ToolID != nil || *tool.ToolID != "call_1" || *tool.ToolName != "f" ||
		end != (chat.End{FinishReason: "stop", CompletionTokens: 5}) {
		t.Errorf("%+v %+v %+v", first, tool, end)
	}
}

func TestFailuresReadAsLegacysMessages(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
		status           int
		refused          bool
	}{
		{"refusal", `{"error": {"message": "This model's maximum context length is 8192 tokens."}}`, "This model's maximum context length is 8192 tokens.", 400, true},
		{"refusal-not-json", `{"detail": "x"}` + strings.Repeat("é", 300), `{"detail": "x"}` + strings.Repeat("é", 185), 422, true},
		{"refusal-empty", "", "status 404", 404, true},
		{"failure", `{"error": {"message": "the GPU caught fire"}}`, "the chat model failed (500): the GPU caught fire", 500, false},
		{"empty", "", "the chat model's stream broke: ", 200, false},
		{"garbage", "nonsense\n", "the chat model's stream broke: Expecting value: line 1 column 1 (char 0)", 200, false},
		{"no-start", `{"type": "delta", "text": "a", "tokens": 1}` + "\n", "the chat model's stream did not start with a start event", 200, false},
	} {
		c, _ := model(t, tc.status, tc.body)
		_, err := c.Start(context.Background(), []byte("{}"))
		var refused *Refused
		var unavailable *Unavailable
		switch {
		case tc.refused && (!errors.As(err, &refused) || refused.Message != tc.want || refused.Status != tc.status):
			t.Errorf("%s: %v, want refused %q", tc.name, err, tc.want)
		case !tc.refused && (!errors.As(err, &unavailable) || unavailable.Message != tc.want):
			t.Errorf("%s: %v, want unavailable %q", tc.name, err, tc.want)
		}
	}
}

func TestABrokenStream(t *testing.T) {
	for body, want := range map[string]string{
		`{"type": "start"}` + "\n" + `{"type": "delta", "text": "a", "tokens": 1}` + "\n": "the chat model's stream ended without an end event",
		// A raw U+2028 ends a line for httpx's aiter_lines (str.splitlines), so legacy reads half a line.
		`{"type": "start"}` + "\n" + `{"type": "delta", "text": "x` + "\u2028" + `y", "tokens": 1}` + "\n": "the chat model's stream broke: Unterminated string starting at: line 1 column 27 (char 26)",
		`{"type": "start"}` + "\n" + `{"type": "delta", "tokens": 1}` + "\n":                               "the chat model's stream broke: 'text'",
	} {
		c, _ := model(t, 200, body)
		g, err := c.Start(context.Background(), []byte("{}"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = events(t, g)
		g.Close()
		if err == nil || err.Error() != want {
			t.Errorf("%q: %v, want %q", body, err, want)
		}
	}
}

func TestCRLFAndCRAreLineEnds(t *testing.T) {
	c, _ := model(t, 200, "{\"type\": \"start\"}\r\n{\"type\": \"delta\", \"text\": \"a\", \"tokens\": 1}\r{\"type\": \"end\", \"finish_reason\": \"length\", \"completion_tokens\": 1}")
	g, err := c.Start(context.Background(), []byte("{}"))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if evs, err := events(t, g); err != nil || len(evs) != 2 {
		t.Errorf("%v %v", evs, err)
	}
}

// A model that stops sending is given up after the read timeout, and a cancelled context
// stops the call at the model.
func TestDeadlinesAndCancellation(t *testing.T) {
	stopped := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"type": "start"}`+"\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		close(stopped)
	}))
	defer srv.Close()
	c := New(srv.URL, srv.Client())
	c.readTimeout = 50 * time.Millisecond
	g, err := c.Start(context.Background(), []byte("{}"))
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	_, err = g.Next()
	if err == nil || err.Error() != "the chat model's stream broke: " || time.Since(started) > 2*time.Second {
		t.Errorf("after %v: %v", time.Since(started), err)
	}
	g.Close()
	select {
	case <-stopped:
	case <-time.After(2 * time.Second):
		t.Error("the model's call was not stopped")
	}

	ctx, cancel := context.WithCancel(context.Background())
	c.readTimeout = time.Minute
	g, err = c.Start(ctx, []byte("{}"))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	cancel()
	if _, err := g.Next(); err == nil {
		t.Error("a cancelled generation went on")
	}
}

func TestAnUnreachableModel(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := New("http://"+addr, &http.Client{Transport: NewTransport(http.DefaultTransport.(*http.Transport))})
	_, err = c.Start(context.Background(), []byte("{}"))
	var unavailable *Unavailable
	if !errors.As(err, &unavailable) || unavailable.Message != "the chat model is unreachable: All connection attempts failed" {
		t.Errorf("%v", err)
	}
}

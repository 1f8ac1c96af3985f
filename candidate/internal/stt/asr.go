package stt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"banyan/candidate/internal/httpxtext"
)

// Timeout bounds each recognition call and ConnectTimeout the dial of a new connection, as
// legacy's httpx client does (httpx.Timeout(60.0, connect=5.0)).
const (
	Timeout        = 60 * time.Second
	ConnectTimeout = 5 * time.Second
)

// answerLimit caps what is read of an answer: a 20 s piece holds at most a few hundred
// words, a few KiB of JSON.
const answerLimit = 1 << 20

// Failed is legacy's RecognitionFailed: the model did not recognise a piece (no answer, or a
// status other than 200). The route answers 502 with Message, in legacy's words.
type Failed struct{ Message string }

func (f *Failed) Error() string { return f.Message }

// Call is one piece to recognise: 16 kHz mono s16le PCM and the query legacy sends.
type Call struct {
	PCM      []byte
	Language string // a language code, or "unknown" to detect it
	Mode     string
	Keyterms []string
}

// Headers are the request's identity, forwarded for the inference server's logs.
type Headers struct {
	RequestID, Traceparent, Shadow string
	HasShadow                      bool
}

// Answer is the model's answer as legacy reads it (response.json(), a dict).
type Answer map[string]any

// Model recognises one piece (Client; a fake in tests).
type Model interface {
	Recognize(ctx context.Context, call Call, h Headers) (Answer, error)
}

// Client calls one inference server's POST /v1/asr (legacy/inference/asr.py). It is safe
// for concurrent use.
type Client struct {
	url     string
	http    *http.Client
	timeout time.Duration
}

// New returns a client of the recognition model at baseURL; timeout <= 0 means Timeout.
// httpClient should use NewTransport.
func New(baseURL string, httpClient *http.Client, timeout time.Duration) *Client {
	if timeout <= 0 {
		timeout = Timeout
	}
	return &Client{url: strings.TrimRight(baseURL, "/") + "/v1/asr", http: httpClient, timeout: timeout}
}

// NewTransport is base (cloned) dialing new connections under ConnectTimeout.
func NewTransport(base *http.Transport) *http.Transport {
	t := base.Clone()
	t.DialContext = (&net.Dialer{Timeout: ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext
	return t
}

// Recognize is one call: the answer's JSON object; a *Failed when the model gave no answer
// or one other than 200; another error when it answered 200 with something that is not a
// JSON object (legacy answers that 500).
func (c *Client) Recognize(ctx context.Context, call Call, h Headers) (Answer, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	q := url.Values{}
	q.Set("language", call.Language)
	q.Set("mode", call.Mode)
	for _, term := range call.Keyterms {
		q.Add("keyterm", term)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url+"?"+q.Encode(), bytes.NewReader(call.PCM))
	if err != nil {
		return nil, fmt.Errorf("build the recognition call: %w", err)
	}
	req.Header.Set("Content-Type", "audio/L16; rate=16000")
	req.Header.Set("X-Request-ID", h.RequestID)
	if h.Traceparent != "" {
		req.Header.Set("Traceparent", h.Traceparent)
	}
	if h.HasShadow {
		req.Header.Set("X-Banyan-Shadow", h.Shadow)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, unreachable(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, answerLimit+1))
	if err != nil {
		return nil, unreachable(err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &Failed{Message: fmt.Sprintf("the recognition model refused a piece (%d)", resp.StatusCode)}
	}
	if len(raw) > answerLimit {
		return nil, fmt.Errorf("the recognition model's answer is over %d bytes", answerLimit)
	}
	var answer Answer
	if err := json.Unmarshal(raw, &answer); err != nil || answer == nil {
		return nil, fmt.Errorf("the recognition model's answer is not a JSON object: %v", err)
	}
	return answer, nil
}

func unreachable(err error) *Failed {
	return &Failed{Message: "the recognition model is unreachable: " + httpxtext.Describe(err)}
}

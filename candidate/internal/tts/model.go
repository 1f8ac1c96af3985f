package tts

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"banyan/candidate/internal/httpxtext"
)

// Like legacy's httpx client (httpx.Timeout(60.0, connect=5.0)), every call runs under its
// own deadline and new connections are dialed under ConnectTimeout (NewTransport).
const (
	Timeout        = 60 * time.Second
	ConnectTimeout = 5 * time.Second
)

// answerLimit caps the audio read of one call: 500 characters at the slowest rate are about
// 80 s, 3.5 MB at 22050 Hz; more means a broken server.
const answerLimit = 32 << 20

// Call is the body of the inference server's POST /v1/tts for one chunk.
type Call struct {
	Text    string `json:"text"`
	Voice   string `json:"voice"`
	RateWPM int    `json:"rate_wpm"`
	Pitch   int    `json:"pitch"`
}

// Spoken is the model's audio of one chunk.
type Spoken struct {
	PCM        []byte // signed 16-bit little-endian mono
	SampleRate int
}

// Failed is legacy's InferenceFailed: the model did not synthesize a chunk (no answer, or a
// status other than 200). The route answers 502 with Message, in legacy's words.
type Failed struct{ Message string }

func (f *Failed) Error() string { return f.Message }

// Model synthesizes one chunk (Client; a fake in tests). An error that is not a *Failed is
// an answer legacy cannot read either (a 200 without a sample rate): a 500.
type Model interface {
	Synthesize(ctx context.Context, call Call, requestID, traceparent string) (Spoken, error)
}

// Client calls one inference server's TTS model. It is safe for concurrent use.
type Client struct {
	url     string
	http    *http.Client
	timeout time.Duration
}

// New returns a client of the model at baseURL (the inference server); timeout <= 0 means
// Timeout. httpClient should use NewTransport.
func New(baseURL string, httpClient *http.Client, timeout time.Duration) *Client {
	if timeout <= 0 {
		timeout = Timeout
	}
	return &Client{url: strings.TrimRight(baseURL, "/") + "/v1/tts", http: httpClient, timeout: timeout}
}

// NewTransport is base (cloned) dialing new connections under ConnectTimeout.
func NewTransport(base *http.Transport) *http.Transport {
	t := base.Clone()
	t.DialContext = (&net.Dialer{Timeout: ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext
	return t
}

// Synthesize is one call of the model. requestID and traceparent go along for the inference
// server's logs (legacy's client sends neither; the model ignores them).
func (c *Client) Synthesize(ctx context.Context, call Call, requestID, traceparent string) (Spoken, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	payload, err := json.Marshal(call)
	if err != nil {
		return Spoken{}, fmt.Errorf("encode the model call: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(payload))
	if err != nil {
		return Spoken{}, fmt.Errorf("build the model call: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if requestID != "" {
		req.Header.Set("X-Request-ID", requestID)
	}
	if traceparent != "" {
		req.Header.Set("Traceparent", traceparent)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return Spoken{}, unreachable(err)
	}
	defer resp.Body.Close()
	pcm, err := io.ReadAll(io.LimitReader(resp.Body, answerLimit+1))
	if err != nil {
		return Spoken{}, unreachable(err)
	}
	if resp.StatusCode != http.StatusOK {
		return Spoken{}, &Failed{Message: fmt.Sprintf("the speech model refused a chunk (%d)", resp.StatusCode)}
	}
	if len(pcm) > answerLimit {
		return Spoken{}, fmt.Errorf("the speech model's answer is over %d bytes", answerLimit)
	}
	rate, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("X-Sample-Rate")))
	if err != nil || rate <= 0 {
		return Spoken{}, fmt.Errorf("the speech model's answer has no usable X-Sample-Rate (%q)", resp.Header.Get("X-Sample-Rate"))
	}
	return Spoken{PCM: pcm, SampleRate: rate}, nil
}

// unreachable is a call that got no answer, in legacy's words.
func unreachable(err error) *Failed {
	return &Failed{Message: "the speech model is unreachable: " + httpxtext.Describe(err)}
}

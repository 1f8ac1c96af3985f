// Package translationmodel is the candidate's client of the inference server's translation
// model (POST /v1/translate, legacy/inference/translation_route.py), the model legacy's
// /translate calls, one chunk per call. Splitting text into chunks and calling concurrently is
// the translation package's business.
//
// Like legacy's httpx client (httpx.Timeout(60.0, connect=5.0)), every call runs under its
// own deadline (Timeout) and new connections are dialed under ConnectTimeout (NewTransport), so
// a stuck model cannot hold a request forever. Like legacy's client, it forwards no request
// headers.
package translationmodel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"banyan/candidate/internal/httpxtext"
)

// Timeout bounds each call; ConnectTimeout bounds the dial of a new connection.
const (
	Timeout        = 60 * time.Second
	ConnectTimeout = 5 * time.Second
)

// answerLimit caps what is read of an answer: the translation of a 500-character chunk is a
// few KiB, so more means a broken server.
const answerLimit = 1 << 20

// Failed is legacy's TranslationFailed: the model did not translate the chunk (no answer, or
// a status other than 200). The route answers 502 with Message, in legacy's words.
type Failed struct{ Message string }

func (f *Failed) Error() string { return f.Message }

// Client calls one inference server's translation model. It is safe for concurrent use.
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
	return &Client{url: strings.TrimRight(baseURL, "/") + "/v1/translate", http: httpClient, timeout: timeout}
}

// NewTransport is base (cloned) dialing new connections under ConnectTimeout.
func NewTransport(base *http.Transport) *http.Transport {
	t := base.Clone()
	t.DialContext = (&net.Dialer{Timeout: ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext
	return t
}

// Call is the body of POST /v1/translate: a concrete source (never "auto") and a text within
// the model's context limit.
type Call struct {
	Text               string `json:"text"`
	SourceLanguageCode string `json:"source_language_code"`
	TargetLanguageCode string `json:"target_language_code"`
	Mode               string `json:"mode"`
	SpeakerGender      string `json:"speaker_gender"`
}

// Translate is one call of the model: the translated text; a *Failed when the model gave no
// answer or one other than 200 (413 over its context limit, 5xx); another error when it
// answered 200 with a body that is not a translation (legacy answers that 500).
func (c *Client) Translate(ctx context.Context, call Call) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	payload, err := json.Marshal(call)
	if err != nil {
		return "", fmt.Errorf("encode the model call: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(payload))
	if err != nil {
		return "", fmt.Errorf("build the model call: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return "", unreachable(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, answerLimit+1))
	if err != nil {
		return "", unreachable(err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", &Failed{Message: fmt.Sprintf("the translation model refused a chunk (%d)", resp.StatusCode)}
	}
	if len(raw) > answerLimit {
		return "", fmt.Errorf("the translation model's answer is over %d bytes", answerLimit)
	}
	var answer struct {
		TranslatedText *string `json:"translated_text"`
	}
	if err := json.Unmarshal(raw, &answer); err != nil {
		return "", fmt.Errorf("the translation model's answer is not JSON: %w", err)
	}
	if answer.TranslatedText == nil {
		return "", errors.New("the translation model's answer has no translated_text")
	}
	return *answer.TranslatedText, nil
}

// unreachable is a call that got no answer, in legacy's words.
func unreachable(err error) *Failed {
	return &Failed{Message: "the translation model is unreachable: " + httpxtext.Describe(err)}
}

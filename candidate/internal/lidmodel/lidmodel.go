// Package lidmodel is the candidate's client of the inference server's language-identification
// model (POST /v1/lid, legacy/inference/lid_route.py): where a script is shared by several
// languages (Devanagari: Hindi and Marathi), the model chooses. Legacy asks the same model, so
// the two implementations can only differ in platform code, never in model answers.
package lidmodel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"banyan/candidate/internal/httpxtext"
)

// DefaultTimeout bounds one call (the model answers in about a millisecond).
const DefaultTimeout = 10 * time.Second

// ErrNotConfigured means no inference URL was given: the route answers 503, as legacy does.
var ErrNotConfigured = errors.New("language identification is not configured (BANYAN_INFERENCE_URL)")

// Failed means the model could not be asked or refused: the route answers 502 with Message.
type Failed struct{ Message string }

func (f *Failed) Error() string { return f.Message }

// Client asks one inference server. The zero URL makes every call ErrNotConfigured.
// It is safe for concurrent use.
type Client struct {
	url     string
	http    *http.Client
	timeout time.Duration
}

// New returns a client of the model at baseURL (the inference server; "" for none).
func New(baseURL string, httpClient *http.Client, timeout time.Duration) *Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	url := ""
	if baseURL != "" {
		url = strings.TrimRight(baseURL, "/") + "/v1/lid"
	}
	return &Client{url: url, http: httpClient, timeout: timeout}
}

// Choose is the model's answer for text among candidates: one of them, or "" when it cannot
// tell them apart. requestID and traceparent go along for the inference server's logs.
func (c *Client) Choose(ctx context.Context, text string, candidates []string, requestID, traceparent string) (string, error) {
	if c.url == "" {
		return "", ErrNotConfigured
	}
	body, err := json.Marshal(map[string]any{"text": text, "candidates": candidates})
	if err != nil {
		return "", fmt.Errorf("encode the model call: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return "", unreachable(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-ID", requestID)
	if traceparent != "" {
		req.Header.Set("Traceparent", traceparent)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", unreachable(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", unreachable(err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", &Failed{Message: fmt.Sprintf("the language-identification model refused the text (%d)", resp.StatusCode)}
	}
	var answer struct {
		LanguageCode *string `json:"language_code"`
	}
	if err := json.Unmarshal(raw, &answer); err != nil {
		return "", &Failed{Message: "the language-identification model answered garbage: " + err.Error()}
	}
	if answer.LanguageCode == nil {
		return "", nil
	}
	for _, c := range candidates {
		if *answer.LanguageCode == c {
			return c, nil
		}
	}
	return "", &Failed{Message: fmt.Sprintf("the language-identification model answered %q, not one of %v", *answer.LanguageCode, candidates)}
}

// unreachable is a call that got no answer, in legacy's words.
func unreachable(err error) *Failed {
	return &Failed{Message: "the language-identification model is unreachable: " + httpxtext.Describe(err)}
}

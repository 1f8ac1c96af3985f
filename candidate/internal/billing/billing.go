// Package billing is the candidate's client of legacy's internal billing API
// (legacy/internal_api.py): a billed route authorizes its estimate before the work, settles
// the measured quantity after it, and releases the hold when the work fails, exactly as
// legacy's own routes do in-process (legacy/metering.py), so both bill the same ledger.
//
// Every call carries the request's X-Request-ID (it keys the ledger row), its traceparent
// and X-Banyan-Shadow as received (a shadow request bills the shadow ledger and skips the
// rate limiter), and runs under its own deadline: a slow ledger must not hold a request
// forever.
package billing

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultTimeout bounds each call to the internal API.
const DefaultTimeout = 5 * time.Second

// internalTokenRefused is the internal API's answer to a wrong internal token: the
// candidate's misconfiguration, not the customer's bad key, though both are 401s.
const internalTokenRefused = "the internal API needs Authorization: Bearer <internal token>"

// ErrUnavailable means the ledger could not be asked or did not answer usably (network
// error, timeout, 5xx, a malformed answer, the internal token refused): the route answers
// 503, the customer is not blamed and not charged.
var ErrUnavailable = errors.New("billing unavailable")

// Refusal is the internal API's answer refusing a call with the platform envelope (401 bad
// key, 402 empty wallet, 429 rate limited, 400/404/409 …): the route passes it on to the
// client. Header holds the Retry-After and X-RateLimit-* headers that came with it.
type Refusal struct {
	Status  int
	Message string
	Header  http.Header
}

func (r *Refusal) Error() string { return fmt.Sprintf("billing refused (%d): %s", r.Status, r.Message) }

// Request is what a call forwards from the public request.
type Request struct {
	RequestID   string
	Traceparent string // "" when the request had none
	Shadow      string // X-Banyan-Shadow as received ("" when absent)
	HasShadow   bool
}

// Authorization is a held estimate: settle or release it by ReservationID.
type Authorization struct {
	ReservationID string
	Unit          string
	// RateLimit holds the X-RateLimit-* headers authorize answered with (none for a shadow
	// request, which skips the limiter); legacy sends them on the route's response.
	RateLimit http.Header
}

// Client calls one legacy's internal API. It is safe for concurrent use.
type Client struct {
	base    string
	token   string
	http    *http.Client
	timeout time.Duration
	log     *slog.Logger
	observe func(call string, elapsed time.Duration)
}

// ObserveCalls makes f see every call's name ("authorize", "settle", …) and how long it
// took, answer read, whatever its outcome: the two HTTP hops per request that legacy makes
// in-process are the candidate's main cost on cheap routes, so they are measured (metrics).
// Set it before the client is used.
func (c *Client) ObserveCalls(f func(call string, elapsed time.Duration)) { c.observe = f }

// New returns a client of the internal API at baseURL (legacy's URL) with the internal token.
func New(baseURL, token string, httpClient *http.Client, timeout time.Duration, log *slog.Logger) *Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), token: token, http: httpClient, timeout: timeout, log: log}
}

type line struct {
	Unit     string `json:"unit"`
	Quantity string `json:"quantity"` // amounts travel as decimal strings, never floats
}

// Authorize checks the key and limits and holds the estimate (quantity of unit) for route.
func (c *Client) Authorize(ctx context.Context, req Request, apiKey, route, unit string, quantity int) (*Authorization, error) {
	body := struct {
		APIKey   string `json:"api_key"`
		Route    string `json:"route"`
		Estimate line   `json:"estimate"`
	}{apiKey, route, line{unit, strconv.Itoa(quantity)}}
	var answer struct {
		ReservationID string `json:"reservation_id"`
	}
	header, err := c.call(ctx, req, "authorize", body, &answer)
	if err != nil {
		return nil, err
	}
	if answer.ReservationID == "" {
		c.log.ErrorContext(ctx, "authorize answered without a reservation_id")
		return nil, ErrUnavailable
	}
	return &Authorization{ReservationID: answer.ReservationID, Unit: unit, RateLimit: rateLimitHeaders(header)}, nil
}

// Settle charges the measured quantity of the authorization's unit (exactly once per request
// id: a repeat is a replay, not a second charge).
func (c *Client) Settle(ctx context.Context, req Request, auth *Authorization, quantity int) error {
	body := struct {
		ReservationID string `json:"reservation_id"`
		Unit          string `json:"unit"`
		Quantity      string `json:"quantity"`
	}{auth.ReservationID, auth.Unit, strconv.Itoa(quantity)}
	_, err := c.call(ctx, req, "settle", body, nil)
	return err
}

// Release gives the hold back: the work failed before any usage.
func (c *Client) Release(ctx context.Context, req Request, auth *Authorization) error {
	body := struct {
		ReservationID string `json:"reservation_id"`
	}{auth.ReservationID}
	_, err := c.call(ctx, req, "release", body, nil)
	return err
}

// call POSTs body to /internal/v1/<name> and decodes a 2xx answer into answer (when not nil).
func (c *Client) call(ctx context.Context, req Request, name string, body, answer any) (http.Header, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	payload, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	httpReq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/internal/v1/"+name, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	httpReq.Header.Set("Content-Type", "application/json")
	httpReq.Header.Set("Authorization", "Bearer "+c.token)
	httpReq.Header.Set("X-Request-ID", req.RequestID)
	if req.Traceparent != "" {
		httpReq.Header.Set("Traceparent", req.Traceparent)
	}
	if req.HasShadow {
		httpReq.Header.Set("X-Banyan-Shadow", req.Shadow)
	}
	started := time.Now()
	if c.observe != nil {
		defer func() { c.observe(name, time.Since(started)) }()
	}
	resp, err := c.http.Do(httpReq)
	if err != nil {
		c.log.WarnContext(ctx, "billing call failed", "call", name, "error", err, "elapsed_ms", time.Since(started).Milliseconds())
		return nil, ErrUnavailable
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		c.log.WarnContext(ctx, "billing answer unreadable", "call", name, "error", err)
		return nil, ErrUnavailable
	}
	c.log.DebugContext(ctx, "billing call", "call", name, "status", resp.StatusCode, "elapsed_ms", time.Since(started).Milliseconds())
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		if answer != nil {
			if err := json.Unmarshal(raw, answer); err != nil {
				c.log.ErrorContext(ctx, "billing answer is not the expected JSON", "call", name, "error", err)
				return nil, ErrUnavailable
			}
		}
		return resp.Header, nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusUnprocessableEntity:
		var envelope struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(raw, &envelope); err != nil || envelope.Error.Message == "" {
			c.log.ErrorContext(ctx, "billing refusal without the envelope", "call", name, "status", resp.StatusCode)
			return nil, ErrUnavailable
		}
		if resp.StatusCode == http.StatusUnauthorized && envelope.Error.Message == internalTokenRefused {
			c.log.ErrorContext(ctx, "legacy refused the internal token: check --internal-token / BANYAN_INTERNAL_TOKEN", "call", name)
			return nil, ErrUnavailable
		}
		return nil, &Refusal{Status: resp.StatusCode, Message: envelope.Error.Message, Header: rateLimitHeaders(resp.Header)}
	default:
		// 422 means this client sent a body the API does not take (a bug here), 5xx a
		// failing ledger: either way not the customer's doing.
		c.log.ErrorContext(ctx, "billing call answered an error", "call", name, "status", resp.StatusCode, "body", truncate(raw, 300))
		return nil, ErrUnavailable
	}
}

// rateLimitHeaderNames are the headers legacy's rate limiter adds (rate_limit_headers).
var rateLimitHeaderNames = []string{"X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset", "Retry-After"}

func rateLimitHeaders(h http.Header) http.Header {
	out := http.Header{}
	for _, name := range rateLimitHeaderNames {
		if v := h.Get(name); v != "" {
			out.Set(name, v)
		}
	}
	return out
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

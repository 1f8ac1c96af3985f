package billing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type seen struct {
	path   string
	header http.Header
	body   map[string]any
}

// ledger is a stand-in for legacy's internal API: it records what it was sent and answers
// with the status, headers and body given.
func ledger(t *testing.T, status int, header http.Header, answer string, got *seen) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.path, got.header = r.URL.Path, r.Header.Clone()
		_ = json.NewDecoder(r.Body).Decode(&got.body)
		for k, v := range header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	return srv
}

var fwd = Request{RequestID: "rid-1", Traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", Shadow: "1", HasShadow: true}

func TestAuthorizeSendsTheContract(t *testing.T) {
	var got seen
	h := http.Header{}
	h.Set("X-RateLimit-Limit", "60")
	h.Set("X-RateLimit-Remaining", "59")
	h.Set("X-RateLimit-Reset", "1767225600")
	srv := ledger(t, 200, h, `{"tenant_id":"t","reservation_id":"r-1","held":"0.06","ledger":"live"}`, &got)
	c := New(srv.URL+"/", "tok", srv.Client(), time.Second, quiet)
	auth, err := c.Authorize(context.Background(), fwd, "key-1", "text-lid", "characters", 6)
	if err != nil {
		t.Fatal(err)
	}
	if auth.ReservationID != "r-1" || auth.Unit != "characters" || auth.RateLimit.Get("X-Ratelimit-Remaining") != "59" {
		t.Errorf("authorization %+v", auth)
	}
	if got.path != "/internal/v1/authorize" || got.header.Get("Authorization") != "Bearer tok" ||
		got.header.Get("X-Request-ID") != "rid-1" || got.header.Get("X-Banyan-Shadow") != "1" ||
		got.header.Get("Traceparent") != fwd.Traceparent {
		t.Errorf("sent %s %v", got.path, got.header)
	}
	want := map[string]any{"api_key": "key-1", "route": "text-lid",
		"estimate": map[string]any{"unit": "characters", "quantity": "6"}}
	if b, _ := json.Marshal(got.body); string(b) != mustJSON(want) {
		t.Errorf("body %s, want %s", b, mustJSON(want))
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestSettleAndRelease(t *testing.T) {
	var got seen
	srv := ledger(t, 200, nil, `{"credits":"0.06","ledger":"shadow","replayed":false}`, &got)
	c := New(srv.URL, "tok", srv.Client(), time.Second, quiet)
	auth := &Authorization{ReservationID: "r-1", Unit: "characters"}
	if err := c.Settle(context.Background(), Request{RequestID: "rid-2"}, auth, 6); err != nil {
		t.Fatal(err)
	}
	if got.path != "/internal/v1/settle" || mustJSON(got.body) != `{"quantity":"6","reservation_id":"r-1","unit":"characters"}` ||
		got.header.Get("X-Banyan-Shadow") != "" || got.header.Get("Traceparent") != "" {
		t.Errorf("settle sent %s %v %v", got.path, got.body, got.header)
	}
	got = seen{}
	srv2 := ledger(t, 204, nil, "", &got)
	c = New(srv2.URL, "tok", srv2.Client(), time.Second, quiet)
	if err := c.Release(context.Background(), fwd, auth); err != nil {
		t.Fatal(err)
	}
	if got.path != "/internal/v1/release" || mustJSON(got.body) != `{"reservation_id":"r-1"}` {
		t.Errorf("release sent %s %v", got.path, got.body)
	}
}

func TestRefusalsAndFailures(t *testing.T) {
	limited := http.Header{}
	limited.Set("Retry-After", "42")
	limited.Set("X-RateLimit-Limit", "2")
	for _, tc := range []struct {
		name        string
		status      int
		header      http.Header
		answer      string
		wantStatus  int // 0: ErrUnavailable
		wantHeaders int
	}{
		{"bad key", 401, nil, `{"error":{"message":"the API key is not valid","code":"invalid_api_key_error","request_id":"x"}}`, 401, 0},
		{"empty wallet", 402, nil, `{"error":{"message":"top it up","code":"insufficient_quota_error","request_id":"x"}}`, 402, 0},
		{"rate limited", 429, limited, `{"error":{"message":"retry later","code":"rate_limit_exceeded_error","request_id":"x"}}`, 429, 2},
		{"internal token refused", 401, nil, `{"error":{"message":"the internal API needs Authorization: Bearer <internal token>","code":"invalid_api_key_error","request_id":"x"}}`, 0, 0},
		{"our bad body", 422, nil, `{"error":{"message":"body.route: Field required","code":"unprocessable_entity_error","request_id":"x"}}`, 0, 0},
		{"ledger down", 500, nil, `{"error":{"message":"internal error","code":"internal_server_error","request_id":"x"}}`, 0, 0},
		{"no envelope", 404, nil, `not json`, 0, 0},
		{"answer not JSON", 200, nil, `<html>`, 0, 0},
		{"no reservation", 200, nil, `{}`, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got seen
			srv := ledger(t, tc.status, tc.header, tc.answer, &got)
			c := New(srv.URL, "tok", srv.Client(), time.Second, quiet)
			_, err := c.Authorize(context.Background(), fwd, "k", "text-lid", "characters", 1)
			var refusal *Refusal
			switch {
			case tc.wantStatus == 0:
				if !errors.Is(err, ErrUnavailable) {
					t.Errorf("got %v, want ErrUnavailable", err)
				}
			case !errors.As(err, &refusal) || refusal.Status != tc.wantStatus || len(refusal.Header) != tc.wantHeaders:
				t.Errorf("got %#v", err)
			}
		})
	}
}

func TestEveryCallHasADeadline(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c := New(srv.URL, "tok", srv.Client(), 50*time.Millisecond, quiet)
	var observed []string
	c.ObserveCalls(func(call string, elapsed time.Duration) {
		observed = append(observed, fmt.Sprintf("%s %t", call, elapsed >= 50*time.Millisecond))
	})
	started := time.Now()
	_, err := c.Authorize(context.Background(), fwd, "k", "text-lid", "characters", 1)
	if !errors.Is(err, ErrUnavailable) || time.Since(started) > 2*time.Second {
		t.Errorf("got %v after %s", err, time.Since(started))
	}
	// A call that failed is measured too: a slow ledger is what the histogram is for.
	if len(observed) != 1 || observed[0] != "authorize true" {
		t.Errorf("observed %v", observed)
	}
}

func TestUnreachableLedger(t *testing.T) {
	c := New("http://127.0.0.1:1", "tok", http.DefaultClient, time.Second, quiet)
	if _, err := c.Authorize(context.Background(), fwd, "k", "text-lid", "characters", 1); !errors.Is(err, ErrUnavailable) {
		t.Errorf("got %v", err)
	}
}

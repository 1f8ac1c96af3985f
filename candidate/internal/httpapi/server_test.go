package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"banyan/candidate/internal/billing"
	"banyan/candidate/internal/reqid"
	"banyan/candidate/internal/text"
)

func TestCodeForFollowsLegacysTable(t *testing.T) {
	for status, want := range map[int]string{
		400: "invalid_request_error", 401: "invalid_api_key_error", 402: "insufficient_quota_error",
		403: "authentication_error", 404: "not_found_error", 405: "invalid_request_error",
		409: "invalid_request_error", 413: "invalid_request_error", 422: "unprocessable_entity_error",
		429: "rate_limit_exceeded_error", 500: "internal_server_error", 501: "internal_server_error",
		502: "model_call_error", 503: "internal_server_error", 504: "gateway_timeout_error",
	} {
		if got := codeFor(status); got != want {
			t.Errorf("codeFor(%d) = %s, want %s", status, got, want)
		}
	}
}

func TestJSONStringsAreWrittenAsPythonDoes(t *testing.T) {
	for in, want := range map[string]string{
		"plain":             `"plain"`,
		`q"b\s`:             `"q\"b\\s"`,
		"\n\r\t\b\f\x01":    `"\n\r\t\b\f\u0001"`,
		"<&> नमस्ते \u2028": "\"<&> नमस्ते \u2028\"",
		"\x7f":              "\"\x7f\"",
	} {
		var b strings.Builder
		writeJSONString(&b, in)
		if b.String() != want {
			t.Errorf("writeJSONString(%q) = %s, want %s", in, b.String(), want)
		}
	}
}

func TestEnvelopeCarriesTheRequestID(t *testing.T) {
	srv := newTestServer(&fakeLedger{})
	req := httptest.NewRequest(http.MethodGet, "/nowhere", nil)
	req.Header.Set("X-Request-ID", "abc-1")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	var body struct {
		Error struct{ Message, Code, RequestID string } `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if rec.Code != 404 || body.Error.Code != "not_found_error" || body.Error.Message != "no route GET /nowhere" {
		t.Errorf("got %d %+v", rec.Code, body)
	}
	if rec.Header().Get("X-Request-ID") != "abc-1" || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", rec.Header())
	}
}

func TestRoutesNotPortedAnswer501(t *testing.T) {
	srv := newTestServer(&fakeLedger{})
	for _, tc := range []struct{ method, path string }{
		{"GET", "/v1/models"}, {"GET", "/v2/models"},
		{"GET", "/v1/models/sarvam-105b"}, {"GET", "/speech-to-text/ws"},
		{"GET", "/speech-to-text-translate/ws"}, {"GET", "/text-to-speech/ws"},
		{"POST", "/doc-ai/v1/job/upload"}, {"GET", "/speech-to-text/job/v1/abc/status"},
	} {
		req := httptest.NewRequest(tc.method, tc.path, strings.NewReader("{}"))
		req.Header.Set("X-Request-ID", "np-1")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		var body struct {
			Error struct {
				Message, Code string
				RequestID     string `json:"request_id"`
			} `json:"error"`
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		if rec.Code != 501 || body.Error.Code != "internal_server_error" || body.Error.RequestID != "np-1" ||
			!strings.Contains(body.Error.Message, "not ported") {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, rec.Code, rec.Body.String())
		}
	}
	// A wrong method on a route not ported yet is still a 405.
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("GET", "/text-to-speech", nil))
	if rec.Code != 405 || rec.Header().Get("Allow") != "POST" {
		t.Errorf("GET /text-to-speech: %d %v", rec.Code, rec.Header())
	}
	rec = httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("POST", "/v1/models", nil))
	if rec.Code != 405 || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /v1/models: %d %v", rec.Code, rec.Header())
	}
}

func TestHealthAndMetrics(t *testing.T) {
	srv := newTestServer(&fakeLedger{})
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != 200 || rec.Body.String() != `{"status":"ok"}` {
		t.Fatalf("healthz: %d %s", rec.Code, rec.Body.String())
	}
	req := httptest.NewRequest("POST", "/text-lid", strings.NewReader(`{"input":"hello"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Api-Subscription-Key", "ok")
	srv.ServeHTTP(httptest.NewRecorder(), req)
	rec = httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	out := rec.Body.String()
	for _, want := range []string{
		`candidate_http_requests_total{route="/healthz",method="GET",status="200"} 1`,
		`candidate_http_requests_total{route="/text-lid",method="POST",status="200"} 1`,
		`candidate_http_request_duration_seconds_bucket{route="/text-lid",le="+Inf"} 1`,
		`candidate_http_request_duration_seconds_count{route="/text-lid"} 1`,
		`candidate_billing_calls_total{call="authorize",outcome="ok"} 1`,
		`candidate_billing_calls_total{call="settle",outcome="ok"} 1`,
		"# TYPE candidate_http_request_duration_seconds histogram",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q:\n%s", want, out)
		}
	}
}

func TestBillingCallLatencyIsAHistogramPerCall(t *testing.T) {
	m := NewMetrics()
	m.ObserveBillingCall("settle", 3*time.Millisecond)
	m.ObserveBillingCall("settle", 30*time.Millisecond)
	m.ObserveBillingCall("authorize", time.Millisecond)
	var out strings.Builder
	if _, err := m.WriteTo(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"# TYPE candidate_billing_call_duration_seconds histogram",
		`candidate_billing_call_duration_seconds_bucket{call="authorize",le="0.001"} 1`,
		`candidate_billing_call_duration_seconds_bucket{call="settle",le="0.005"} 1`,
		`candidate_billing_call_duration_seconds_bucket{call="settle",le="0.05"} 2`,
		`candidate_billing_call_duration_seconds_count{call="settle"} 2`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("metrics lack %q:\n%s", want, out.String())
		}
	}
}

// panicky is a Biller whose authorize panics: the server must answer a 500 envelope that
// says nothing of the panic.
type panicky struct{ fakeLedger }

func (p *panicky) Authorize(context.Context, billing.Request, string, string, string, int) (*billing.Authorization, error) {
	panic("secret internal detail")
}

func TestAPanicIsA500WithoutInternals(t *testing.T) {
	var logs bytes.Buffer
	srv := New(Config{
		Logger:  slog.New(reqid.LogHandler{Handler: slog.NewJSONHandler(&logs, nil)}),
		Billing: &panicky{}, Text: text.New(), LID: &fakeModel{}, Metrics: NewMetrics(),
	})
	req := httptest.NewRequest("POST", "/text-lid", strings.NewReader(`{"input":"hello"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-ID", "boom-1")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	want := `{"error":{"message":"internal error; quote the request_id when reporting it","code":"internal_server_error","request_id":"boom-1"}}`
	if rec.Code != 500 || rec.Body.String() != want {
		t.Errorf("got %d %s", rec.Code, rec.Body.String())
	}
	if !strings.Contains(logs.String(), "secret internal detail") || !strings.Contains(logs.String(), `"request_id":"boom-1"`) {
		t.Errorf("the log must have the panic and the request id:\n%s", logs.String())
	}
}

// failing is a ledger that cannot be reached, or refuses settling.
type failing struct {
	fakeLedger
	authorizeErr, settleErr error
}

func (f *failing) Authorize(ctx context.Context, req billing.Request, key, route, unit string, q int) (*billing.Authorization, error) {
	if f.authorizeErr != nil {
		return nil, f.authorizeErr
	}
	return f.fakeLedger.Authorize(ctx, req, key, route, unit, q)
}

func (f *failing) Settle(ctx context.Context, req billing.Request, auth *billing.Authorization, q int) error {
	if f.settleErr != nil {
		return f.settleErr
	}
	return f.fakeLedger.Settle(ctx, req, auth, q)
}

func TestBillingFailures(t *testing.T) {
	for _, tc := range []struct {
		name       string
		ledger     *failing
		status     int
		code, body string
	}{
		{"ledger unreachable", &failing{authorizeErr: billing.ErrUnavailable}, 503, "billing_service_unavailable_error", "nothing was charged"},
		{"settle unreachable", &failing{settleErr: billing.ErrUnavailable}, 503, "billing_service_unavailable_error", "retry later"},
		{"settle refused", &failing{settleErr: &billing.Refusal{Status: 409, Message: "reservation x was expired; authorize again"}},
			409, "invalid_request_error", "was expired"},
		{"wrapped unavailable error", &failing{authorizeErr: fmt.Errorf("authorize: %w", billing.ErrUnavailable)}, 503, "billing_service_unavailable_error", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newTestServer(tc.ledger)
			req := httptest.NewRequest("POST", "/transliterate",
				strings.NewReader(`{"input":"नमस्ते","source_language_code":"hi-IN","target_language_code":"ta-IN"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Api-Subscription-Key", "ok")
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), `"code":"`+tc.code+`"`) ||
				!strings.Contains(rec.Body.String(), tc.body) {
				t.Errorf("got %d %s", rec.Code, rec.Body.String())
			}
		})
	}
}

func TestForwardedBillingHeaders(t *testing.T) {
	var seen billing.Request
	rec := &recordingLedger{seen: &seen}
	srv := newTestServer(rec)
	req := httptest.NewRequest("POST", "/text-lid", strings.NewReader(`{"input":"hello"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-ID", "fwd-1")
	req.Header.Set("Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	req.Header.Set("X-Banyan-Shadow", "1")
	srv.ServeHTTP(httptest.NewRecorder(), req)
	want := billing.Request{RequestID: "fwd-1", Traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", Shadow: "1", HasShadow: true}
	if seen != want {
		t.Errorf("forwarded %+v, want %+v", seen, want)
	}
}

type recordingLedger struct {
	fakeLedger
	seen *billing.Request
}

func (r *recordingLedger) Authorize(ctx context.Context, req billing.Request, key, route, unit string, q int) (*billing.Authorization, error) {
	*r.seen = req
	return r.fakeLedger.Authorize(ctx, req, key, route, unit, q)
}

func TestRequestBodyLimit(t *testing.T) {
	srv := newTestServer(&fakeLedger{})
	req := httptest.NewRequest("POST", "/text-lid", strings.NewReader(`{"input":"`+strings.Repeat("a", bodyLimit)+`"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != 413 || !strings.Contains(rec.Body.String(), `"code":"invalid_request_error"`) {
		t.Errorf("got %d %s", rec.Code, rec.Body.String())
	}
}

func TestContentTypes(t *testing.T) {
	for ct, want := range map[string]bool{
		"application/json": true, "Application/JSON; charset=utf-8": true, "application/ld+json": true,
		" application/json ": true, "application/json\xa0": true, "": false, "text/json": false,
		"application/json/x": false, "application": false, "application/jsonx": false,
	} {
		if got := isJSONContentType(ct); got != want {
			t.Errorf("isJSONContentType(%q) = %v", ct, got)
		}
	}
}

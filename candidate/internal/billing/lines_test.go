package billing

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

var tokens = []Line{{"tokens_in", 19}, {"tokens_out", 1024}}

func TestAuthorizeLinesHoldsOneLinePerUnitForTheModel(t *testing.T) {
	var got seen
	h := http.Header{}
	h.Set("X-RateLimit-Remaining", "59")
	srv := ledger(t, 200, h, `{"tenant_id":"t","reservation_id":"r-1","held":"1.2","ledger":"live"}`, &got)
	c := New(srv.URL, "tok", srv.Client(), time.Second, quiet)
	auth, err := c.AuthorizeLines(context.Background(), fwd, "key-1", "chat-completions", "sarvam-m", tokens)
	if err != nil {
		t.Fatal(err)
	}
	if auth.ReservationID != "r-1" || auth.RateLimit.Get("X-Ratelimit-Remaining") != "59" {
		t.Errorf("authorization %+v", auth)
	}
	want := `{"api_key":"key-1","estimate":[{"quantity":"19","unit":"tokens_in"},{"quantity":"1024","unit":"tokens_out"}],"model":"sarvam-m","route":"chat-completions"}`
	if got.path != "/internal/v1/authorize" || mustJSON(got.body) != want || got.header.Get("X-Banyan-Shadow") != "1" {
		t.Errorf("sent %s %s %v", got.path, mustJSON(got.body), got.header)
	}
}

func TestSettleLinesSendsTheUsage(t *testing.T) {
	var got seen
	srv := ledger(t, 200, nil, `{"credits":"0.2","ledger":"live","replayed":false,"lines":[]}`, &got)
	c := New(srv.URL, "tok", srv.Client(), time.Second, quiet)
	err := c.SettleLines(context.Background(), Request{RequestID: "rid-3"}, &Authorization{ReservationID: "r-1"},
		[]Line{{"tokens_in", 19}, {"tokens_out", 34}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"reservation_id":"r-1","usage":[{"quantity":"19","unit":"tokens_in"},{"quantity":"34","unit":"tokens_out"}]}`
	if got.path != "/internal/v1/settle" || mustJSON(got.body) != want || got.header.Get("X-Request-ID") != "rid-3" {
		t.Errorf("sent %s %s", got.path, mustJSON(got.body))
	}
}

func TestAuthorizeLinesPassesARefusalOn(t *testing.T) {
	var got seen
	srv := ledger(t, 401, nil, `{"error":{"message":"the API key is not valid","code":"invalid_api_key_error"}}`, &got)
	c := New(srv.URL, "tok", srv.Client(), time.Second, quiet)
	_, err := c.AuthorizeLines(context.Background(), fwd, "bad", "chat-completions", "sarvam-m", tokens)
	var refusal *Refusal
	if !errors.As(err, &refusal) || refusal.Status != 401 || refusal.Message != "the API key is not valid" {
		t.Errorf("err = %v", err)
	}
}

package billing

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestExtendSendsTheContract(t *testing.T) {
	var got seen
	srv := ledger(t, 200, nil, `{"held":"0.7500"}`, &got)
	c := New(srv.URL, "tok", srv.Client(), time.Second, quiet)
	auth := &Authorization{ReservationID: "r-1", Unit: "characters"}
	if err := c.Extend(context.Background(), fwd, auth, "250"); err != nil {
		t.Fatal(err)
	}
	if got.path != "/internal/v1/extend" || mustJSON(got.body) != `{"quantity":"250","reservation_id":"r-1"}` ||
		got.header.Get("X-Request-ID") != "rid-1" || got.header.Get("Authorization") != "Bearer tok" ||
		got.header.Get("X-Banyan-Shadow") != "1" {
		t.Errorf("extend sent %s %v %v", got.path, got.body, got.header)
	}
}

func TestExtendRefusedByAnEmptyWallet(t *testing.T) {
	var got seen
	srv := ledger(t, 402, nil, `{"error":{"message":"the wallet cannot cover more of this stream; top it up","code":"insufficient_quota_error","request_id":"x"}}`, &got)
	c := New(srv.URL, "tok", srv.Client(), time.Second, quiet)
	err := c.Extend(context.Background(), fwd, &Authorization{ReservationID: "r-1"}, "12.5")
	var refusal *Refusal
	if !errors.As(err, &refusal) || refusal.Status != 402 ||
		refusal.Message != "the wallet cannot cover more of this stream; top it up" {
		t.Errorf("got %#v", err)
	}
}

func TestAmountCallsSendDecimalStrings(t *testing.T) {
	var got seen
	srv := ledger(t, 200, nil, `{"tenant_id":"t","reservation_id":"r-9","held":"0.03","ledger":"live"}`, &got)
	c := New(srv.URL, "tok", srv.Client(), time.Second, quiet)
	auth, err := c.AuthorizeAmount(context.Background(), fwd, "key-1", "speech-to-text-ws", "audio_seconds", "10")
	if err != nil {
		t.Fatal(err)
	}
	if auth.ReservationID != "r-9" || auth.Unit != "audio_seconds" ||
		mustJSON(got.body) != `{"api_key":"key-1","estimate":{"quantity":"10","unit":"audio_seconds"},"route":"speech-to-text-ws"}` {
		t.Errorf("authorize %+v sent %v", auth, got.body)
	}
	got = seen{}
	srv2 := ledger(t, 200, nil, `{"credits":"0.01","ledger":"live","replayed":false}`, &got)
	c = New(srv2.URL, "tok", srv2.Client(), time.Second, quiet)
	if err := c.SettleAmount(context.Background(), fwd, auth, "3.125"); err != nil {
		t.Fatal(err)
	}
	if got.path != "/internal/v1/settle" || mustJSON(got.body) != `{"quantity":"3.125","reservation_id":"r-9","unit":"audio_seconds"}` {
		t.Errorf("settle sent %s %v", got.path, got.body)
	}
}

func TestAmountsThatAreNotDecimalsAreNotSent(t *testing.T) {
	var got seen
	srv := ledger(t, 200, nil, `{}`, &got)
	c := New(srv.URL, "tok", srv.Client(), time.Second, quiet)
	auth := &Authorization{ReservationID: "r-1", Unit: "characters"}
	for _, q := range []string{"", "-1", "1.", ".5", "1e3", "NaN", " 1", "1,5", "1.2.3"} {
		if err := c.Extend(context.Background(), fwd, auth, q); err == nil || errors.Is(err, ErrUnavailable) {
			t.Errorf("Extend(%q) = %v", q, err)
		}
		if err := c.SettleAmount(context.Background(), fwd, auth, q); err == nil {
			t.Errorf("SettleAmount(%q) accepted", q)
		}
		if _, err := c.AuthorizeAmount(context.Background(), fwd, "k", "r", "u", q); err == nil {
			t.Errorf("AuthorizeAmount(%q) accepted", q)
		}
	}
	if got.path != "" {
		t.Errorf("a call went out: %s", got.path)
	}
	for _, q := range []string{"0", "46", "0.001", "12.500"} {
		if err := checkDecimal(q); err != nil {
			t.Errorf("checkDecimal(%q) = %v", q, err)
		}
	}
}

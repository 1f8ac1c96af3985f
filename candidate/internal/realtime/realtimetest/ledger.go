package realtimetest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"banyan/candidate/internal/billing"
	"banyan/candidate/internal/realtime"
)

// Ledger is a realtime.Biller standing in for the ledger of a test's sessions, over a wallet
// that holds at most Limit. It records every call in the words of the routes'
// gen_transcripts.py Ledger ("authorize 10", "extend 10", "settle 24.9", "release"; ttsws's
// leaves the authorization out), so a test compares them with legacy's, and each
// authorization's handshake apart (Authorized). Make it with NewLedger; set the fields before
// the first session opens.
type Ledger struct {
	Limit      realtime.Quantity // the most the wallet holds (0: any); an extension past it is a 402 Refusal
	Refuse     error             // when set, every authorization fails with it
	FailExtend bool              // every extension fails, as a ledger that cannot be reached

	settled chan string // the settled quantity ("release" for a release), once

	mu         sync.Mutex
	held       realtime.Quantity
	calls      []string
	authorized []string
}

// NewLedger is a ledger with nothing held and no limit.
func NewLedger() *Ledger { return &Ledger{settled: make(chan string, 1)} }

func (l *Ledger) record(call string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, call)
}

// AuthorizeAmount holds quantity, or fails with Refuse.
func (l *Ledger) AuthorizeAmount(_ context.Context, req billing.Request, apiKey, route, unit, quantity string) (*billing.Authorization, error) {
	l.mu.Lock()
	l.calls = append(l.calls, "authorize "+quantity)
	l.authorized = append(l.authorized, strings.Join([]string{apiKey, route, unit, quantity, req.RequestID}, " "))
	l.mu.Unlock()
	if l.Refuse != nil {
		return nil, l.Refuse
	}
	q, _ := realtime.ParseQuantity(quantity)
	l.mu.Lock()
	l.held = q
	l.mu.Unlock()
	return &billing.Authorization{ReservationID: "r-1", Unit: unit}, nil
}

// Extend holds quantity more, unless FailExtend or the wallet's Limit refuses it.
func (l *Ledger) Extend(_ context.Context, _ billing.Request, _ *billing.Authorization, quantity string) error {
	l.record("extend " + quantity)
	q, _ := realtime.ParseQuantity(quantity)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.FailExtend {
		return billing.ErrUnavailable
	}
	if l.Limit > 0 && l.held+q > l.Limit {
		return &billing.Refusal{Status: 402, Message: "the wallet cannot cover more of this stream; top it up"}
	}
	l.held += q
	return nil
}

// SettleAmount records the settlement and hands quantity to WaitSettled.
func (l *Ledger) SettleAmount(_ context.Context, _ billing.Request, _ *billing.Authorization, quantity string) error {
	l.record("settle " + quantity)
	l.settled <- quantity
	return nil
}

// Release records the release and hands "release" to WaitSettled.
func (l *Ledger) Release(context.Context, billing.Request, *billing.Authorization) error {
	l.record("release")
	l.settled <- "release"
	return nil
}

// Calls are the calls so far, in order.
func (l *Ledger) Calls() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.calls...)
}

// Authorized is each authorization's handshake, in order: "<key> <route> <unit> <quantity>
// <request id>".
func (l *Ledger) Authorized() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.authorized...)
}

// WaitSettled is the next session's settlement: the settled quantity, or "release". It fails
// the test when none comes within 10 s. A session's settlement waits until the test takes the
// one before it: a test of several sessions takes each.
func (l *Ledger) WaitSettled(t *testing.T) string {
	t.Helper()
	select {
	case q := <-l.settled:
		return q
	case <-time.After(10 * time.Second):
		t.Fatal("the session never settled")
		return ""
	}
}

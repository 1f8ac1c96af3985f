package realtimetest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"banyan/candidate/internal/billing"
	"banyan/candidate/internal/realtime"
)

func TestLedgerRecordsHoldsAndRefuses(t *testing.T) {
	ctx, req := context.Background(), billing.Request{RequestID: "rid-1"}
	l := NewLedger()
	l.Limit = realtime.Units(25)
	auth, err := l.AuthorizeAmount(ctx, req, "sk", "test-ws", "characters", "10")
	if err != nil || auth.Unit != "characters" {
		t.Fatalf("authorize: %v %v", auth, err)
	}
	if err := l.Extend(ctx, req, auth, "10"); err != nil {
		t.Fatalf("extend within the limit: %v", err)
	}
	if err := l.Extend(ctx, req, auth, "10"); !realtime.IsInsufficientQuota(err) {
		t.Fatalf("extend past the limit: %v", err)
	}
	l.FailExtend = true
	if err := l.Extend(ctx, req, auth, "1"); !errors.Is(err, billing.ErrUnavailable) {
		t.Fatalf("a failing ledger: %v", err)
	}
	_ = l.SettleAmount(ctx, req, auth, "12.5")
	if got := l.WaitSettled(t); got != "12.5" {
		t.Errorf("settled %s", got)
	}
	if got := strings.Join(l.Calls(), ","); got != "authorize 10,extend 10,extend 10,extend 1,settle 12.5" {
		t.Errorf("calls %s", got)
	}
	if got := l.Authorized(); len(got) != 1 || got[0] != "sk test-ws characters 10 rid-1" {
		t.Errorf("authorized %v", got)
	}
	l.Refuse = &billing.Refusal{Status: 401, Message: "bad key"}
	if _, err := l.AuthorizeAmount(ctx, req, "bad", "test-ws", "characters", "10"); !errors.Is(err, l.Refuse) {
		t.Errorf("refused authorize: %v", err)
	}
}

// TestAServedSessionEchoes: a session on Serve's server, through Open, Send, Recv and Next,
// ends when the client leaves (Serve's cleanup checks it ended and leaked nothing).
func TestAServedSessionEchoes(t *testing.T) {
	ledger := NewLedger()
	opener := &realtime.Opener{Billing: ledger, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), CloseGrace: 200 * time.Millisecond}
	url := Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = realtime.WithRequestID(r)
		conn, session, ok := opener.Open(w, r, realtime.Route{Name: "test-ws", Unit: "characters", Estimate: realtime.Units(1)})
		if !ok {
			return
		}
		defer session.Close(r.Context())
		defer conn.Shutdown()
		for frame := range conn.Frames() {
			if err := conn.Send(frame.Data); err != nil {
				return
			}
		}
	}), nil)
	c := Open(t, url+"/test/ws", "rid-echo")
	c.Send(t, "hello")
	if got := c.Recv(t); got != "hello" {
		t.Errorf("echo %q", got)
	}
	if e, ok := c.Next(50 * time.Millisecond); ok {
		t.Errorf("unexpected %+v", e)
	}
	c.Close()
	if got := ledger.WaitSettled(t); got != "release" {
		t.Errorf("settled %s", got)
	}
	if got := ledger.Authorized(); len(got) != 1 || got[0] != APIKey+" test-ws characters 1 rid-echo" {
		t.Errorf("authorized %v", got)
	}
}

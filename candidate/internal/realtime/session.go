package realtime

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"

	"banyan/candidate/internal/billing"
)

// Biller is the billing a realtime session needs (*billing.Client; a fake in tests).
type Biller interface {
	AuthorizeAmount(ctx context.Context, req billing.Request, apiKey, route, unit, quantity string) (*billing.Authorization, error)
	Extend(ctx context.Context, req billing.Request, auth *billing.Authorization, quantity string) error
	SettleAmount(ctx context.Context, req billing.Request, auth *billing.Authorization, quantity string) error
	Release(ctx context.Context, req billing.Request, auth *billing.Authorization) error
}

// ErrSessionClosed is Use after Close: the usage was settled already and is not counted.
var ErrSessionClosed = errors.New("realtime: the session is closed")

// IsInsufficientQuota tells whether err is the wallet refusing to cover more (a 402 from the
// ledger): the session must end with an error message and close 1008, as legacy's
// InsufficientQuota does. Any other error of Use is the ledger failing, not the customer.
func IsInsufficientQuota(err error) bool {
	var refusal *billing.Refusal
	return errors.As(err, &refusal) && refusal.Status == http.StatusPaymentRequired
}

// Session is one WebSocket session's reservation (legacy's MeteredSession): one request id,
// one hold that grows with use, one settlement at the end. It is safe for concurrent use.
type Session struct {
	billing Biller
	req     billing.Request
	auth    *billing.Authorization
	log     *slog.Logger

	mu     sync.Mutex // held across an extension: one at a time, as legacy's asyncio.Lock
	step   Quantity   // the least an extension adds: the estimate, at least one unit
	held   Quantity   // what the hold covers so far
	used   Quantity
	closed bool
}

// NewSession is the session of an authorization that held estimate.
func NewSession(b Biller, req billing.Request, auth *billing.Authorization, estimate Quantity, log *slog.Logger) *Session {
	return &Session{billing: b, req: req, auth: auth, log: log, step: max(estimate, Units(1)), held: estimate}
}

// RequestID is the session's request id: every message's request_id and the ledger row's key.
func (s *Session) RequestID() string { return s.req.RequestID }

// Traceparent is the handshake's W3C traceparent ("" without one), for the session's calls.
func (s *Session) Traceparent() string { return s.req.Traceparent }

// Request is the handshake's identity the session bills under (request id, traceparent,
// X-Banyan-Shadow), for the calls the session makes to other services.
func (s *Session) Request() billing.Request { return s.req }

// Used is the usage counted so far.
func (s *Session) Used() Quantity {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used
}

// Use counts quantity, first extending the hold by at least the estimate when the usage would
// pass it, so a session stops at the edge of what the wallet can pay rather than after. When
// the extension fails (IsInsufficientQuota, or the ledger failing) the usage is not counted:
// the caller must not deliver it.
func (s *Session) Use(ctx context.Context, quantity Quantity) error {
	if quantity <= 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrSessionClosed
	}
	wanted := s.used + quantity
	if wanted > s.held {
		more := max(wanted-s.held, s.step)
		if err := s.billing.Extend(ctx, s.req, s.auth, more.String()); err != nil {
			return err
		}
		s.held += more
	}
	s.used = wanted
	return nil
}

// Close settles the usage, or releases the hold when nothing was used; once, however the
// session ended. It runs past a cancelled ctx (the client gone is when it matters most),
// under the billing client's own deadline; a failure is logged, as legacy does (a hold that
// expired under the session was given back by the sweeper).
func (s *Session) Close(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	ctx = context.WithoutCancel(ctx)
	var err error
	if s.used > 0 {
		err = s.billing.SettleAmount(ctx, s.req, s.auth, s.used.String())
	} else {
		err = s.billing.Release(ctx, s.req, s.auth)
	}
	if err != nil {
		s.log.ErrorContext(ctx, "session could not settle", "error", err, "used", s.used.String())
	}
}

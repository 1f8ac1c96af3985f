package httpapi

import (
	"context"
	"sync"

	"banyan/candidate/internal/billing"
)

// holds are the charges a request has opened and not yet closed. A handler that panics
// between authorize and settle (a bug) is answered 500 by the recovery in ServeHTTP, which
// then gives these back, as legacy's ReleaseHoldsOnFailure does for an unexpected exception:
// a failed request must not keep the customer's credits reserved until the hold expires.
type holds struct {
	mu   sync.Mutex
	open map[*billing.Authorization]func()
}

type holdsKey struct{}

func withHolds(ctx context.Context) (context.Context, *holds) {
	h := &holds{open: map[*billing.Authorization]func(){}}
	return context.WithValue(ctx, holdsKey{}, h), h
}

// holdsOf is the request's registry; nil (a no-op) outside ServeHTTP, as in handler tests.
func holdsOf(ctx context.Context) *holds {
	h, _ := ctx.Value(holdsKey{}).(*holds)
	return h
}

// opened records a hold and how to give it back.
func (h *holds) opened(auth *billing.Authorization, release func()) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.open[auth] = release
}

// closed forgets a hold the handler settles or releases itself, whatever that call's outcome.
func (h *holds) closed(auth *billing.Authorization) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.open, auth)
}

// releaseAll gives back every hold still open (the recovery's part).
func (h *holds) releaseAll() {
	if h == nil {
		return
	}
	h.mu.Lock()
	pending := h.open
	h.open = map[*billing.Authorization]func(){}
	h.mu.Unlock()
	for _, release := range pending {
		release()
	}
}

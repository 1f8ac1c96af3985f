// Package reqid is the contract's request identity (rfcs/0001 §4, banyan/contract.py): which
// caller X-Request-ID a service keeps, the id carried in a request's context, and a slog
// handler that writes it on every log line of the request.
package reqid

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
)

// Header is the request id's header name.
const Header = "X-Request-ID"

// Accept is banyan.contract.accept_request_id: the caller's id when it is 1-128 characters
// of [A-Za-z0-9._:-] (it goes into every log line and ledger row, so it must be safe to), else
// 128 random bits as 32 hex digits.
func Accept(value string) string {
	if valid(value) {
		return value
	}
	return New()
}

func valid(v string) bool {
	if len(v) < 1 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.' || c == '_' || c == ':' || c == '-':
		default:
			return false
		}
	}
	return true
}

// New is a fresh id: 16 random bytes as lower-case hex, as legacy makes them.
func New() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

type key struct{}

// With returns ctx carrying id.
func With(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, key{}, id)
}

// From is the request id ctx carries ("" outside a request).
func From(ctx context.Context) string {
	id, _ := ctx.Value(key{}).(string)
	return id
}

// LogHandler adds request_id to every record logged with a request's context, so a handler
// or client deep in the call never has to pass it to the logger by hand.
type LogHandler struct{ slog.Handler }

// Handle implements slog.Handler.
func (h LogHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := From(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h LogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return LogHandler{h.Handler.WithAttrs(attrs)}
}

// WithGroup implements slog.Handler.
func (h LogHandler) WithGroup(name string) slog.Handler {
	return LogHandler{h.Handler.WithGroup(name)}
}

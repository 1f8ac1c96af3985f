// Package httpxtext words a failed outbound call as legacy's HTTP client (httpx) words it.
//
// Legacy answers a model it cannot reach with 502 and "the <model> is unreachable: <str of
// httpx's exception>", so a customer (and the shadow comparator) reads the transport's own
// words. The candidate's clients meet the same failures as Go errors; this maps the ones met in
// practice to httpx's text, so both implementations say the same thing. Anything else keeps
// Go's words: a divergence the parity runs will show, not one hidden behind a guess.
package httpxtext

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
)

// Describe is str(exc) of the httpx exception legacy would have met for err.
func Describe(err error) string {
	var dns *net.DNSError
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		errors.As(err, &netErr) && netErr.Timeout():
		return "" // httpx's ConnectTimeout and ReadTimeout carry no message
	case errors.Is(err, syscall.ECONNREFUSED):
		return "All connection attempts failed"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "Server disconnected without sending a response."
	case errors.As(err, &dns) && dns.IsNotFound:
		return "[Errno -2] Name or service not known"
	}
	return err.Error()
}

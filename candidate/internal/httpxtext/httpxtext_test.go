package httpxtext

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// A real call for each failure, so the mapping is checked against the errors net/http returns.
func TestDescribesRealFailuresAsHttpxDoes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := ln.Addr().String()
	ln.Close()

	hangup := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	}))
	defer hangup.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer slow.Close()

	call := func(url string, timeout time.Duration) error {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
		resp, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	for name, c := range map[string]struct {
		err  error
		want string
	}{
		"refused":  {call("http://"+closedAddr, time.Second), "All connection attempts failed"},
		"hung up":  {call(hangup.URL, time.Second), "Server disconnected without sending a response."},
		"timeout":  {call(slow.URL, 50*time.Millisecond), ""},
		"wrapped":  {fmt.Errorf("reading: %w", io.ErrUnexpectedEOF), "Server disconnected without sending a response."},
		"anything": {errors.New("tls: bad certificate"), "tls: bad certificate"},
	} {
		if got := Describe(c.err); got != c.want {
			t.Errorf("%s: Describe(%v) = %q, want %q", name, c.err, got, c.want)
		}
	}
}

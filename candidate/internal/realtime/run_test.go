package realtime

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

var (
	errGone = errors.New("the client is gone")
	errOver = errors.New("the server ended the session")
)

func isFault(err error) bool {
	return err != nil && !errors.Is(err, errGone) && !errors.Is(err, errOver) && !errors.Is(err, context.Canceled)
}

// lockedBuffer is a log sink the session's goroutines may write concurrently.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestRunEndsTheSessionWithItsFirstSide: the first side to end ends the session; a fault is
// logged and closes 1011, a normal end closes nothing more, a late fault is logged; both
// sides are joined before Run returns.
func TestRunEndsTheSessionWithItsFirstSide(t *testing.T) {
	for _, tc := range []struct {
		name       string
		work       func(context.Context, *Conn) error
		clientDone bool // the client leaves once the session is open
		closed     int  // the close code the client reads
		closeText  string
		logged     string // the error logged, "" for none
	}{
		{"a fault closes 1011", func(context.Context, *Conn) error { return errors.New("encoder broke") },
			false, websocket.CloseInternalServerErr, "internal error", "encoder broke"},
		{"a normal end closes nothing more", func(_ context.Context, c *Conn) error { c.Close(4000, "bye"); return errOver },
			false, 4000, "bye", ""},
		{"the second side's fault is logged", func(ctx context.Context, _ *Conn) error { <-ctx.Done(); return errors.New("late failure") },
			true, websocket.CloseNormalClosure, "", "late failure"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs lockedBuffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			opener := &Opener{Billing: &fakeBiller{}, Log: log, CloseGrace: 200 * time.Millisecond}
			returned := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				r = WithRequestID(r)
				conn, session, ok := opener.Open(w, r, Route{Name: "test-ws", Unit: "characters", Estimate: Units(10)})
				if !ok {
					return
				}
				defer session.Close(r.Context())
				receive := func(ctx context.Context) error {
					select {
					case <-ctx.Done():
						return nil
					case _, ok := <-conn.Frames():
						if !ok {
							return errGone
						}
						return errors.New("no frame was expected")
					}
				}
				Run(r.Context(), conn, log, "test", isFault, receive, func(ctx context.Context) error { return tc.work(ctx, conn) })
				close(returned)
			}))
			defer srv.Close()
			before := runtime.NumGoroutine() // the server's accept loop included
			ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), http.Header{"Api-Subscription-Key": {"k"}})
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			if tc.clientDone {
				_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
			}
			_, _, err = ws.ReadMessage()
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != tc.closed || ce.Text != tc.closeText {
				t.Errorf("read %v, want close %d %q", err, tc.closed, tc.closeText)
			}
			select {
			case <-returned:
			case <-time.After(5 * time.Second):
				t.Fatal("Run did not return")
			}
			got := logs.String()
			if tc.logged == "" && strings.Contains(got, "level=ERROR") {
				t.Errorf("logged %s", got)
			}
			if tc.logged != "" && (strings.Count(got, `msg="test session failed"`) != 1 || !strings.Contains(got, tc.logged)) {
				t.Errorf("logged %s, want one failure: %s", got, tc.logged)
			}
			ws.Close()
			srv.CloseClientConnections()
			waitGoroutines(t, before)
		})
	}
}

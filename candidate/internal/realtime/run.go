package realtime

import (
	"context"
	"log/slog"
	"sync"

	"github.com/gorilla/websocket"
)

// Run holds an accepted session served by two goroutines, as legacy serves one with two
// tasks: receive reads the client's messages, work makes what the session sends (speech,
// transcripts). Whichever returns first ends the session: a client gone must stop the work,
// and work that cannot go on must stop the reading.
//
// isFault tells the errors that are the server's (the ledger failing, an encoder or model
// error) from the ways a session ends normally (the client left, the wallet ran out, the
// session went idle; nil and context.Canceled should be normal too). A first error that is
// a fault is logged as "<name> session failed" and closes the session with 1011 "internal
// error", as legacy's server does with an exception out of the route; a normal end closes
// nothing more (the side that ended it has sent its own close, or the client is gone).
//
// Then ctx is cancelled for the other goroutine and conn is shut down, which unblocks a send
// stuck on a client that stopped reading; both goroutines are joined, and the second error
// is logged when it is a fault (it cannot change the close any more). When Run returns
// nothing of the session runs; the caller still owns the billing session and closes it.
func Run(ctx context.Context, conn *Conn, log *slog.Logger, name string, isFault func(error) bool, receive, work func(context.Context) error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ended := make(chan error, 2) // room for both: neither goroutine waits for Run to read
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); ended <- receive(ctx) }()
	go func() { defer wg.Done(); ended <- work(ctx) }()
	first := <-ended
	if isFault(first) {
		log.ErrorContext(ctx, name+" session failed", "error", first)
		conn.Close(websocket.CloseInternalServerErr, "internal error")
	}
	cancel()
	conn.Shutdown()
	wg.Wait()
	if second := <-ended; isFault(second) {
		log.ErrorContext(ctx, name+" session failed", "error", second)
	}
}

package realtime

import (
	"bytes"
	"crypto/rand"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// DefaultCloseGrace is how long a server that sent a close waits for the client's, before
// dropping the connection (closing first with unread data would reset it, and the client
// could lose the close frame and the messages before it).
const DefaultCloseGrace = 2 * time.Second

// closeWriteTimeout bounds writing a close frame to a client that stopped reading.
const closeWriteTimeout = 5 * time.Second

// Frame is one client message.
type Frame struct {
	Binary bool // a binary frame; else text (valid UTF-8, checked)
	Data   []byte
}

// Conn is an accepted session's socket. Its reader goroutine hands client messages over one
// at a time through Frames, so a receiver that stops taking them stops the server reading
// the socket, and the client's sends block on TCP flow control: back pressure, nothing
// queued without bound. Sends are serialised (gorilla allows one writer); a close is sent at
// most once. Shutdown ends it all and joins the reader.
type Conn struct {
	ws     *websocket.Conn
	grace  time.Duration
	frames chan Frame
	done   chan struct{} // closed by Shutdown: the reader then discards what still comes
	ended  chan struct{} // closed when the reader has returned: the client is gone

	writeMu sync.Mutex
	closeMu sync.Mutex
	closed  bool // a close frame was sent (or the client's answered)

	shutdown sync.Once
}

func newConn(ws *websocket.Conn, grace time.Duration, keepalive Keepalive) *Conn {
	ws.SetReadLimit(ReadLimit)
	c := &Conn{ws: ws, grace: grace, frames: make(chan Frame), done: make(chan struct{}), ended: make(chan struct{})}
	pongs := make(chan []byte, 1)
	ws.SetPongHandler(func(data string) error { // on the reader goroutine: never block it
		select {
		case pongs <- []byte(data):
		default:
		}
		return nil
	})
	go c.read()
	if keepalive.Interval > 0 {
		go c.keepalive(keepalive, pongs)
	}
	return c
}

// Keepalive is uvicorn's WebSocket keepalive, which legacy's sockets get from their server
// (ws_ping_interval and ws_ping_timeout, 20 s each): a ping every Interval, and a client that
// does not answer one within Timeout is failed with 1011 "keepalive ping timeout" and dropped.
// Without it a client gone without a close (a half-open connection, which TCP may not notice
// for hours) would hold its session, and the session's hold, as long as that.
type Keepalive struct{ Interval, Timeout time.Duration }

// DefaultKeepalive is uvicorn's default.
var DefaultKeepalive = Keepalive{Interval: 20 * time.Second, Timeout: 20 * time.Second}

// keepalive pings until the connection ends; a ping's payload is 4 random bytes, and only
// the pong that echoes it counts (a stale or unsolicited pong does not), as in uvicorn.
func (c *Conn) keepalive(k Keepalive, pongs <-chan []byte) {
	next := time.NewTimer(k.Interval)
	defer next.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-c.ended:
			return
		case <-next.C:
		}
		payload := make([]byte, 4)
		_, _ = rand.Read(payload)
		sent := time.Now()
		if err := c.ws.WriteControl(websocket.PingMessage, payload, sent.Add(closeWriteTimeout)); err != nil {
			return // the connection is going: the reader will see it
		}
		if !c.awaitPong(payload, pongs, k.Timeout) {
			return
		}
		next.Reset(max(0, k.Interval-time.Since(sent))) // uvicorn: the interval less the round trip
	}
}

// awaitPong waits for the pong of payload; on timeout it fails the connection (a close frame
// 1011, then the socket dropped, which ends the reader and so the session) and says false.
func (c *Conn) awaitPong(payload []byte, pongs <-chan []byte, timeout time.Duration) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		select {
		case got := <-pongs:
			if bytes.Equal(got, payload) {
				return true
			}
		case <-deadline.C:
			c.Close(websocket.CloseInternalServerErr, "keepalive ping timeout")
			_ = c.ws.Close()
			return false
		case <-c.done:
			return false
		case <-c.ended:
			return false
		}
	}
}

// Subprotocol is the subprotocol agreed on the handshake ("" when none).
func (c *Conn) Subprotocol() string { return c.ws.Subprotocol() }

// Frames delivers client messages; it is closed when the client is gone (its close, a
// broken connection, a message over ReadLimit, a text frame that is not UTF-8) or after
// Shutdown.
func (c *Conn) Frames() <-chan Frame { return c.frames }

func (c *Conn) read() {
	defer close(c.ended)
	defer close(c.frames)
	for {
		kind, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		if kind == websocket.TextMessage && !utf8.Valid(data) {
			// Legacy's server fails the connection the same way (1007, RFC 6455 §8.1).
			c.Close(websocket.CloseInvalidFramePayloadData, "invalid UTF-8 in a text frame")
			return
		}
		select {
		case c.frames <- Frame{Binary: kind == websocket.BinaryMessage, Data: data}:
		case <-c.done:
		}
	}
}

// Send writes one text message (a JSON document); an error means the client is gone or the
// connection was shut down.
func (c *Conn) Send(message []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	return c.ws.WriteMessage(websocket.TextMessage, message)
}

// Close sends a close frame with code and reason, unless one was sent already or the client
// is gone (legacy's close_quietly: an error on the way out is not the client's business).
// The connection stays open for the client's answer; Shutdown drops it.
func (c *Conn) Close(code int, reason string) {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	select {
	case <-c.ended:
		return
	default:
	}
	if c.closed {
		return
	}
	c.closed = true
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(closeWriteTimeout))
}

// Shutdown ends the connection: when the server sent a close it waits up to the grace
// period for the client's, then drops the connection, which unblocks a Send stuck on a
// client that stopped reading, and waits for the reader goroutine. Safe to call more than
// once and concurrently with Send.
func (c *Conn) Shutdown() {
	c.shutdown.Do(func() {
		close(c.done)
		c.closeMu.Lock()
		sent := c.closed
		c.closeMu.Unlock()
		if sent {
			timer := time.NewTimer(c.grace)
			select {
			case <-c.ended:
			case <-timer.C:
			}
			timer.Stop()
		}
		_ = c.ws.Close()
		<-c.ended
	})
}

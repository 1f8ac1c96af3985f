package realtime

import (
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

func newConn(ws *websocket.Conn, grace time.Duration) *Conn {
	ws.SetReadLimit(ReadLimit)
	c := &Conn{ws: ws, grace: grace, frames: make(chan Frame), done: make(chan struct{}), ended: make(chan struct{})}
	go c.read()
	return c
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

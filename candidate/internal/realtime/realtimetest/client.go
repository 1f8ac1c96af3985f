package realtimetest

import (
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// APIKey is the key every test session offers.
const APIKey = "sk_test"

// Dial opens a session at url as an SDK does: APIKey in api-subscription-key, requestID in
// X-Request-ID. The caller closes the connection.
func Dial(url, requestID string) (*websocket.Conn, *http.Response, error) {
	header := http.Header{"Api-Subscription-Key": {APIKey}, "X-Request-Id": {requestID}}
	return websocket.DefaultDialer.Dial(url, header)
}

// Client is a test's end of a session: a goroutine reads every server message, in order, into
// a channel, so a test can wait for a message, or for silence, without breaking the
// connection (a gorilla read that times out cannot resume).
type Client struct {
	*websocket.Conn
	events chan Event
}

// Event is one server message, or the read error that ended the reader (a
// *websocket.CloseError for a close), which is the last event.
type Event struct {
	Message string // a binary frame reads "BINARY FRAME": the routes send text only
	Err     error
}

// Open dials url (Dial) and adopts the session; the test fails when the handshake does.
func Open(t *testing.T, url, requestID string) *Client {
	t.Helper()
	ws, resp, err := Dial(url, requestID)
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	return Adopt(t, ws)
}

// Adopt starts the reader of a session the test opened; when the test ends the reader is
// stopped and the connection closed.
func Adopt(t *testing.T, ws *websocket.Conn) *Client {
	c := &Client{Conn: ws, events: make(chan Event, 100)}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			kind, data, err := ws.ReadMessage()
			if kind == websocket.BinaryMessage {
				data = []byte("BINARY FRAME")
			}
			select {
			case c.events <- Event{string(data), err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { close(stop); ws.Close(); <-done })
	return c
}

// Send writes one text message; the test fails when it cannot.
func (c *Client) Send(t *testing.T, message string) {
	t.Helper()
	if err := c.WriteMessage(websocket.TextMessage, []byte(message)); err != nil {
		t.Fatal(err)
	}
}

// Next is the next event within the wait; false when nothing came.
func (c *Client) Next(within time.Duration) (Event, bool) {
	select {
	case e := <-c.events:
		return e, true
	case <-time.After(within):
		return Event{}, false
	}
}

// Recv is the next message; the test fails on 5 s of silence or the end of the session.
func (c *Client) Recv(t *testing.T) string {
	t.Helper()
	e, ok := c.Next(5 * time.Second)
	switch {
	case !ok:
		t.Fatal("recv: nothing within 5 s")
	case e.Err != nil:
		t.Fatalf("recv: %v", e.Err)
	}
	return e.Message
}

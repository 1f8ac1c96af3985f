package realtime

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// echoServer opens sessions with Open and echoes each text frame until the client leaves;
// a frame "close" makes the server close (4000, "bye") first.
func echoServer(t *testing.T, f *fakeBiller) string {
	t.Helper()
	return echoServerWith(t, f, Keepalive{})
}

// echoServerWith is echoServer with the server's keepalive.
func echoServerWith(t *testing.T, f *fakeBiller, keepalive Keepalive) string {
	t.Helper()
	opener := &Opener{Billing: f, Log: quiet, CloseGrace: 200 * time.Millisecond, Keepalive: keepalive}
	var active sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		active.Add(1)
		defer active.Done()
		r = WithRequestID(r)
		conn, session, ok := opener.Open(w, r, Route{Name: "test-ws", Unit: "characters", Estimate: Units(10)})
		if !ok {
			return
		}
		defer session.Close(r.Context())
		defer conn.Shutdown()
		for frame := range conn.Frames() {
			if string(frame.Data) == "close" {
				conn.Close(4000, "bye")
				return
			}
			_ = session.Use(r.Context(), Units(int64(len(frame.Data))))
			if err := conn.Send(frame.Data); err != nil {
				return
			}
		}
	}))
	t.Cleanup(func() {
		srv.CloseClientConnections()
		active.Wait()
		srv.Close()
	})
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

func TestOpenEchoesTheKeySubprotocolAndSettles(t *testing.T) {
	f := &fakeBiller{}
	url := echoServer(t, f)
	before := runtime.NumGoroutine() // the server's accept loop included
	d := websocket.Dialer{Subprotocols: []string{"api-subscription-key.sk_p"}}
	ws, resp, err := d.Dial(url, http.Header{"X-Request-Id": {"rid-conn"}})
	if err != nil {
		t.Fatal(err)
	}
	if ws.Subprotocol() != "api-subscription-key.sk_p" || resp.Header.Get("Sec-Websocket-Protocol") != "api-subscription-key.sk_p" {
		t.Errorf("subprotocol %q", ws.Subprotocol())
	}
	for _, m := range []string{"hello", "नमस्ते"} {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
			t.Fatal(err)
		}
		if _, got, err := ws.ReadMessage(); err != nil || string(got) != m {
			t.Fatalf("echo %q %v", got, err)
		}
	}
	_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""), time.Now().Add(time.Second))
	if _, _, err := ws.ReadMessage(); !websocket.IsCloseError(err, 1000) { // the server echoes the close
		t.Errorf("close: %v", err)
	}
	ws.Close()
	waitCalls(t, f, 3)
	calls := f.recorded()
	if strings.Join(calls[0], " ") != "authorize sk_p test-ws characters 10 rid-conn" || strings.Join(calls[2], " ") != "settle characters 23" ||
		strings.Join(calls[1], " ") != "extend 13" {
		t.Errorf("calls %v", calls)
	}
	waitGoroutines(t, before)
}

func TestTheServersCloseIsSentOnceAndAnswered(t *testing.T) {
	f := &fakeBiller{}
	url := echoServer(t, f)
	ws, _, err := websocket.DefaultDialer.Dial(url, http.Header{"Api-Subscription-Key": {"k"}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.WriteMessage(websocket.TextMessage, []byte("close"))
	_, _, err = ws.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4000 || ce.Text != "bye" {
		t.Errorf("got %v", err)
	}
	waitCalls(t, f, 2)
	if last := f.recorded()[1]; last[0] != "release" {
		t.Errorf("an unused session: %v", last)
	}
}

func TestATextFrameThatIsNotUTF8Closes1007(t *testing.T) {
	f := &fakeBiller{}
	url := echoServer(t, f)
	ws, _, err := websocket.DefaultDialer.Dial(url, http.Header{"Api-Subscription-Key": {"k"}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.WriteMessage(websocket.TextMessage, []byte{0xff, 0xfe})
	_, _, err = ws.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseInvalidFramePayloadData) {
		t.Errorf("got %v", err)
	}
}

func TestARefusedHandshakeIsNotUpgraded(t *testing.T) {
	f := &fakeBiller{refuse: errors.New("ledger down")}
	url := echoServer(t, f)
	_, resp, err := websocket.DefaultDialer.Dial(url, nil)
	if err == nil || resp.StatusCode != 503 {
		t.Fatalf("got %v %v", err, resp)
	}
}

func waitCalls(t *testing.T, f *fakeBiller, n int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for len(f.recorded()) < n && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := f.recorded(); len(got) != n {
		t.Fatalf("calls %v, want %d", got, n)
	}
}

func waitGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if after := runtime.NumGoroutine(); after > before {
		t.Errorf("goroutines: %d before, %d after", before, after)
	}
}

// TestAClientThatAnswersNoPingIsDropped: uvicorn's keepalive, which legacy's sockets have: a
// client that reads (and so answers pings, as every WebSocket client does) stays through many
// intervals; one that does not answer within the timeout is failed with 1011 and the session
// ends, settling, instead of holding its hold for as long as a half-open connection lasts.
func TestAClientThatAnswersNoPingIsDropped(t *testing.T) {
	f := &fakeBiller{}
	url := echoServerWith(t, f, Keepalive{Interval: 30 * time.Millisecond, Timeout: 60 * time.Millisecond})

	alive, _, err := websocket.DefaultDialer.Dial(url, http.Header{"Api-Subscription-Key": {"sk_a"}})
	if err != nil {
		t.Fatal(err)
	}
	pings := 0
	alive.SetPingHandler(func(data string) error {
		pings++
		return alive.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	for i := 0; i < 8; i++ { // 8 round trips 40 ms apart: several pings, all answered
		time.Sleep(40 * time.Millisecond)
		if err := alive.WriteMessage(websocket.TextMessage, []byte("hi")); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		if _, got, err := alive.ReadMessage(); err != nil || string(got) != "hi" {
			t.Fatalf("round %d: %q %v", i, got, err)
		}
	}
	if pings < 3 {
		t.Errorf("%d pings in 320 ms at a 30 ms interval", pings)
	}
	alive.Close()
	waitCalls(t, f, 3)

	g := &fakeBiller{}
	silentURL := echoServerWith(t, g, Keepalive{Interval: 30 * time.Millisecond, Timeout: 60 * time.Millisecond})
	silent, _, err := websocket.DefaultDialer.Dial(silentURL, http.Header{"Api-Subscription-Key": {"sk_s"}})
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	time.Sleep(300 * time.Millisecond) // reads nothing, so answers no ping
	silent.SetPingHandler(func(string) error { return nil })
	_ = silent.SetReadDeadline(time.Now().Add(2 * time.Second))
	var closeErr error
	for closeErr == nil {
		_, _, closeErr = silent.ReadMessage()
	}
	if !websocket.IsCloseError(closeErr, websocket.CloseInternalServerErr) || !strings.Contains(closeErr.Error(), "keepalive ping timeout") {
		t.Errorf("the silent client got %v, want 1011 keepalive ping timeout", closeErr)
	}
	waitCalls(t, g, 2) // authorized, then settled (nothing used) when the session ended
}

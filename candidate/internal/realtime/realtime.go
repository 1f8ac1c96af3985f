// Package realtime is the candidate's port of legacy/realtime.py: who may open a WebSocket
// session of the public model APIs, and how the session is billed. Every realtime route
// goes through the same steps, as in legacy:
//
//	q := realtime.ParseQuery(r.URL.RawQuery)     // validate; q.Problem() != "": Refuse 422
//	conn, session, ok := opener.Open(w, r, route) // !ok: refused (401/402/429/503) already
//	defer session.Close(ctx)                      // settles however the session ends
//	realtime.Run(ctx, conn, log, name, isFault, receive, work) // until either side ends
//	...                                           // in receive or work:
//	err := session.Use(ctx, realtime.Units(n))    // IsInsufficientQuota(err): error + 1008
//
// Handshake (sdk-contract §1.1, §1.8; rfcs/0004 §7): the key comes from
// api-subscription-key, Authorization: Bearer or, for browsers that cannot set headers, the
// subprotocol api-subscription-key.<key>, which is echoed on accept. A refused handshake is
// answered before the upgrade with an ordinary HTTP response in the platform's envelope
// (401 bad key, 402, 429 with Retry-After and X-RateLimit-*, 422 bad query), so the SDKs
// surface the status.
package realtime

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"banyan/candidate/internal/billing"
	"banyan/candidate/internal/envelope"
	"banyan/candidate/internal/reqid"
)

// KeySubprotocol prefixes the key offered as a subprotocol: api-subscription-key.<key>.
const KeySubprotocol = "api-subscription-key."

// ReadLimit is the largest client message read, uvicorn's default ws_max_size (16 MiB): a
// larger one closes the session with 1009, as legacy's server does.
const ReadLimit = 16 << 20

// unavailableMessage is what a handshake hears when the ledger cannot be asked: the
// candidate's answer to billing.ErrUnavailable on every route.
const unavailableMessage = "billing is unavailable right now; nothing was charged, retry later"

// Route is how a realtime route is billed.
type Route struct {
	Name     string   // the ledger's route: "text-to-speech-ws"
	Unit     string   // "characters", "audio_seconds"
	Estimate Quantity // held when the session opens, and the least each extension adds
}

// WithRequestID returns r carrying its request id: the one the server put in its context,
// else the caller's valid X-Request-ID, else a new one (reqid.Accept), so a handler used
// outside httpapi's ServeHTTP still has the id legacy's middleware gives every socket.
func WithRequestID(r *http.Request) *http.Request {
	if reqid.From(r.Context()) != "" {
		return r
	}
	values := r.Header.Values(reqid.Header)
	last := ""
	if len(values) > 0 {
		last = values[len(values)-1]
	}
	return r.WithContext(reqid.With(r.Context(), reqid.Accept(last)))
}

// BillingRequest is what a billing call forwards of the handshake: its request id,
// traceparent and X-Banyan-Shadow (a shadow session bills the shadow ledger).
func BillingRequest(r *http.Request) billing.Request {
	req := billing.Request{RequestID: reqid.From(r.Context()), Traceparent: r.Header.Get("Traceparent")}
	if shadow, ok := r.Header["X-Banyan-Shadow"]; ok && len(shadow) > 0 {
		req.Shadow, req.HasShadow = shadow[0], true
	}
	return req
}

// Key is the API key of a handshake and the subprotocol to echo on accept: the key from
// api-subscription-key, else Authorization: Bearer, else the first offered
// api-subscription-key.<key> subprotocol. That subprotocol is echoed whenever it was offered,
// even when a header carried the key, as legacy does.
func Key(r *http.Request) (key, subprotocol string) {
	for _, offered := range websocket.Subprotocols(r) {
		if strings.HasPrefix(offered, KeySubprotocol) && len(offered) > len(KeySubprotocol) {
			key, subprotocol = offered[len(KeySubprotocol):], offered
			break
		}
	}
	if header := headerKey(r); header != "" {
		key = header
	}
	return key, subprotocol
}

// headerKey is legacy's api_key_from: api-subscription-key, else Authorization: Bearer.
func headerKey(r *http.Request) string {
	if key := latin1(r.Header.Get("Api-Subscription-Key")); key != "" {
		return key
	}
	scheme, token, _ := strings.Cut(latin1(r.Header.Get("Authorization")), " ")
	if strings.ToLower(scheme) != "bearer" {
		return ""
	}
	return pyStrip(token)
}

// Refuse answers the handshake with the envelope instead of upgrading it.
func Refuse(w http.ResponseWriter, r *http.Request, status int, message, code string, header http.Header) {
	envelope.Write(w, status, message, code, reqid.From(r.Context()), header)
}

// RefuseBilling answers a handshake whose authorization failed, as open_session does: a bad
// key is 401 invalid_api_key_error "Websocket initialized with invalid credentials: …" (the
// status the real service uses on sockets, whatever the route family); other refusals keep
// the ledger's status, message and rate-limit headers; a ledger that cannot be asked is 503.
func RefuseBilling(w http.ResponseWriter, r *http.Request, err error) {
	var refusal *billing.Refusal
	if !errors.As(err, &refusal) {
		Refuse(w, r, http.StatusServiceUnavailable, unavailableMessage, "billing_service_unavailable_error", nil)
		return
	}
	if refusal.Status == http.StatusUnauthorized {
		Refuse(w, r, http.StatusUnauthorized, "Websocket initialized with invalid credentials: "+refusal.Message,
			"invalid_api_key_error", refusal.Header)
		return
	}
	Refuse(w, r, refusal.Status, refusal.Message, "", refusal.Header)
}

// Opener authorizes and accepts sessions.
type Opener struct {
	Billing Biller
	Log     *slog.Logger
	// CloseGrace is how long Conn.Shutdown waits for the client's answer to a close the
	// server sent (0: DefaultCloseGrace).
	CloseGrace time.Duration
	// Keepalive pings the client (zero: DefaultKeepalive; a negative Interval: none).
	Keepalive Keepalive
}

// Open authorizes route's estimate with the handshake's key and upgrades the connection,
// echoing the key subprotocol. On refusal it answers the handshake (RefuseBilling) and
// returns false; a hold whose upgrade then fails is released. r must carry its request id
// (WithRequestID).
func (o *Opener) Open(w http.ResponseWriter, r *http.Request, route Route) (*Conn, *Session, bool) {
	key, subprotocol := Key(r)
	req := BillingRequest(r)
	auth, err := o.Billing.AuthorizeAmount(r.Context(), req, key, route.Name, route.Unit, route.Estimate.String())
	if err != nil {
		RefuseBilling(w, r, err)
		return nil, nil, false
	}
	var header http.Header
	if subprotocol != "" {
		header = http.Header{"Sec-Websocket-Protocol": {subprotocol}}
	}
	upgrader := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	ws, err := upgrader.Upgrade(hijacker(w), r, header)
	if err != nil { // gorilla has answered the handshake with its own 4xx
		o.Log.WarnContext(r.Context(), "websocket upgrade failed", "error", err)
		if err := o.Billing.Release(context.WithoutCancel(r.Context()), req, auth); err != nil {
			o.Log.ErrorContext(r.Context(), "could not release the hold of a failed upgrade", "error", err)
		}
		return nil, nil, false
	}
	grace := o.CloseGrace
	if grace <= 0 {
		grace = DefaultCloseGrace
	}
	keepalive := o.Keepalive
	if keepalive == (Keepalive{}) {
		keepalive = DefaultKeepalive
	}
	return newConn(ws, grace, keepalive), NewSession(o.Billing, req, auth, route.Estimate, o.Log), true
}

// hijacker is the ResponseWriter that can hand the connection over: gorilla asserts
// http.Hijacker on the writer itself, so wrappers (a status recorder) are unwrapped.
func hijacker(w http.ResponseWriter) http.ResponseWriter {
	for {
		if _, ok := w.(http.Hijacker); ok {
			return w
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return w
		}
		w = u.Unwrap()
	}
}

// latin1 is a header value as Starlette reads it: each byte one character.
func latin1(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			runes := make([]rune, len(s))
			for j := 0; j < len(s); j++ {
				runes[j] = rune(s[j])
			}
			return string(runes)
		}
	}
	return s
}

// pyStrip is Python's str.strip() for text decoded as Latin-1.
func pyStrip(s string) string {
	return strings.TrimFunc(s, func(r rune) bool {
		switch r {
		case '\t', '\n', '\v', '\f', '\r', 0x1c, 0x1d, 0x1e, 0x1f, ' ', 0x85, 0xa0:
			return true
		}
		return false
	})
}

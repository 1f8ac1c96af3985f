package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"banyan/candidate/internal/billing"
	"banyan/candidate/internal/reqid"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

const caseRequestID = "rid-realtime-1" // the request id gen_cases.py gives every handshake

func load(t *testing.T, name string, into any) {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, into); err != nil {
		t.Fatal(err)
	}
}

type denial struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

// sameDenial compares a recorded answer with legacy's denial response: status, body bytes
// and every header legacy sent (names case-insensitively), nothing more of the envelope's.
func sameDenial(t *testing.T, rec *httptest.ResponseRecorder, want *denial) {
	t.Helper()
	if rec.Code != want.Status || rec.Body.String() != want.Body {
		t.Errorf("got %d %s\nwant %d %s", rec.Code, rec.Body, want.Status, want.Body)
	}
	for name, value := range want.Headers {
		if got := rec.Header().Get(name); got != value {
			t.Errorf("header %s = %q, want %q", name, got, value)
		}
	}
	for name := range rec.Header() {
		if _, ok := want.Headers[strings.ToLower(name)]; !ok {
			t.Errorf("header %s that legacy does not send", name)
		}
	}
}

func caseRequest(target string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	return r.WithContext(reqid.With(r.Context(), caseRequestID))
}

var models = []string{"bulbul:v2", "bulbul:v3", "bulbul:v4-flash"}

// TestQueryAsLegacy replays testdata/query_cases.json: legacy's parse_query(TtsWsQuery).
func TestQueryAsLegacy(t *testing.T) {
	var cases []struct {
		Query               string  `json:"query"`
		Model               *string `json:"model"`
		SendCompletionEvent bool    `json:"send_completion_event"`
		Refusal             *denial `json:"refusal"`
	}
	load(t, "query_cases.json", &cases)
	for _, tc := range cases {
		q := ParseQuery(tc.Query)
		model := q.Literal("model", models)
		event := q.Bool("send_completion_event", false)
		problem := q.Problem()
		if tc.Refusal != nil {
			if problem == "" {
				t.Errorf("%q: accepted, legacy refuses: %s", tc.Query, tc.Refusal.Body)
				continue
			}
			rec := httptest.NewRecorder()
			Refuse(rec, caseRequest("/text-to-speech/ws"), http.StatusUnprocessableEntity, problem, "", nil)
			sameDenial(t, rec, tc.Refusal)
			continue
		}
		want := ""
		if tc.Model != nil {
			want = *tc.Model
		}
		if problem != "" || model != want || event != tc.SendCompletionEvent {
			t.Errorf("%q: got %q %v %q, want %q %v", tc.Query, model, event, problem, want, tc.SendCompletionEvent)
		}
	}
}

// TestKeyAsLegacy replays testdata/handshake_cases.json: the key open_session authorizes
// with and the subprotocol it echoes.
func TestKeyAsLegacy(t *testing.T) {
	var cases []struct {
		Name         string      `json:"name"`
		Headers      [][2]string `json:"headers"`
		Subprotocols []string    `json:"subprotocols"`
		APIKey       *string     `json:"api_key"`
		Echoed       *string     `json:"echoed"`
	}
	load(t, "handshake_cases.json", &cases)
	for _, tc := range cases {
		r := caseRequest("/text-to-speech/ws")
		for _, h := range tc.Headers {
			r.Header.Add(h[0], h[1])
		}
		if len(tc.Subprotocols) > 0 {
			r.Header.Set("Sec-WebSocket-Protocol", strings.Join(tc.Subprotocols, ", "))
		}
		key, proto := Key(r)
		if key != deref(tc.APIKey) || proto != deref(tc.Echoed) {
			t.Errorf("%s: got key %q echo %q, want %q %q", tc.Name, key, proto, deref(tc.APIKey), deref(tc.Echoed))
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TestRefusalsAsLegacy replays testdata/refusal_cases.json: what the internal API tells the
// candidate, against the handshake legacy refuses with.
func TestRefusalsAsLegacy(t *testing.T) {
	var cases []struct {
		Name     string `json:"name"`
		Internal struct {
			Status  int               `json:"status"`
			Message string            `json:"message"`
			Headers map[string]string `json:"headers"`
		} `json:"internal"`
		Refusal denial `json:"refusal"`
	}
	load(t, "refusal_cases.json", &cases)
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			header := http.Header{}
			for k, v := range tc.Internal.Headers {
				header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			RefuseBilling(rec, caseRequest("/text-to-speech/ws"), &billing.Refusal{Status: tc.Internal.Status, Message: tc.Internal.Message, Header: header})
			sameDenial(t, rec, &tc.Refusal)
		})
	}
}

func TestAnUnavailableLedgerIs503(t *testing.T) {
	rec := httptest.NewRecorder()
	RefuseBilling(rec, caseRequest("/text-to-speech/ws"), billing.ErrUnavailable)
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), `"code":"billing_service_unavailable_error"`) {
		t.Errorf("%d %s", rec.Code, rec.Body)
	}
}

// fakeBiller is legacy's ledger for one reservation, over a wallet that holds at most limit
// (0: any). It records every call as gen_cases.py's FakeBilling does.
type fakeBiller struct {
	mu         sync.Mutex
	limit      Quantity
	held       Quantity
	calls      [][]string
	refuse     error
	failSettle bool
}

func (f *fakeBiller) record(call ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

func (f *fakeBiller) AuthorizeAmount(_ context.Context, req billing.Request, apiKey, route, unit, quantity string) (*billing.Authorization, error) {
	f.record("authorize", apiKey, route, unit, quantity, req.RequestID)
	if f.refuse != nil {
		return nil, f.refuse
	}
	q, err := ParseQuantity(quantity)
	if err != nil {
		return nil, err
	}
	f.held = q
	return &billing.Authorization{ReservationID: "r-1", Unit: unit}, nil
}

func (f *fakeBiller) Extend(_ context.Context, _ billing.Request, _ *billing.Authorization, quantity string) error {
	f.record("extend", quantity)
	q, err := ParseQuantity(quantity)
	if err != nil {
		return err
	}
	if f.limit > 0 && f.held+q > f.limit {
		return &billing.Refusal{Status: 402, Message: "the wallet cannot cover more of this stream; top it up"}
	}
	f.held += q
	return nil
}

func (f *fakeBiller) SettleAmount(_ context.Context, _ billing.Request, auth *billing.Authorization, quantity string) error {
	f.record("settle", auth.Unit, quantity)
	if f.failSettle {
		return &billing.Refusal{Status: 409, Message: "reservation was expired"}
	}
	return nil
}

func (f *fakeBiller) Release(context.Context, billing.Request, *billing.Authorization) error {
	f.record("release")
	return nil
}

func (f *fakeBiller) recorded() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]string(nil), f.calls...)
}

// TestSessionAsLegacy replays testdata/session_cases.json: MeteredSession's billing calls.
func TestSessionAsLegacy(t *testing.T) {
	var cases []struct {
		Name       string     `json:"name"`
		Estimate   string     `json:"estimate"`
		Limit      string     `json:"limit"`
		Uses       []string   `json:"uses"`
		FailSettle bool       `json:"fail_settle"`
		Outcomes   []string   `json:"outcomes"`
		Used       string     `json:"used"`
		Calls      [][]string `json:"calls"`
	}
	load(t, "session_cases.json", &cases)
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			estimate := mustQuantity(t, tc.Estimate)
			f := &fakeBiller{held: estimate, failSettle: tc.FailSettle}
			if tc.Limit != "" {
				f.limit = mustQuantity(t, tc.Limit)
			}
			s := NewSession(f, billing.Request{RequestID: caseRequestID}, &billing.Authorization{ReservationID: "r-1", Unit: "characters"}, estimate, quiet)
			var outcomes []string
			for _, use := range tc.Uses {
				switch err := s.Use(context.Background(), mustQuantity(t, use)); {
				case err == nil:
					outcomes = append(outcomes, "ok")
				case IsInsufficientQuota(err):
					outcomes = append(outcomes, "insufficient_quota")
				default:
					t.Fatalf("use %s: %v", use, err)
				}
			}
			if s.Used() != mustQuantity(t, tc.Used) {
				t.Errorf("used %s, want %s", s.Used(), tc.Used)
			}
			s.Close(context.Background())
			s.Close(context.Background()) // once
			if err := s.Use(context.Background(), Units(1)); !errors.Is(err, ErrSessionClosed) {
				t.Errorf("use after close: %v", err)
			}
			if strings.Join(outcomes, ",") != strings.Join(tc.Outcomes, ",") {
				t.Errorf("outcomes %v, want %v", outcomes, tc.Outcomes)
			}
			got := f.recorded()
			if len(got) != len(tc.Calls) {
				t.Fatalf("calls %v, want %v", got, tc.Calls)
			}
			for i := range got {
				if !sameCall(t, got[i], tc.Calls[i]) {
					t.Errorf("call %d: %v, want %v", i, got[i], tc.Calls[i])
				}
			}
		})
	}
}

// sameCall compares a call's name and arguments, quantities by value (legacy's Decimal
// keeps trailing zeros, "3.0", which the ledger reads as 3).
func sameCall(t *testing.T, got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] == want[i] {
			continue
		}
		g, err1 := ParseQuantity(got[i])
		w, err2 := ParseQuantity(want[i])
		if err1 != nil || err2 != nil || g != w {
			return false
		}
	}
	return true
}

func mustQuantity(t *testing.T, s string) Quantity {
	t.Helper()
	q, err := ParseQuantity(s)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestQuantityStrings(t *testing.T) {
	for in, want := range map[string]string{"46": "46", "0": "0", "22.346": "22.346", "-5": "-5", "0.500": "0.5", "0.000001": "0.000001", "-0.25": "-0.25"} {
		q, err := ParseQuantity(in)
		if err != nil || q.String() != want {
			t.Errorf("%s → %s %v, want %s", in, q, err, want)
		}
	}
	for _, bad := range []string{"", "x", "1.2345678", "1e3", "--1", ".5", "1.-5"} {
		if _, err := ParseQuantity(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	if Units(3)+Milli(1500) != mustQuantity(t, "4.5") {
		t.Error("Units + Milli")
	}
}

// TestSessionUseIsConcurrencySafe: many goroutines using at once extend one at a time and
// count everything (run with -race).
func TestSessionUseIsConcurrencySafe(t *testing.T) {
	f := &fakeBiller{held: Units(10)}
	s := NewSession(f, billing.Request{}, &billing.Authorization{Unit: "characters"}, Units(10), quiet)
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = s.Use(context.Background(), Units(3))
		}()
	}
	wg.Wait()
	s.Close(context.Background())
	if s.Used() != Units(150) || f.held < Units(150) {
		t.Errorf("used %s held %s", s.Used(), f.held)
	}
	calls := f.recorded()
	if last := calls[len(calls)-1]; last[0] != "settle" || last[2] != "150" {
		t.Errorf("last call %v", last)
	}
}

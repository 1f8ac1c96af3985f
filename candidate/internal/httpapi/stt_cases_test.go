package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"banyan/candidate/internal/billing"
	"banyan/candidate/internal/casefile"
	"banyan/candidate/internal/stt"
	"banyan/candidate/internal/text"
)

// sttLedger is gen/gen_stt_cases.py's DecimalBilling on the candidate's side: the fake
// ledger's answers (as fakeLedger's) with quantities as decimal strings.
type sttLedger struct {
	mu    sync.Mutex
	calls []map[string]any
}

func (f *sttLedger) record(call map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

func (f *sttLedger) take() []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	calls := f.calls
	f.calls = nil
	return calls
}

func (f *sttLedger) AuthorizeAmount(_ context.Context, req billing.Request, apiKey, route, unit, quantity string) (*billing.Authorization, error) {
	shadow := req.HasShadow && req.Shadow == "1"
	f.record(map[string]any{"call": "authorize", "api_key": apiKey, "route": route, "unit": unit,
		"quantity": quantity, "shadow": shadow})
	switch apiKey {
	case "":
		return nil, &billing.Refusal{Status: 401, Message: "send your API key in api-subscription-key or Authorization: Bearer"}
	case "bad":
		return nil, &billing.Refusal{Status: 401, Message: "the API key is not valid"}
	case "broke":
		return nil, &billing.Refusal{Status: 402, Message: fmt.Sprintf("the wallet cannot cover this request (%s credits needed); top it up", quantity)}
	case "limited":
		return nil, &billing.Refusal{Status: 429, Message: "rate limit of your plan reached (requests); retry later",
			Header: rateHeaders("2", "0", "1767225660", "42")}
	}
	auth := &billing.Authorization{ReservationID: "00000000-0000-0000-0000-000000000001", Unit: unit, RateLimit: http.Header{}}
	if !shadow {
		auth.RateLimit = rateHeaders("60", "59", "1767225600", "")
	}
	return auth, nil
}

func (f *sttLedger) SettleAmount(_ context.Context, _ billing.Request, auth *billing.Authorization, quantity string) error {
	f.record(map[string]any{"call": "settle", "unit": auth.Unit, "quantity": quantity})
	return nil
}

func (f *sttLedger) Release(context.Context, billing.Request, *billing.Authorization) error {
	f.record(map[string]any{"call": "release"})
	return nil
}

// asrCall is one recognition call legacy made and the model's answer (HangUp: the
// connection closed instead).
type asrCall struct {
	Call struct {
		Language string   `json:"language"`
		Mode     string   `json:"mode"`
		Keyterms []string `json:"keyterms"`
		SHA256   string   `json:"sha256"`
		Bytes    int      `json:"bytes"`
	} `json:"call"`
	Status int    `json:"status"`
	Body   string `json:"body"`
	HangUp bool   `json:"hang_up"`
}

func asrKey(language, mode string, terms []string, sha string) string {
	return language + "|" + mode + "|" + strings.Join(terms, "\x00") + "|" + sha
}

// fakeASR is the inference server's /v1/asr answering each call as the model answered
// legacy's identical call (same query, same audio), recording what it was asked.
type fakeASR struct {
	mu     sync.Mutex
	script map[string]asrCall
	asked  map[string][]string // by X-Request-ID: a call cancelled by a failure may land late
}

// expect scripts the answers and returns what the request id asked since the last call.
func (f *fakeASR) expect(requestID string, calls []asrCall) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	asked := f.asked[requestID]
	f.asked, f.script = map[string][]string{}, map[string]asrCall{}
	for _, c := range calls {
		f.script[asrKey(c.Call.Language, c.Call.Mode, c.Call.Keyterms, c.Call.SHA256)] = c
	}
	return asked
}

func (f *fakeASR) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return // a call cancelled mid-upload by another piece's failure
	}
	sum := sha256.Sum256(body)
	q := r.URL.Query()
	key := asrKey(q.Get("language"), q.Get("mode"), q["keyterm"], hex.EncodeToString(sum[:]))
	f.mu.Lock()
	id := r.Header.Get("X-Request-ID")
	f.asked[id] = append(f.asked[id], key)
	answer, ok := f.script[key]
	f.mu.Unlock()
	switch {
	case r.URL.Path != "/v1/asr" || r.Header.Get("Content-Type") != "audio/L16; rate=16000":
		http.Error(w, "not a recognition call", http.StatusTeapot)
	case !ok:
		http.Error(w, "legacy made no such call", http.StatusTeapot)
	case answer.HangUp:
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close()
		}
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(answer.Status)
		_, _ = io.WriteString(w, answer.Body)
	}
}

type sttCase struct {
	httpCase
	Inference  string    `json:"inference"`
	ASRCalls   []asrCall `json:"asr_calls"`
	Divergence string    `json:"divergence"`
}

type sttCases struct {
	Audio map[string]string `json:"audio"`
	Cases []sttCase         `json:"cases"`
}

func loadSTTCases(t *testing.T) sttCases {
	t.Helper()
	raw, err := casefile.Read("testdata/stt_cases.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	var c sttCases
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Cases) == 0 {
		t.Fatal("no cases")
	}
	return c
}

func newSTTServer(ledger *sttLedger, model stt.Model) *Server {
	return New(Config{
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		Billing:     &fakeLedger{},
		Text:        text.New(),
		LID:         &fakeModel{},
		Metrics:     NewMetrics(),
		Recognition: RecognitionConfig{Model: model, Billing: ledger},
	})
}

// TestSpeechToTextAnswersAsLegacy replays testdata/stt_cases.json.gz (legacy's
// /speech-to-text and /speech-to-text-translate with the inference server's real recognition route, run by
// gen/gen_stt_cases.py): status, contract headers, body byte for byte, billing calls, and
// the recognition calls (query and audio, to the byte) against legacy's.
func TestSpeechToTextAnswersAsLegacy(t *testing.T) {
	data := loadSTTCases(t)
	audio := map[string][]byte{}
	for name, b64 := range data.Audio {
		audio[name], _ = base64.StdEncoding.DecodeString(b64)
	}
	asr := &fakeASR{}
	modelServer := httptest.NewServer(asr)
	defer modelServer.Close()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nowhere := "http://" + listener.Addr().String()
	listener.Close()
	ledger := &sttLedger{}
	live := newSTTServer(ledger, stt.New(modelServer.URL, modelServer.Client(), 0))
	servers := map[string]*Server{
		"none":    newSTTServer(ledger, nil),
		"refused": newSTTServer(ledger, stt.New(nowhere, http.DefaultClient, 0)),
	}
	diverged := 0
	for _, tc := range data.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			srv := servers[tc.Inference]
			if srv == nil {
				srv = live
			}
			body, _ := base64.StdEncoding.DecodeString(tc.Body)
			for name, a := range audio {
				body = bytes.ReplaceAll(body, []byte("@@AUDIO:"+name+"@@"), a)
			}
			req := httptest.NewRequest(tc.Method, "http://testserver"+tc.Path, bytes.NewReader(body))
			declared := false
			for _, h := range tc.Headers {
				req.Header.Add(h[0], h[1])
				declared = declared || strings.EqualFold(h[0], "content-length")
			}
			if !declared && (len(body) > 0 || tc.Method == http.MethodPost) {
				req.Header.Set("Content-Length", strconv.Itoa(len(body)))
			}
			id := tc.Want.Headers["x-request-id"]
			asr.expect(id, tc.ASRCalls)
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			calls := ledger.take()
			asked := asr.expect(id, nil)
			if tc.Divergence != "" {
				if rec.Code == tc.Want.Status {
					t.Errorf("marked as a divergence (%s) but answered %d as legacy: drop the mark", tc.Divergence, rec.Code)
				}
				diverged++
				t.Logf("known divergence (%s): candidate %d %s", tc.Divergence, rec.Code, rec.Body.String())
				return
			}
			if rec.Code != tc.Want.Status {
				t.Fatalf("status %d, legacy %d (body %s)", rec.Code, tc.Want.Status, rec.Body.String())
			}
			if got, want := rec.Header().Get("X-Request-ID"), tc.Want.Headers["x-request-id"]; got != want {
				t.Errorf("request id %q, legacy %q", got, want)
			}
			for name, want := range tc.Want.Headers {
				if name == "x-request-id" {
					continue
				}
				if got := rec.Header().Get(name); got != want {
					t.Errorf("header %s = %q, legacy %q", name, got, want)
				}
			}
			for name := range rec.Header() {
				lower := strings.ToLower(name)
				if _, ok := tc.Want.Headers[lower]; !ok && (strings.HasPrefix(lower, "x-ratelimit-") || lower == "retry-after" || lower == "allow" || lower == "location") {
					t.Errorf("header %s = %q, legacy sends none", name, rec.Header().Get(name))
				}
			}
			if got := rec.Body.String(); got != tc.Want.Body {
				t.Errorf("body\n got %s\nlegacy %s", got, tc.Want.Body)
			}
			if !reflect.DeepEqual(normalise(calls), normalise(tc.Billing)) {
				t.Errorf("billing calls %v, legacy %v", calls, tc.Billing)
			}
			var legacy []string
			for _, c := range tc.ASRCalls {
				legacy = append(legacy, asrKey(c.Call.Language, c.Call.Mode, c.Call.Keyterms, c.Call.SHA256))
			}
			for _, key := range asked {
				found := false
				for _, l := range legacy {
					found = found || l == key
				}
				if !found {
					t.Errorf("asked the model %q; legacy made no such call", key)
				}
			}
			// A failure stops the candidate's other calls; legacy lets them run.
			if tc.Want.Status == http.StatusOK && len(asked) != len(legacy) {
				t.Errorf("%d recognition calls, legacy %d", len(asked), len(legacy))
			}
		})
	}
	if diverged != 2 {
		t.Errorf("%d cases marked as divergences; the corpus has two (MP3, on each route)", diverged)
	}
}

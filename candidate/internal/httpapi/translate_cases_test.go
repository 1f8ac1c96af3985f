package httpapi

import (
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"banyan/candidate/internal/text"
	"banyan/candidate/internal/translation"
	"banyan/candidate/internal/translationmodel"
)

// translateCall is one call legacy made to the translation model, and the model's answer
// (HangUp: it closed the connection instead).
type translateCall struct {
	Call   translationmodel.Call `json:"call"`
	Status int                   `json:"status"`
	Body   string                `json:"body"`
	HangUp bool                  `json:"hang_up"`
}

// translateCase is a case of testdata/translate_cases.json: an httpCase, how the inference
// server is configured ("", "none", "refused") and the translation model's calls.
type translateCase struct {
	httpCase
	Inference      string          `json:"inference"`
	TranslateCalls []translateCall `json:"translate_calls"`
}

// fakeInference is the inference server's /v1/translate answering each call as the model
// answered legacy's identical call, recording what it was asked.
type fakeInference struct {
	mu     sync.Mutex
	script []translateCall
	asked  []translationmodel.Call
}

func (f *fakeInference) expect(calls []translateCall) []translationmodel.Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	asked := f.asked
	f.asked, f.script = nil, calls
	return asked
}

func (f *fakeInference) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var call translationmodel.Call
	if r.URL.Path != "/v1/translate" || json.NewDecoder(r.Body).Decode(&call) != nil {
		http.Error(w, "not a translate call", http.StatusTeapot)
		return
	}
	f.mu.Lock()
	f.asked = append(f.asked, call)
	i := slices.IndexFunc(f.script, func(c translateCall) bool { return c.Call == call })
	var answer translateCall
	if i >= 0 {
		answer = f.script[i]
	}
	f.mu.Unlock()
	switch {
	case i < 0:
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

func newTranslateServer(ledger *fakeLedger, model *fakeModel, translator translation.Model) *Server {
	return New(Config{
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		Billing:    ledger,
		Text:       text.New(),
		LID:        model,
		Metrics:    NewMetrics(),
		Translator: translator,
	})
}

// TestTranslateAnswersAsLegacy replays testdata/translate_cases.json (legacy's /translate
// with the inference server's real translation route, run by gen/gen_translate_cases.py):
// what replay checks, and the translation model's calls (chunks, fields) against legacy's.
func TestTranslateAnswersAsLegacy(t *testing.T) {
	var cases []translateCase
	loadCases(t, "testdata/translate_cases.json", &cases)
	if len(cases) == 0 {
		t.Fatal("no cases")
	}
	inference := &fakeInference{}
	modelServer := httptest.NewServer(inference)
	defer modelServer.Close()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nowhere := "http://" + listener.Addr().String()
	listener.Close()

	ledger, model := &fakeLedger{}, &fakeModel{}
	servers := map[string]*Server{
		"":        newTranslateServer(ledger, model, translationmodel.New(modelServer.URL, modelServer.Client(), 0)),
		"none":    newTranslateServer(ledger, model, nil),
		"refused": newTranslateServer(ledger, model, translationmodel.New(nowhere, http.DefaultClient, 0)),
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			inference.expect(tc.TranslateCalls)
			replay(t, servers[tc.Inference], ledger, model, tc.httpCase)
			asked := inference.expect(nil)
			var legacy []translationmodel.Call
			for _, c := range tc.TranslateCalls {
				legacy = append(legacy, c.Call)
			}
			for _, call := range asked {
				// When a chunk fails, which of the others were already asked depends on
				// timing on either side (CI once saw the candidate reach chunk 2 before
				// chunk 1's garbage came back, where legacy had not): only a success
				// fixes the whole set of calls.
				if !slices.Contains(legacy, call) && tc.Want.Status == http.StatusOK {
					t.Errorf("called the model with %+v; legacy made no such call", call)
				}
			}
			// A failure stops the candidate's other calls; legacy lets them run.
			if tc.Want.Status == http.StatusOK && len(asked) != len(legacy) {
				t.Errorf("%d model calls, legacy %d", len(asked), len(legacy))
			}
		})
	}
}

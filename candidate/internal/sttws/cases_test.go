package sttws

import (
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"banyan/candidate/internal/realtime/realtimetest"
	"banyan/candidate/internal/reqid"
)

// TestHandshakeRefusalsAreLegacys replays testdata/query_cases.json (gen/gen_cases.py): every
// query through the real handler with no model, as legacy without an inference URL: the 422
// or 400 legacy refuses it with, byte for byte, else its 503; and for a query that validates,
// the fields the session would run with.
func TestHandshakeRefusalsAreLegacys(t *testing.T) {
	var cases []struct {
		Route   string `json:"route"`
		Query   string `json:"query"`
		Refusal struct {
			Status int    `json:"status"`
			Body   string `json:"body"`
		} `json:"refusal"`
		Fields map[string]*string `json:"fields"`
	}
	realtimetest.Load(t, "testdata/query_cases.json", &cases)
	for _, c := range cases {
		translate := c.Route == "speech-to-text-translate"
		h := NewTranscribe(Config{})
		if translate {
			h = NewTranslate(Config{})
		}
		r := httptest.NewRequest(http.MethodGet, "/"+c.Route+"/ws?"+c.Query, nil)
		r.Header.Set("Connection", "Upgrade")
		r.Header.Set("Upgrade", "websocket")
		r.Header.Set(reqid.Header, "rid-sttws-query")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != c.Refusal.Status || w.Body.String() != c.Refusal.Body {
			t.Errorf("%s ?%s: %d %s\nlegacy %d %s", c.Route, c.Query, w.Code, w.Body, c.Refusal.Status, c.Refusal.Body)
			continue
		}
		if c.Fields == nil {
			continue
		}
		parse := parseQuery
		if translate {
			parse = parseTranslateQuery
		}
		o, problem := parse(c.Query)
		if problem != "" {
			t.Fatalf("%s ?%s: %s", c.Route, c.Query, problem)
		}
		f := func(name string) string { return *c.Fields[name] }
		rate := map[string]int{"16000": 16000, "8000": 8000}[f("sample_rate")]
		if f("input_audio_codec") == "wav" {
			rate = 0
		}
		ok := o.model == f("model") && o.rawRate == rate && o.highVAD == (f("high_vad_sensitivity") == "true") &&
			o.vadSignals == (f("vad_signals") == "true")
		if translate {
			ok = ok && o.request.Language == "unknown" && o.request.Mode == "translate"
		} else {
			keyterms := ""
			if c.Fields["keyterms"] != nil {
				keyterms = f("keyterms")
			}
			ok = ok && o.request.Language == f("language_code") && o.request.Mode == f("mode") && o.keyterms == keyterms
		}
		if !ok {
			t.Errorf("%s ?%s: %+v, legacy %v", c.Route, c.Query, o, c.Fields)
		}
	}
	if len(cases) < 100 {
		t.Errorf("only %d cases", len(cases))
	}
}

// TestBase64IsPythons replays testdata/base64_cases.json: base64.b64decode(s, validate=True)
// of Python 3.11, its bytes or its error message.
func TestBase64IsPythons(t *testing.T) {
	var cases []struct {
		Data  string `json:"data"`
		Bytes string `json:"bytes"`
		Error string `json:"error"`
	}
	realtimetest.Load(t, "testdata/base64_cases.json", &cases)
	for _, c := range cases {
		got, problem := b64decode(c.Data)
		if problem != c.Error || (problem == "" && hex.EncodeToString(got) != c.Bytes) {
			t.Errorf("b64decode(%q) = %x, %q; Python %s, %q", c.Data, got, problem, c.Bytes, c.Error)
		}
	}
}

// TestPlainRequestsAreNotRoutes: the routes are WebSocket-only, as legacy's.
func TestPlainRequestsAreNotRoutes(t *testing.T) {
	w := httptest.NewRecorder()
	NewTranslate(Config{}).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/speech-to-text-translate/ws", nil))
	if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "no route GET /speech-to-text-translate/ws") {
		t.Errorf("%d %s", w.Code, w.Body)
	}
}

func TestPyFloat(t *testing.T) {
	for _, c := range []struct {
		f    float64
		want string
	}{
		{0, "0.0"}, {1, "1.0"}, {0.8125, "0.8125"}, {1.23, "1.23"}, {1764806400.5, "1764806400.5"},
		{1764806400.123456, "1764806400.123456"}, {0.0001, "0.0001"}, {0.00001, "1e-05"}, {1e16, "1e+16"},
		{123456789012345.6, "123456789012345.6"},
	} {
		if got := pyFloat(c.f); got != c.want {
			t.Errorf("pyFloat(%v) = %s, want %s", c.f, got, c.want)
		}
	}
}

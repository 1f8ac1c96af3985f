package main

import (
	"net/http"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"--port", "0", "--legacy-url", "http://127.0.0.1:8100", "--inference-url", "http://x"},
		env(map[string]string{"BANYAN_INTERNAL_TOKEN": "tok"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.port != 0 || cfg.internalToken != "tok" || cfg.host != "127.0.0.1" || cfg.logFormat != "text" || cfg.inferenceURL != "http://x" {
		t.Errorf("%+v", cfg)
	}
	cfg, err = parseFlags([]string{"--legacy-url", "u", "--internal-token", "flag"},
		env(map[string]string{"BANYAN_INTERNAL_TOKEN": "env", "BANYAN_ENV": "production", "BANYAN_HOST": "0.0.0.0"}))
	if err != nil || cfg.internalToken != "flag" || cfg.logFormat != "json" || cfg.host != "0.0.0.0" || cfg.port != 8200 {
		t.Errorf("%+v %v", cfg, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--internal-token", "t"}, "--legacy-url"},
		{[]string{"--legacy-url", "u"}, "BANYAN_INTERNAL_TOKEN"},
		{[]string{"--legacy-url", "u", "--internal-token", "t", "--port", "70000"}, "not a port"},
		{[]string{"--legacy-url", "u", "--internal-token", "t", "--log-format", "xml"}, "text or json"},
		{[]string{"--nope"}, "not defined"},
	} {
		if _, err := parseFlags(tc.args, env(nil)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error about %s", tc.args, err, tc.want)
		}
	}
}

func TestTranslatorOnlyWithAnInferenceURL(t *testing.T) {
	base := http.DefaultTransport.(*http.Transport)
	if translator("", base) != nil {
		t.Error("a translator without an inference URL: /translate must answer 503")
	}
	if translator("http://127.0.0.1:8300", base) == nil {
		t.Error("no translator with an inference URL")
	}
}

func TestChatModelOnlyWithAnInferenceURL(t *testing.T) {
	base := http.DefaultTransport.(*http.Transport)
	none, err := chatRoutes("", base, nil)
	if err != nil || none.Model != nil || none.Tokenizer == nil {
		t.Errorf("without an inference URL: %+v %v (the chat routes must answer 503)", none, err)
	}
	some, err := chatRoutes("http://127.0.0.1:8300", base, nil)
	if err != nil || some.Model == nil {
		t.Errorf("with an inference URL: %+v %v", some, err)
	}
}

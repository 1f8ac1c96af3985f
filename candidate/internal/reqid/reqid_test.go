package reqid

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"strings"
	"testing"
)

var newID = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestAcceptKeepsOnlySafeIDs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		keep bool
	}{
		{"abc", true}, {"A.b_c:d-9", true}, {strings.Repeat("a", 128), true},
		{"", false}, {strings.Repeat("a", 129), false}, {"has space", false}, {"semi;colon", false},
		{"naïve", false}, {"new\nline", false}, {"slash/x", false}, {"tab\t", false},
	} {
		got := Accept(tc.in)
		if tc.keep && got != tc.in {
			t.Errorf("Accept(%q) = %q, want it kept", tc.in, got)
		}
		if !tc.keep && !newID.MatchString(got) {
			t.Errorf("Accept(%q) = %q, want a new 32-hex id", tc.in, got)
		}
	}
	if New() == New() {
		t.Error("two new ids are equal")
	}
}

func TestLogHandlerAddsTheRequestID(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(LogHandler{slog.NewJSONHandler(&buf, nil)}).With("service", "x")
	log.InfoContext(With(context.Background(), "rid-7"), "hello")
	log.InfoContext(context.Background(), "outside")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if !strings.Contains(lines[0], `"request_id":"rid-7"`) || strings.Contains(lines[1], "request_id") {
		t.Errorf("logs:\n%s", buf.String())
	}
}

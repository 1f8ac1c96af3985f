// Package realtimetest is what the tests of the realtime routes (internal/ttsws,
// internal/sttws) share: the route's handler on a real server that requires every session to
// end and leak nothing (Serve), a client that waits for the server's messages without
// breaking the connection (Client), a fake ledger (Ledger) and the loader of the case tables
// (Load). Only tests import it. It holds no stand-in for a route's own models: those differ
// by route, and stay with the route's tests.
package realtimetest

import (
	"encoding/json"
	"testing"

	"banyan/candidate/internal/casefile"
)

// Load decodes the case table at path (casefile.Read: plain or gzipped JSON) into into; the
// test fails when it cannot.
func Load(t *testing.T, path string, into any) {
	t.Helper()
	raw, err := casefile.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// Package casefile reads the case tables the Go tests replay: testdata/*.json, written by the
// gen/ scripts from legacy's own Python. The big tables are committed gzipped (*.json.gz,
// written with mtime 0, so a regeneration that changes nothing changes no byte and a diff
// shows only real changes); Read takes either kind, by the name's suffix.
package casefile

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"strings"
)

// Read returns the table at path, gunzipped when the name ends in ".gz".
func Read(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil || !strings.HasSuffix(path, ".gz") {
		return raw, err
	}
	z, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer z.Close()
	out, err := io.ReadAll(z)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

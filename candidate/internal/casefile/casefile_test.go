package casefile

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"
)

func TestReadTakesPlainAndGzippedTables(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "cases.json")
	if err := os.WriteFile(plain, []byte(`[1]`), 0o600); err != nil {
		t.Fatal(err)
	}
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	_, _ = w.Write([]byte(`[2]`))
	_ = w.Close()
	packed := filepath.Join(dir, "big.json.gz")
	if err := os.WriteFile(packed, z.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := Read(plain); err != nil || string(got) != `[1]` {
		t.Errorf("plain: %q %v", got, err)
	}
	if got, err := Read(packed); err != nil || string(got) != `[2]` {
		t.Errorf("gzipped: %q %v", got, err)
	}
	if err := os.WriteFile(packed, []byte("not gzip"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(packed); err == nil {
		t.Error("a broken .gz read without error")
	}
	if _, err := Read(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("a missing table read without error")
	}
}

package sttws

import (
	"encoding/base64"
	"testing"

	"banyan/candidate/internal/pyjson"
)

// FuzzClientMessages: no client message makes the parsing panic, and whatever b64decode
// accepts that Go's strict decoder also reads, both read the same.
func FuzzClientMessages(f *testing.F) {
	for _, seed := range []string{
		"", "{}", `{"type": "flush"}`, `{"audio": {"data": "AAAA"}}`, `{"audio": {"data": "é"}}`,
		`{"audio": {"data": "\ud800"}}`, "[[[[", "\xef\xbb\xbf{}", `{"type": "config", "audio": 5}`,
		"AA==", "=", "AB=C=", "YWJjZA", "UklGRgAAAABXQVZF",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if m := parseMessage(data); m.kind == messageAudio && m.data.Kind != pyjson.String {
			t.Fatalf("%q: audio whose data is not a string", data)
		}
		got, problem := b64decode(string(data))
		if problem != "" {
			return
		}
		if want, err := base64.StdEncoding.Strict().DecodeString(string(data)); err == nil && string(want) != string(got) {
			t.Fatalf("%q: %x, Go reads %x", data, got, want)
		}
	})
}

// FuzzUpsamplerCounts: whatever the message sizes, the upsampler hands over soxr's count.
func FuzzUpsamplerCounts(f *testing.F) {
	f.Add([]byte{1, 200, 3, 0, 255})
	f.Fuzz(func(t *testing.T, sizes []byte) {
		var u upsampler
		total, out := 0, 0
		for _, s := range sizes {
			n := int(s) * 37
			out += len(u.feed(make([]byte, 2*n))) / 2
			total += n
			want := 0
			if total >= soxrFirstBlock {
				want = ((total-soxrFirstBlock)/soxrBlockIn + 1) * soxrBlockOut
			}
			if out != want {
				t.Fatalf("after %d samples: %d out, soxr %d", total, out, want)
			}
		}
	})
}

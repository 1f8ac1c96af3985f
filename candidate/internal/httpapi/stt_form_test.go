package httpapi

import (
	"bytes"
	"testing"
)

// TestMultipartNeverPanics: every prefix of a valid form, and every single-byte corruption
// of its framing, is parsed or refused, never a crash (the parser indexes by hand).
func TestMultipartNeverPanics(t *testing.T) {
	body := []byte("\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n" +
		"Content-Type: audio/wav\r\n\r\nRIFF\r\n--bx\r\n\r\n--b\r\nContent-Disposition: form-data; " +
		"name=\"model\"\r\n\r\nsaaras:v3\r\n--b--\r\nepilogue")
	form, refusal := parseMultipart(body, "b")
	if refusal != "" || !form["file"].isFile || string(form["file"].data) != "RIFF\r\n--bx\r\n" || form["model"].text != "saaras:v3" {
		t.Fatalf("%q %+v", refusal, form)
	}
	for n := range len(body) {
		parseMultipart(body[:n], "b")
		for _, c := range []byte{'\r', '\n', '-', ':', ' ', 'x'} {
			broken := bytes.Clone(body)
			broken[n] = c
			parseMultipart(broken, "b")
		}
	}
}

func TestOptionsHeader(t *testing.T) {
	mediaType, params := parseOptionsHeader(`Multipart/Form-Data; boundary="a;b\"c"; charset=utf-8`)
	if mediaType != "multipart/form-data" || params["boundary"] != `a;b"c` || params["charset"] != "utf-8" {
		t.Errorf("%q %v", mediaType, params)
	}
}

package audioin

import (
	"errors"
	"testing"
)

// TestDetectNamesContainersByTheirBytes covers the signatures the legacy-generated cases do
// not (those are in decode_cases.json.gz: MP3, FLAC, Ogg, WebM, MP4, ADTS, AIFF, ADPCM WAV).
func TestDetectNamesContainersByTheirBytes(t *testing.T) {
	pad := func(b string) []byte { return append([]byte(b), make([]byte, 64)...) }
	mp3Frame := []byte{0xff, 0xfb, 0x90, 0x64} // MPEG-1 layer III, 128 kb/s, 44.1 kHz: 417 bytes
	twoFrames := append(append(append([]byte{}, mp3Frame...), make([]byte, 413)...), mp3Frame...)
	for _, c := range []struct {
		data []byte
		want Container
	}{
		{pad("RIFF\x00\x00\x00\x00WAVE"), WAV},
		{pad("RF64\x00\x00\x00\x00WAVE"), RF64},
		{pad("#!AMR\n"), AMR},
		{pad("\x30\x26\xb2\x75\x8e\x66\xcf\x11\xa6\xd9"), ASF},
		{pad("caff\x00\x01"), CAF},
		{pad(".snd\x00\x00\x00\x18"), AU},
		{pad("FORM\x00\x00\x00\x00AIFC"), AIFF},
		{pad("\x00\x00\x00\x20ftypM4A "), MP4},
		{pad("ID3\x04\x00\x00\x00\x00\x00\x00"), MP3},
		{pad("RIFX\x00\x00\x00\x00WAVE"), RIFX},
		{pad("wvpk"), WavPack},
		{pad("MAC \x96\x0f"), APE},
		{pad("\x0b\x77\x01\x02"), AC3},
		{pad("Creative Voice File\x1a"), VOC},
		{pad("\x02#!SILK_V3"), SILK},
		{append([]byte("ID3\x04\x00\x00\x00\x00\x00\x00"), "fLaC\x00"...), FLAC},
		{twoFrames, MP3},
		{mp3Frame, Unknown}, // one frame header alone could be chance
		{pad("hello"), Unknown},
	} {
		if got := Detect(c.data); got != c.want {
			t.Errorf("Detect(%q…) = %q, want %q", c.data[:min(12, len(c.data))], got, c.want)
		}
	}
}

func TestNotPortedNamesTheContainer(t *testing.T) {
	_, err := Decode([]byte("#!AMR\n\x00\x00\x00"), "amr", 30)
	var np *NotPorted
	if !errors.As(err, &np) || err.Error() != "AMR input is not ported to the candidate yet; legacy serves it" {
		t.Errorf("%v", err)
	}
	// A raw PCM codec is taken at its word, whatever the bytes look like.
	pcm, err := Decode([]byte("#!AMR\n\x00"), "pcm_s16le", 30)
	if err != nil || len(pcm) != 6 {
		t.Errorf("raw: %d bytes, %v", len(pcm), err)
	}
}

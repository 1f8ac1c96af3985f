package audio

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"testing"
)

// expectation is a generated output: whole (Base64) or its SHA-256, length and first bytes.
type expectation struct {
	Base64 *string `json:"base64"`
	SHA256 string  `json:"sha256"`
	Length int     `json:"length"`
	Head   string  `json:"head"`
}

func (e expectation) check(t *testing.T, got []byte) {
	t.Helper()
	if e.Base64 != nil {
		want, _ := base64.StdEncoding.DecodeString(*e.Base64)
		if !bytes.Equal(got, want) {
			t.Errorf("got %d bytes %x…, legacy %d bytes %x…", len(got), head(got), len(want), head(want))
		}
		return
	}
	wantHead, _ := base64.StdEncoding.DecodeString(e.Head)
	sum := sha256.Sum256(got)
	if len(got) != e.Length || hex.EncodeToString(sum[:]) != e.SHA256 {
		t.Errorf("got %d bytes %x… (sha256 %x), legacy %d bytes %x… (sha256 %s)",
			len(got), head(got), sum, e.Length, head(wantHead), e.SHA256)
	}
}

func head(b []byte) []byte { return b[:min(len(b), 64)] }

func load(t *testing.T, name string, into any) {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, into); err != nil {
		t.Fatal(err)
	}
}

func everySample() []byte {
	out := make([]byte, 0, 1<<17)
	for v := -32768; v < 32768; v++ {
		out = binary.LittleEndian.AppendUint16(out, uint16(int16(v)))
	}
	return out
}

// TestEncodeAsLegacy replays testdata/encode_cases.json (legacy's codecs.encode, PyAV and
// the wave module, run by gen/gen_cases.py): byte for byte.
func TestEncodeAsLegacy(t *testing.T) {
	var data struct {
		Inputs map[string]string `json:"inputs"`
		Cases  []struct {
			expectation
			Name, Input, Codec string
			Rate               int
		} `json:"cases"`
	}
	load(t, "encode_cases.json", &data)
	if len(data.Cases) < 40 {
		t.Fatalf("%d cases", len(data.Cases))
	}
	inputs := map[string][]byte{"every-sample": everySample()}
	for name, b64 := range data.Inputs {
		inputs[name], _ = base64.StdEncoding.DecodeString(b64)
	}
	for _, tc := range data.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			pcm, ok := inputs[tc.Input]
			if !ok {
				t.Fatalf("no input %q", tc.Input)
			}
			got, err := Encode(pcm, tc.Rate, tc.Codec, 0)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, got)
		})
	}
}

// TestScaleAsNumpy replays testdata/scale_cases.json (legacy's audio.scale) on every sample.
func TestScaleAsNumpy(t *testing.T) {
	var cases []struct {
		expectation
		Gain float64
	}
	load(t, "scale_cases.json", &cases)
	pcm := everySample()
	for _, tc := range cases {
		got := Scale(pcm, tc.Gain)
		if tc.Gain == 1 && &got[0] != &pcm[0] {
			t.Errorf("gain 1 copied the samples")
		}
		tc.check(t, got)
	}
}

func TestScaleTruncatesTowardZeroAndClips(t *testing.T) {
	pcm := []byte{}
	for _, v := range []int16{3, -3, 20000, -20000, 1} {
		pcm = binary.LittleEndian.AppendUint16(pcm, uint16(v))
	}
	got := Scale(pcm, 1.9)
	want := []int16{5, -5, 32767, -32768, 1} // 5.7 → 5, -5.7 → -5, clipped, 1.9 → 1
	for i, w := range want {
		if v := int16(binary.LittleEndian.Uint16(got[2*i:])); v != w {
			t.Errorf("sample %d: %d, want %d", i, v, w)
		}
	}
}

func TestCodecsNotPortedAreNamed(t *testing.T) {
	for _, codec := range []string{"aac", "opus"} {
		_, err := Encode([]byte{1, 0}, 24000, codec, 0)
		var np *NotPortedError
		if !errors.As(err, &np) || np.Codec != codec || Ported(codec) {
			t.Errorf("%s: %v", codec, err)
		}
	}
	if _, err := Encode(nil, 22050, "opus", 0); err == nil || err.Error() != "opus carries only 8000, 12000, 16000, 24000, 48000 Hz; set speech_sample_rate to one of them (got 22050)" {
		t.Errorf("opus at 22050: %v", err)
	}
	if _, err := Encode(nil, 22050, "ogg", 0); err == nil {
		t.Error("an unknown codec encoded")
	}
	for _, codec := range Codecs {
		if MediaType(codec) == "" {
			t.Errorf("%s has no media type", codec)
		}
	}
}

// TestLossyAndLosslessCodecsAreWired checks the codecs encoded by their own packages: flac
// and mp3 are whole files of the right kind, mp3 at the bitrate LAME settles on (the frame
// header's bitrate index names it), and no samples make no bytes, as legacy's PyAV writes
// nothing before the first packet.
func TestLossyAndLosslessCodecsAreWired(t *testing.T) {
	pcm := everySample()[:2*22050]
	flac, err := Encode(pcm, 22050, "flac", 0)
	if err != nil || !bytes.HasPrefix(flac, []byte("fLaC")) {
		t.Fatalf("flac: %v %x", err, head(flac))
	}
	for _, tc := range []struct{ rate, bitrate, kbps int }{{22050, 0, 128}, {22050, 32_000, 32}, {8000, 192_000, 64}} {
		mp3, err := Encode(pcm, tc.rate, "mp3", tc.bitrate)
		if err != nil || !bytes.HasPrefix(mp3, []byte("ID3")) {
			t.Fatalf("mp3 %+v: %v %x", tc, err, head(mp3))
		}
		info := frameKbps(t, mp3[20:]) // the Info frame after the ID3 tag
		size := frameSize(mp3[20:], info, tc.rate)
		if got := frameKbps(t, mp3[20+size:]); got != tc.kbps {
			t.Errorf("%+v: first audio frame at %d kb/s, want %d", tc, got, tc.kbps)
		}
	}
	if empty, err := Encode(nil, 22050, "mp3", 0); err != nil || len(empty) != 0 {
		t.Errorf("mp3 of nothing: %v, %d bytes", err, len(empty))
	}
	if !Ported("mp3") || !Ported("flac") {
		t.Error("mp3 and flac are ported")
	}
}

// frameKbps reads a Layer III frame header's bitrate.
func frameKbps(t *testing.T, h []byte) int {
	t.Helper()
	if h[0] != 0xFF || h[1]&0xE0 != 0xE0 {
		t.Fatalf("no frame sync: %x", h[:4])
	}
	mpeg1 := h[1]&0x18 == 0x18
	index := int(h[2] >> 4)
	if mpeg1 {
		return []int{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320}[index]
	}
	return []int{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160}[index]
}

// frameSize is a Layer III frame's length in bytes.
func frameSize(h []byte, kbps, rate int) int {
	coef := 72
	if h[1]&0x18 == 0x18 {
		coef = 144
	}
	return coef*kbps*1000/rate + int(h[2]>>1&1)
}

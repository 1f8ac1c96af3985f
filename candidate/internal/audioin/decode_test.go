package audioin

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"testing"

	"banyan/candidate/internal/casefile"
)

type wavCase struct {
	Name     string `json:"name"`
	Rate     int    `json:"rate"`
	Channels int    `json:"channels"`
	Format   string `json:"format"`
	Header   string `json:"header"`
	Mask     uint32 `json:"mask"`
	Extra    int    `json:"extra"`
	Samples  int    `json:"samples"`
	PCM      string `json:"pcm"`
	Error    string `json:"error"`
}

type decodeCases struct {
	Sources map[string]string `json:"sources"`
	WAV     []wavCase         `json:"wav"`
	Limits  []struct {
		Rate     int    `json:"rate"`
		Channels int    `json:"channels"`
		Input    int    `json:"input_samples"`
		Format   string `json:"format"`
		Error    string `json:"error"`
		Samples  int    `json:"samples"`
	} `json:"limits"`
	Raw []struct {
		Size    int    `json:"size"`
		Codec   string `json:"codec"`
		Error   string `json:"error"`
		Samples int    `json:"samples"`
		PCM     string `json:"pcm"`
	} `json:"raw"`
	Others []struct {
		Name    string `json:"name"`
		Data    string `json:"data"`
		Error   string `json:"error"`
		Samples int    `json:"samples"`
		PCM     string `json:"pcm"`
	} `json:"others"`
}

func loadDecodeCases(t *testing.T) *decodeCases {
	t.Helper()
	raw, err := casefile.Read("testdata/decode_cases.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	var c decodeCases
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	if len(c.WAV) == 0 {
		t.Fatal("no cases")
	}
	return &c
}

var formats = map[string][2]int{
	"u8": {1, 8}, "s16": {1, 16}, "s24": {1, 24}, "s32": {1, 32}, "f32": {3, 32},
	"f64": {3, 64}, "alaw": {6, 8}, "mulaw": {7, 8},
}

// encodeSample is gen_cases.py's encode for one sample (the shared rule).
func encodeSample(b *bytes.Buffer, v int64, format string, i, c int64) {
	le := binary.LittleEndian
	switch format {
	case "u8":
		b.WriteByte(byte((v >> 8) + 128))
	case "s16":
		b.Write(le.AppendUint16(nil, uint16(int16(v))))
	case "s24":
		x := uint32(((v << 8) | ((i*7 + c) & 0xff)) & 0xffffff)
		b.Write(le.AppendUint32(nil, x)[:3])
	case "s32":
		b.Write(le.AppendUint32(nil, uint32(((v<<16)|((i*13+c)&0xffff))&0xffffffff)))
	case "f32":
		b.Write(le.AppendUint32(nil, math.Float32bits(float32(float64(v)*1.25/32768))))
	case "f64":
		b.Write(le.AppendUint64(nil, math.Float64bits(float64(v)/32768+float64(i%3)*math.Pow(2, -20))))
	default:
		b.WriteByte(byte(((v >> 8) ^ i) & 0xff))
	}
}

// buildWAV is gen_cases.py's build.
func buildWAV(src []int16, rate, channels int, format, header string, mask uint32, extra int) []byte {
	le := binary.LittleEndian
	n := len(src)
	var data bytes.Buffer
	for k := 0; k < n; k++ {
		for c := 0; c < channels; c++ {
			j := ((k-3*c)%n + n) % n // np.roll by 3c
			v := (int64(src[j]) * int64(8-c)) >> 3
			encodeSample(&data, v, format, int64(k), int64(c))
		}
	}
	if header == "partial" {
		data.Write(bytes.Repeat([]byte{1}, extra))
	}
	tag, bits := formats[format][0], formats[format][1]
	block := channels * bits / 8
	var fmtChunk []byte
	if header == "extensible" {
		fmtChunk = le.AppendUint16(fmtChunk, 0xfffe)
	} else {
		fmtChunk = le.AppendUint16(fmtChunk, uint16(tag))
	}
	fmtChunk = le.AppendUint16(fmtChunk, uint16(channels))
	fmtChunk = le.AppendUint32(fmtChunk, uint32(rate))
	fmtChunk = le.AppendUint32(fmtChunk, uint32(rate*block))
	fmtChunk = le.AppendUint16(fmtChunk, uint16(block))
	fmtChunk = le.AppendUint16(fmtChunk, uint16(bits))
	if header == "extensible" {
		fmtChunk = le.AppendUint16(fmtChunk, 22)
		fmtChunk = le.AppendUint16(fmtChunk, uint16(bits))
		fmtChunk = le.AppendUint32(fmtChunk, mask)
		fmtChunk = le.AppendUint16(fmtChunk, uint16(tag))
		fmtChunk = append(fmtChunk, "\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"...)
	}
	size := uint32(data.Len())
	switch header {
	case "size0":
		size = 0
	case "oversize":
		size += 1000
	}
	var chunks []byte
	if header == "chunks" {
		chunks = append(chunks, "LIST\x05\x00\x00\x00INFOx\x00"...)
	}
	chunks = append(chunks, "fmt "...)
	chunks = le.AppendUint32(chunks, uint32(len(fmtChunk)))
	chunks = append(chunks, fmtChunk...)
	if header == "chunks" {
		chunks = append(chunks, "fact\x04\x00\x00\x00\x01\x02\x03\x04"...)
	}
	body := append([]byte("WAVE"), chunks...)
	body = append(body, "data"...)
	body = le.AppendUint32(body, size)
	body = append(body, data.Bytes()...)
	if header == "chunks" {
		body = append(body, "junk\x03\x00\x00\x00abc\x00"...)
	}
	out := append([]byte("RIFF"), le.AppendUint32(nil, uint32(len(body)))...)
	return append(out, body...)
}

func pcmSamples(t *testing.T, b64 string) []int16 {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int16, len(raw)/2)
	for i := range out {
		out[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
	}
	return out
}

// TestWAVDecodesAsFFmpeg replays legacy's decode_audio on every WAV case and requires the
// same samples, bit for bit, on every path (integer and float); it reports per case the max
// abs difference and the SNR, so a drift shows how large it is.
func TestWAVDecodesAsFFmpeg(t *testing.T) {
	cases := loadDecodeCases(t)
	sources := map[string][]int16{}
	for rate, b64 := range cases.Sources {
		sources[rate] = pcmSamples(t, b64)
	}
	exactSame, worst := 0, 0
	for _, c := range cases.WAV {
		t.Run(c.Name, func(t *testing.T) {
			src := sources[itoa(c.Rate)]
			data := buildWAV(src, c.Rate, c.Channels, c.Format, c.Header, c.Mask, c.Extra)
			got, err := Decode(data, "", 30)
			if c.Error != "" {
				if err == nil || err.Error() != c.Error {
					t.Fatalf("error %v, legacy %q", err, c.Error)
				}
				return
			}
			if err != nil {
				t.Fatalf("error %v; legacy decoded %d samples", err, c.Samples)
			}
			want := pcmSamples(t, c.PCM)
			if len(got)/2 != len(want) {
				t.Fatalf("%d samples, legacy %d", len(got)/2, len(want))
			}
			maxDiff, signal, noise := 0, 0.0, 0.0
			for i, w := range want {
				g := int16(binary.LittleEndian.Uint16(got[2*i:]))
				d := int(g) - int(w)
				if d < 0 {
					d = -d
				}
				maxDiff = max(maxDiff, d)
				signal += float64(w) * float64(w)
				noise += float64(d) * float64(d)
			}
			snr := math.Inf(1)
			if noise > 0 {
				snr = 10 * math.Log10(signal/noise)
			}
			worst = max(worst, maxDiff)
			if maxDiff != 0 {
				t.Errorf("differs from FFmpeg: max abs diff %d, SNR %.1f dB", maxDiff, snr)
			} else {
				exactSame++
			}
		})
	}
	t.Logf("%d WAV cases, %d bit-exact; worst abs diff %d", len(cases.WAV), exactSame, worst)
}

func itoa(n int) string { return formatInt(n) }

func formatInt(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestLengthLimitAsLegacy: which files are refused, and in which words.
func TestLengthLimitAsLegacy(t *testing.T) {
	cases := loadDecodeCases(t)
	for _, c := range cases.Limits {
		data := buildWAV(make([]int16, c.Input), c.Rate, c.Channels, c.Format, "plain", 0, 0)
		got, err := Decode(data, "", 30)
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		if msg != c.Error || len(got)/2 != c.Samples {
			t.Errorf("%d Hz %d ch %d samples %s: %d samples, error %q; legacy %d, %q",
				c.Rate, c.Channels, c.Input, c.Format, len(got)/2, msg, c.Samples, c.Error)
		}
	}
	for _, c := range cases.Raw {
		data := make([]byte, c.Size)
		for k := range data {
			data[k] = byte(k * 7)
		}
		got, err := Decode(data, c.Codec, 30)
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		if msg != c.Error {
			t.Errorf("raw %d bytes %s: error %q, legacy %q", c.Size, c.Codec, msg, c.Error)
		}
		if c.Error == "" {
			want, _ := base64.StdEncoding.DecodeString(c.PCM)
			if !bytes.Equal(got, want) {
				t.Errorf("raw %d bytes: pcm differs", c.Size)
			}
		}
	}
}

// TestOtherContainersAreNamed: what the candidate does not decode is a 501 naming the
// container legacy decoded; what FFmpeg refuses is refused in legacy's words; the WAVs with
// odd headers decode to legacy's samples.
func TestOtherContainersAreNamed(t *testing.T) {
	cases := loadDecodeCases(t)
	decoded := 0
	for _, c := range cases.Others {
		data, _ := base64.StdEncoding.DecodeString(c.Data)
		got, err := Decode(data, "wav", 30)
		var np *NotPorted
		switch {
		case c.Error != "":
			if err == nil || err.Error() != c.Error {
				t.Errorf("%s: %v, legacy %q", c.Name, err, c.Error)
			}
		case Detect(data) == WAV && err == nil:
			want, _ := base64.StdEncoding.DecodeString(c.PCM)
			if !bytes.Equal(got, want) {
				t.Errorf("%s: %d samples differ from legacy's %d", c.Name, len(got)/2, len(want)/2)
			}
			decoded++
		case !errors.As(err, &np):
			t.Errorf("%s: %v; legacy decoded it, the candidate must decode it or answer NotPorted", c.Name, err)
		default:
			t.Logf("%s: %s", c.Name, np.Error())
		}
	}
	if decoded < 6 {
		t.Errorf("only %d odd WAV headers decoded", decoded)
	}
}

package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"banyan/candidate/internal/audio"
	"banyan/candidate/internal/text"
	"banyan/candidate/internal/tts"
)

// ttsCall is one call legacy made to the speech model and the model's answer (HangUp: it
// closed the connection instead).
type ttsCall struct {
	Call    tts.Call          `json:"call"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"` // base64
	HangUp  bool              `json:"hang_up"`
}

// ttsCase is a case of testdata/tts_cases.json (gen/gen_tts_cases.py).
type ttsCase struct {
	httpCase
	Inference string    `json:"inference"`
	TTSCalls  []ttsCall `json:"tts_calls"`
	// FlacSamples are legacy's FLAC answer decoded by FFmpeg (base64 of 16-bit samples):
	// FLAC is lossless, so the candidate must have encoded exactly these.
	FlacSamples string `json:"flac_samples"`
}

// notPortedDivergence is why the candidate answers tc otherwise on purpose, or "": a codec it
// cannot encode yet (aac, opus) is a 501 before billing, which the proxy leaves to
// legacy, where legacy answers it with audio.
func notPortedDivergence(tc ttsCase) string {
	codec := requestOf(tc).codec()
	if tc.Want.Status == http.StatusOK && !audio.Ported(codec) {
		return codec + " is not ported"
	}
	return ""
}

// ttsBody is what the checks read of a case's request.
type ttsBody struct {
	Codec *string `json:"output_audio_codec"`
	Rate  any     `json:"speech_sample_rate"`
}

func requestOf(tc ttsCase) ttsBody {
	raw, _ := base64.StdEncoding.DecodeString(tc.Body)
	var b ttsBody
	_ = json.Unmarshal(raw, &b)
	return b
}

func (b ttsBody) codec() string {
	if b.Codec == nil {
		return "wav"
	}
	return *b.Codec
}

// fakeSpeechModel is the inference server's /v1/tts answering each call as the model
// answered legacy's identical call, recording what it was asked.
type fakeSpeechModel struct {
	mu     sync.Mutex
	script []ttsCall
	asked  []tts.Call
}

func (f *fakeSpeechModel) expect(calls []ttsCall) []tts.Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	asked := f.asked
	f.asked, f.script = nil, calls
	return asked
}

func (f *fakeSpeechModel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var call tts.Call
	if r.URL.Path != "/v1/tts" || json.NewDecoder(r.Body).Decode(&call) != nil {
		http.Error(w, "not a tts call", http.StatusTeapot)
		return
	}
	f.mu.Lock()
	f.asked = append(f.asked, call)
	var answer *ttsCall
	for i := range f.script {
		if f.script[i].Call == call {
			answer = &f.script[i]
		}
	}
	f.mu.Unlock()
	switch {
	case answer == nil:
		http.Error(w, "legacy made no such call", http.StatusTeapot)
	case answer.HangUp:
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close()
		}
	default:
		for k, v := range answer.Headers {
			w.Header().Set(k, v)
		}
		body, _ := base64.StdEncoding.DecodeString(answer.Body)
		w.WriteHeader(answer.Status)
		_, _ = w.Write(body)
	}
}

func newTTSServer(ledger *fakeLedger, model tts.Model) *Server {
	return New(Config{
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Billing: ledger,
		Text:    text.New(),
		LID:     &fakeModel{},
		Metrics: NewMetrics(),
		Speech:  model,
	})
}

// TestTextToSpeechAnswersAsLegacy replays testdata/tts_cases.json (legacy's /text-to-speech
// with a scripted speech model, run by gen/gen_tts_cases.py): status, headers, body byte for
// byte (the audio too, where no resampling is involved) and billing, and the model's calls
// against legacy's. Where the audio is resampled (legacy's soxr and the candidate's own
// filter), the answers must agree but for the samples, which must be close.
func TestTextToSpeechAnswersAsLegacy(t *testing.T) {
	var cases []ttsCase
	loadCases(t, "testdata/tts_cases.json.gz", &cases)
	if len(cases) < 80 {
		t.Fatalf("%d cases", len(cases))
	}
	model := &fakeSpeechModel{}
	modelServer := httptest.NewServer(model)
	defer modelServer.Close()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nowhere := "http://" + listener.Addr().String()
	listener.Close()

	ledger := &fakeLedger{}
	servers := map[string]*Server{
		"":        newTTSServer(ledger, tts.New(modelServer.URL, modelServer.Client(), 0)),
		"none":    newTTSServer(ledger, nil),
		"refused": newTTSServer(ledger, tts.New(nowhere, http.DefaultClient, 0)),
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			model.expect(tc.TTSCalls)
			srv := servers[tc.Inference]
			switch {
			case notPortedDivergence(tc) != "":
				checkNotPorted(t, srv, ledger, tc)
			case tc.FlacSamples != "":
				checkFLAC(t, srv, ledger, tc)
			case tc.Want.Status == http.StatusOK && requestOf(tc).codec() == "mp3":
				checkMP3(t, srv, ledger, tc)
			case resampled(tc):
				checkResampled(t, srv, ledger, tc)
			default:
				replay(t, srv, ledger, &fakeModel{}, tc.httpCase)
			}
			asked := model.expect(nil)
			legacy := map[tts.Call]bool{}
			for _, c := range tc.TTSCalls {
				legacy[c.Call] = true
			}
			for _, call := range asked {
				if !legacy[call] {
					t.Errorf("called the model with %+v; legacy made no such call", call)
				}
			}
			// A failure stops the candidate's other calls; legacy's may have started.
			if tc.Want.Status == http.StatusOK && notPortedDivergence(tc) == "" && len(asked) != len(tc.TTSCalls) {
				t.Errorf("%d model calls, legacy %d", len(asked), len(tc.TTSCalls))
			}
		})
	}
}

// resampled reports whether tc's answer is audio at another rate than the model's.
func resampled(tc ttsCase) bool {
	if tc.Want.Status != http.StatusOK || len(tc.TTSCalls) == 0 {
		return false
	}
	rate, ok := requestOf(tc).Rate.(float64)
	return ok && rate != 0 && rate != 22050
}

func send(srv *Server, tc ttsCase) *httptest.ResponseRecorder {
	body, _ := base64.StdEncoding.DecodeString(tc.Body)
	req := httptest.NewRequest(tc.Method, "http://testserver"+tc.Path, bytes.NewReader(body))
	for _, h := range tc.Headers {
		req.Header.Add(h[0], h[1])
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	return rec
}

func checkNotPorted(t *testing.T, srv *Server, ledger *fakeLedger, tc ttsCase) {
	rec := send(srv, tc)
	calls := ledger.take()
	if rec.Code == tc.Want.Status {
		t.Errorf("a divergence (%s) but now answers %d as legacy: port the codec in notPortedDivergence", notPortedDivergence(tc), rec.Code)
	}
	if rec.Code != http.StatusNotImplemented || !strings.Contains(rec.Body.String(), "is not ported to the candidate yet; legacy serves it") || len(calls) != 0 {
		t.Errorf("%d %s, billing %v; want a 501 and nothing billed", rec.Code, rec.Body.String(), calls)
	}
}

// checkFLAC: the same answer but the FLAC bytes (legacy's FFmpeg codes them otherwise),
// which must hold legacy's samples; resampled, the same number of them.
func checkFLAC(t *testing.T, srv *Server, ledger *fakeLedger, tc ttsCase) {
	flac, _ := sameAnswerButAudio(t, srv, ledger, tc)
	samples, _ := base64.StdEncoding.DecodeString(tc.FlacSamples)
	if resampled(tc) {
		total := binary.BigEndian.Uint64(flac[18:26]) & (1<<36 - 1)
		if int(total) != len(samples)/2 {
			t.Errorf("%d samples in the FLAC, legacy's %d", total, len(samples)/2)
		}
		return
	}
	rate := int(binary.BigEndian.Uint64(flac[18:26]) >> 44)
	if again, _ := audio.Encode(samples, rate, "flac", 0); !bytes.Equal(flac, again) {
		t.Errorf("the FLAC does not hold legacy's %d samples at %d Hz", len(samples)/2, rate)
	}
}

// sameAnswerButAudio sends tc and checks its status, billing and request id are legacy's;
// it returns the two answers' audio.
func sameAnswerButAudio(t *testing.T, srv *Server, ledger *fakeLedger, tc ttsCase) (got, want []byte) {
	t.Helper()
	rec := send(srv, tc)
	calls := ledger.take()
	if rec.Code != tc.Want.Status || !reflect.DeepEqual(normalise(calls), normalise(tc.Billing)) {
		t.Fatalf("%d %.200s billing %v; legacy %d billing %v", rec.Code, rec.Body.String(), calls, tc.Want.Status, tc.Billing)
	}
	var ours, theirs struct {
		RequestID string   `json:"request_id"`
		Audios    []string `json:"audios"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &ours)
	_ = json.Unmarshal([]byte(tc.Want.Body), &theirs)
	if ours.RequestID != theirs.RequestID || len(ours.Audios) != 1 || len(theirs.Audios) != 1 {
		t.Fatalf("answer %.200s, legacy %.200s", rec.Body.String(), tc.Want.Body)
	}
	got, _ = base64.StdEncoding.DecodeString(ours.Audios[0])
	want, _ = base64.StdEncoding.DecodeString(theirs.Audios[0])
	return got, want
}

// checkMP3: the same answer but the MP3 frames' bytes (another encoder than LAME codes
// them): as many frames as legacy's, each at legacy's sample rate and bitrate, after the
// same ID3 tag. The decoded signal's likeness is the shadow's to judge
// (tests/candidate/test_tts_parity.py), since a Go test has no MP3 decoder.
func checkMP3(t *testing.T, srv *Server, ledger *fakeLedger, tc ttsCase) {
	g, w := sameAnswerButAudio(t, srv, ledger, tc)
	if len(w) == 0 || len(g) == 0 {
		if len(g) != len(w) {
			t.Errorf("%d bytes of audio, legacy %d", len(g), len(w))
		}
		return
	}
	if !bytes.Equal(g[:20], w[:20]) {
		t.Errorf("ID3 tag %x, legacy %x", g[:20], w[:20])
	}
	gf, wf := mp3Frames(t, g[20:]), mp3Frames(t, w[20:])
	if len(gf) != len(wf) {
		t.Fatalf("%d frames, legacy %d", len(gf), len(wf))
	}
	for i := 1; i < len(gf); i++ { // the first is the Info frame, sized to hold its tag
		if gf[i] != wf[i] {
			t.Fatalf("frame %d: %+v, legacy %+v", i, gf[i], wf[i])
		}
	}
}

// mp3Frame is what a Layer III frame header says of the audio.
type mp3Frame struct{ kbps, rate int }

// mp3Frames walks a stream of Layer III frames (MPEG-1, -2 and -2.5).
func mp3Frames(t *testing.T, data []byte) []mp3Frame {
	t.Helper()
	var frames []mp3Frame
	for pos := 0; pos+4 <= len(data); {
		h := data[pos:]
		if h[0] != 0xFF || h[1]&0xE0 != 0xE0 || h[1]&0x06 != 0x02 {
			t.Fatalf("no Layer III frame at byte %d: %x", pos, h[:4])
		}
		version := h[1] >> 3 & 3 // 3 MPEG-1, 2 MPEG-2, 0 MPEG-2.5
		rates := map[byte][]int{3: {44100, 48000, 32000}, 2: {22050, 24000, 16000}, 0: {11025, 12000, 8000}}[version]
		kbpsTable := []int{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160}
		coef := 72
		if version == 3 {
			kbpsTable = []int{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320}
			coef = 144
		}
		f := mp3Frame{kbpsTable[h[2]>>4], rates[h[2]>>2&3]}
		frames = append(frames, f)
		pos += coef*f.kbps*1000/f.rate + int(h[2]>>1&1)
	}
	return frames
}

// checkResampled compares everything but the samples, which must be close to legacy's.
func checkResampled(t *testing.T, srv *Server, ledger *fakeLedger, tc ttsCase) {
	rec := send(srv, tc)
	calls := ledger.take()
	if rec.Code != tc.Want.Status {
		t.Fatalf("status %d, legacy %d: %s", rec.Code, tc.Want.Status, rec.Body.String())
	}
	if !reflect.DeepEqual(normalise(calls), normalise(tc.Billing)) {
		t.Errorf("billing calls %v, legacy %v", calls, tc.Billing)
	}
	var got, want struct {
		RequestID string   `json:"request_id"`
		Audios    []string `json:"audios"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal([]byte(tc.Want.Body), &want)
	if got.RequestID != want.RequestID || len(got.Audios) != 1 || len(want.Audios) != 1 {
		t.Fatalf("answer %s, legacy %s", rec.Body.String(), tc.Want.Body)
	}
	g, _ := base64.StdEncoding.DecodeString(got.Audios[0])
	w, _ := base64.StdEncoding.DecodeString(want.Audios[0])
	if len(g) != len(w) {
		t.Fatalf("%d bytes of audio, legacy %d", len(g), len(w))
	}
	header := 44 // a WAV's; linear16 has none, G.711 WAVs have a fact chunk
	switch requestOf(tc).codec() {
	case "linear16":
		header = 0
	case "mulaw", "alaw":
		header = 58
	}
	if !bytes.Equal(g[:header], w[:header]) {
		t.Errorf("header %x, legacy %x", g[:header], w[:header])
	}
	if header == 58 { // G.711: a sample a byte; most must be the same code
		same := 0
		for i := header; i < len(g); i++ {
			if g[i] == w[i] {
				same++
			}
		}
		if float64(same) < 0.8*float64(len(g)-header) {
			t.Errorf("%d of %d G.711 codes as legacy's", same, len(g)-header)
		}
		return
	}
	var signal, noise float64
	for i := header; i+1 < len(g); i += 2 {
		a := float64(int16(binary.LittleEndian.Uint16(g[i:])))
		b := float64(int16(binary.LittleEndian.Uint16(w[i:])))
		signal += b * b
		noise += (a - b) * (a - b)
	}
	if snr := 10 * math.Log10(signal/noise); snr < 50 {
		t.Errorf("SNR %.1f dB against legacy's audio", snr)
	}
}

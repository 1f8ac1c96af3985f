package ttsws

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"banyan/candidate/internal/billing"
	"banyan/candidate/internal/chunking"
	"banyan/candidate/internal/realtime/realtimetest"
)

const rid = "rid-tts-1" // every test session's X-Request-ID

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// lab is the route on a real HTTP server with fake speech and a fake ledger
// (realtimetest.Serve: every session must end, and no synthesis goroutine outlive it).
type lab struct {
	t       *testing.T
	url     string
	ledger  *realtimetest.Ledger
	speaker *fakeSpeaker
}

func newLab(t *testing.T, speaker *fakeSpeaker, configure func(*Config)) *lab {
	t.Helper()
	if speaker == nil {
		speaker = &fakeSpeaker{rate: 8000, samplesPerChar: 10}
	}
	l := &lab{t: t, ledger: realtimetest.NewLedger(), speaker: speaker}
	cfg := Config{Log: quiet, Billing: l.ledger, Resolver: fakeResolver{}, Speaker: speaker, Audio: fakeAudio{}, CloseGrace: 200 * time.Millisecond}
	if configure != nil {
		configure(&cfg)
	}
	busy := func() error {
		if n := speaker.running.Load(); n != 0 {
			return fmt.Errorf("%d synthesis goroutines still running", n)
		}
		return nil
	}
	l.url = realtimetest.Serve(t, New(cfg), busy) + "/text-to-speech/ws"
	return l
}

// dialRaw opens a session whose frames nobody reads.
func (l *lab) dialRaw(query string) *websocket.Conn {
	l.t.Helper()
	ws, resp, err := realtimetest.Dial(l.url+query, rid)
	if err != nil {
		l.t.Fatalf("dial: %v (%v)", err, resp)
	}
	l.t.Cleanup(func() { ws.Close() })
	return ws
}

func (l *lab) dial(query string) *realtimetest.Client {
	l.t.Helper()
	return realtimetest.Open(l.t, l.url+query, rid)
}

// silent checks that the server sends nothing more within d.
func silent(t *testing.T, ws *realtimetest.Client, d time.Duration) {
	t.Helper()
	if e, ok := ws.Next(d); ok {
		t.Fatalf("unexpected %.200s %v", e.Message, e.Err)
	}
}

// closeFrame waits for the server's close (no message before it) and returns it.
func closeFrame(t *testing.T, ws *realtimetest.Client) *websocket.CloseError {
	t.Helper()
	e, ok := ws.Next(5 * time.Second)
	var ce *websocket.CloseError
	switch {
	case !ok:
		t.Fatal("no close within 5 s")
	case e.Err == nil:
		t.Fatalf("a message before the close: %.200s", e.Message)
	case !errors.As(e.Err, &ce):
		t.Fatalf("no close frame: %v", e.Err)
	}
	return ce
}

// pcmOf is the fake speaker's audio of chunk i of text: samplesPerChar samples per code point.
func pcmOf(i int, text string, samplesPerChar int) []byte {
	n := len([]rune(text)) * samplesPerChar
	pcm := make([]byte, 2*n)
	for k := 0; k < n; k++ {
		pcm[2*k] = byte(i + 1)
	}
	return pcm
}

func audioJSON(contentType, codec string, rate int, pcm []byte) string {
	file := append([]byte(fmt.Sprintf("%s:%d:", codec, rate)), pcm...)
	return `{"type": "audio", "data": {"content_type": "` + contentType + `", "audio": "` +
		base64.StdEncoding.EncodeToString(file) + `", "request_id": "` + rid + `"}}`
}

func errorJSON(message string, code int) string {
	b, _ := json.Marshal(message) // these messages have nothing json.dumps writes differently
	return fmt.Sprintf(`{"type": "error", "data": {"message": %s, "code": %d, "request_id": "%s"}}`, b, code, rid)
}

const finalJSON = `{"type": "event", "data": {"event_type": "final"}}`

func config(fields string) string {
	return `{"type": "config", "data": {"language_code": "en-IN", "speech_sample_rate": 8000` + fields + `}}`
}

func textMessage(s string) string {
	b, _ := json.Marshal(map[string]any{"type": "text", "data": map[string]string{"text": s}})
	return string(b)
}

func TestBufferingChunkingFlushAndFinal(t *testing.T) {
	l := newLab(t, nil, nil)
	ws := l.dial("?send_completion_event=true")
	ws.Send(t, config(`, "output_audio_codec": "wav", "min_buffer_size": 100, "max_chunk_length": 80`))
	ws.Send(t, `{"type": "ping"}`)                   // no reply
	sentence := "This sentence is part of a story. " // 34 characters: stays buffered
	ws.Send(t, textMessage(sentence))
	silent(t, ws, 150*time.Millisecond)
	ws.Send(t, textMessage(strings.Repeat(sentence, 3))) // 136 buffered: two chunks of at most 80
	buffer := strings.Repeat(sentence, 4)
	chunks := chunking.Split(buffer, 80)
	if len(chunks) != 2 {
		t.Fatalf("chunks %q", chunks)
	}
	for i, chunk := range chunks {
		if got, want := ws.Recv(t), audioJSON("audio/wav", "wav", 8000, pcmOf(i, chunk, 10)); got != want {
			t.Fatalf("chunk %d:\n got  %.300s\n want %.300s", i, got, want)
		}
	}
	ws.Send(t, textMessage("The end."))
	ws.Send(t, `{"type": "flush"}`)
	if got := ws.Recv(t); got != audioJSON("audio/wav", "wav", 8000, pcmOf(0, "The end.", 10)) {
		t.Fatalf("flushed audio %.200s", got)
	}
	if got := ws.Recv(t); got != finalJSON {
		t.Fatalf("after the flush: %s", got)
	}
	ws.Close()
	billed := len("The end.") // each chunk's code points: the spaces between chunks are not spoken
	for _, c := range chunks {
		billed += len([]rune(c))
	}
	if got := l.ledger.WaitSettled(t); got != fmt.Sprint(billed) || billed != len(buffer)-2+len("The end.") {
		t.Errorf("settled %s, the chunks hold %d characters", got, billed)
	}
	if authorized := l.ledger.Authorized(); authorized[0] != "sk_test text-to-speech-ws characters 250 "+rid {
		t.Errorf("authorize: %s", authorized[0])
	}
}

func TestProtocolMistakesGetErrorsAndTheSessionGoesOn(t *testing.T) {
	l := newLab(t, nil, nil)
	ws := l.dial("?model=bulbul:v2")
	ws.Send(t, textMessage("Too early."))
	if got := ws.Recv(t); got != errorJSON("the first message must be a config message; 'text' came first", 400) {
		t.Errorf("early text: %s", got)
	}
	if err := ws.WriteMessage(websocket.BinaryMessage, []byte{1, 2}); err != nil { // a binary frame
		t.Fatal(err)
	}
	if got := ws.Recv(t); got != errorJSON(msgBinaryFrame, 400) {
		t.Errorf("binary: %s", got)
	}
	ws.Send(t, `{"type": "config", "data": {"language_code": "hi-IN", "speaker": "shubh"}}`)
	if got := ws.Recv(t); got != errorJSON("config message: speaker 'shubh' is a bulbul:v3 voice, not a bulbul:v2 one", 400) {
		t.Errorf("v3 voice on v2: %s", got)
	}
	ws.Send(t, `{"type": "config", "data": {"language_code": "hi-IN", "output_audio_codec": "opus"}}`)
	if got := ws.Recv(t); got != errorJSON("output_audio_codec 'opus' is not ported to the candidate yet; legacy serves it", 501) {
		t.Errorf("a codec not ported: %s", got) // the candidate's gap, not the client's mistake
	}
	ws.Send(t, `{"type": "dance"}`)
	if got := ws.Recv(t); got != errorJSON("unknown message type 'dance'; use config, text, flush or ping", 400) {
		t.Errorf("dance: %s", got)
	}
	ws.Send(t, `not json`)
	if got := ws.Recv(t); got != errorJSON(msgNotAMessage, 400) {
		t.Errorf("not json: %s", got)
	}
	ws.Send(t, `{"type": "config", "data": {"language_code": "hi-IN", "pitch": 2}}`)
	if got := ws.Recv(t); got != errorJSON("config message: pitch: Input should be less than or equal to 0.75", 400) {
		t.Errorf("pitch: %s", got)
	}
	ws.Send(t, `{"type": "config", "data": {"language_code": "hi-IN", "speech_sample_rate": 8000}}`)
	ws.Send(t, textMessage("ठीक है"))
	ws.Send(t, `{"type": "text", "data": {"text": ""}}`)
	if got := ws.Recv(t); got != errorJSON("text message: text: String should have at least 1 character", 400) {
		t.Errorf("empty text: %s", got)
	}
	ws.Send(t, `{"type": "flush"}`)
	if got := ws.Recv(t); got != audioJSON("audio/mpeg", "mp3", 8000, pcmOf(0, "ठीक है", 10)) {
		t.Errorf("audio: %.200s", got)
	}
	silent(t, ws, 150*time.Millisecond) // no final event: send_completion_event is false
}

func TestANewConfigSendsTheBufferWithTheOldVoice(t *testing.T) {
	l := newLab(t, nil, nil)
	ws := l.dial("?send_completion_event=1")
	ws.Send(t, config(`, "output_audio_codec": "wav"`))
	ws.Send(t, textMessage("Still the old voice."))
	ws.Send(t, config(`, "output_audio_codec": "flac"`))
	if got := ws.Recv(t); got != audioJSON("audio/wav", "wav", 8000, pcmOf(0, "Still the old voice.", 10)) {
		t.Errorf("old voice: %.200s", got)
	}
	ws.Send(t, textMessage("Now the new one."))
	ws.Send(t, `{"type": "flush"}`)
	if got := ws.Recv(t); got != audioJSON("audio/flac", "flac", 8000, pcmOf(0, "Now the new one.", 10)) {
		t.Errorf("new voice: %.200s", got)
	}
	if got := ws.Recv(t); got != finalJSON {
		t.Errorf("final: %s", got)
	}
	// A config that fails keeps the old voice and the buffer.
	ws.Send(t, textMessage("Kept."))
	ws.Send(t, `{"type": "config", "data": {"language_code": "xx"}}`)
	if got := ws.Recv(t); !strings.Contains(got, `"config message: language_code: Input should be 'bn-IN'`) {
		t.Errorf("bad config: %s", got)
	}
	ws.Send(t, `{"type": "flush"}`)
	if got := ws.Recv(t); got != audioJSON("audio/flac", "flac", 8000, pcmOf(0, "Kept.", 10)) {
		t.Errorf("kept: %.200s", got)
	}
	if got := ws.Recv(t); got != finalJSON {
		t.Errorf("final: %s", got)
	}
}

func TestFlushingNothingStillSendsFinal(t *testing.T) {
	l := newLab(t, nil, nil)
	ws := l.dial("?send_completion_event=true")
	ws.Send(t, config(""))
	ws.Send(t, `{"type": "flush"}`)
	if got := ws.Recv(t); got != finalJSON {
		t.Errorf("got %s", got)
	}
	ws.Send(t, textMessage(" \n\t")) // whitespace is never spoken
	ws.Send(t, `{"type": "flush"}`)
	if got := ws.Recv(t); got != finalJSON {
		t.Errorf("got %s", got)
	}
	ws.Close()
	if got := l.ledger.WaitSettled(t); got != "release" {
		t.Errorf("a session that spoke nothing: %s", got)
	}
	if n := len(l.speaker.requests); n != 0 {
		t.Errorf("%d requests spoken", n)
	}
}

func TestLongAudioIsSentInTenSecondPieces(t *testing.T) {
	speaker := &fakeSpeaker{rate: 8000, samplesPerChar: 400} // 250 characters: 100,000 samples
	l := newLab(t, speaker, nil)
	ws := l.dial("")
	ws.Send(t, config(`, "output_audio_codec": "wav", "max_chunk_length": 500`))
	long := strings.Repeat("word ", 50)[:249] + "."
	ws.Send(t, textMessage(long))
	ws.Send(t, `{"type": "flush"}`)
	pcm := pcmOf(0, long, 400)
	step := 2 * 8000 * 10
	for start := 0; start < len(pcm); start += step {
		if got := ws.Recv(t); got != audioJSON("audio/wav", "wav", 8000, pcm[start:min(start+step, len(pcm))]) {
			t.Fatalf("piece at %d: %.100s", start, got)
		}
	}
	silent(t, ws, 150*time.Millisecond)
}

func TestResampledAndScaledForTheVoice(t *testing.T) {
	l := newLab(t, nil, nil)
	ws := l.dial("")
	ws.Send(t, `{"type": "config", "data": {"language_code": "en-IN", "speech_sample_rate": 16000, "loudness": 2, "output_audio_codec": "linear16"}}`)
	ws.Send(t, textMessage("Hi."))
	ws.Send(t, `{"type": "flush"}`)
	a := fakeAudio{}
	want := a.Scale(a.Resample(pcmOf(0, "Hi.", 10), 8000, 16000), 2)
	if got := ws.Recv(t); got != audioJSON("audio/pcm", "linear16", 16000, want) {
		t.Errorf("got %.200s", got)
	}
}

func TestAnIdleSessionIsClosedAndAPingedOneIsNot(t *testing.T) {
	l := newLab(t, nil, func(c *Config) { c.Idle = 300 * time.Millisecond })
	pinged := l.dial("")
	pinged.Send(t, config(""))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(60 * time.Millisecond):
				_ = pinged.WriteMessage(websocket.TextMessage, []byte(`{"type": "ping"}`))
			}
		}
	}()
	idle := l.dial("")
	idle.Send(t, config(""))
	started := time.Now()
	ce := closeFrame(t, idle)
	if ce.Code != 1000 || ce.Text != "idle" || time.Since(started) < 250*time.Millisecond {
		t.Errorf("close %d %q after %s", ce.Code, ce.Text, time.Since(started))
	}
	time.Sleep(400 * time.Millisecond) // past the limit: alive thanks to the pings
	close(stop)
	wg.Wait()
	pinged.Send(t, textMessage("Still here."))
	pinged.Send(t, `{"type": "flush"}`)
	if got := pinged.Recv(t); !strings.HasPrefix(got, `{"type": "audio"`) {
		t.Errorf("pinged session: %s", got)
	}
	if got := l.ledger.WaitSettled(t); got != "release" && got != "11" {
		t.Errorf("settled %s", got)
	}
}

func TestALongSynthesisIsNotIdleness(t *testing.T) {
	release := make(chan struct{})
	speaker := &fakeSpeaker{rate: 8000, samplesPerChar: 10, gate: func(int) <-chan struct{} { return release }}
	l := newLab(t, speaker, func(c *Config) { c.Idle = 150 * time.Millisecond })
	ws := l.dial("")
	ws.Send(t, config(""))
	ws.Send(t, textMessage("Slow words."))
	ws.Send(t, `{"type": "flush"}`)
	time.Sleep(500 * time.Millisecond) // three idle periods while the model works
	close(release)
	if got := ws.Recv(t); !strings.HasPrefix(got, `{"type": "audio"`) {
		t.Fatalf("got %s", got)
	}
	if ce := closeFrame(t, ws); ce.Code != 1000 || ce.Text != "idle" { // then idle for real
		t.Errorf("close %v", ce)
	}
	if got := l.ledger.WaitSettled(t); got != "11" {
		t.Errorf("settled %s", got)
	}
}

func TestAWalletThatRunsOutEndsTheSessionWith402(t *testing.T) {
	l := newLab(t, nil, nil)
	l.ledger.Limit = 300 * 1_000_000 // 250 held at open; an extension of 250 more is refused
	ws := l.dial("")
	ws.Send(t, config(`, "max_chunk_length": 200, "min_buffer_size": 1000`))
	long := strings.Repeat("Words that cost money, one sentence after another. ", 10)
	ws.Send(t, textMessage(long))
	ws.Send(t, `{"type": "flush"}`)
	chunks := chunking.Split(long, 200)
	if got := ws.Recv(t); got != audioJSON("audio/mpeg", "mp3", 8000, pcmOf(0, chunks[0], 10)) {
		t.Fatalf("first chunk: %.200s", got)
	}
	if got := ws.Recv(t); got != errorJSON("the wallet cannot cover more of this stream; top it up", 402) {
		t.Fatalf("then: %s", got)
	}
	if ce := closeFrame(t, ws); ce.Code != 1008 || ce.Text != "insufficient quota" {
		t.Errorf("close %d %q", ce.Code, ce.Text)
	}
	if got := l.ledger.WaitSettled(t); got != fmt.Sprint(len(chunks[0])) {
		t.Errorf("settled %s, the first chunk is %d characters", got, len(chunks[0]))
	}
	calls := l.ledger.Calls()
	if calls[1] != fmt.Sprintf("extend %d", max(2*len(chunks[0])-250, 250)) && calls[1] != "extend 250" {
		t.Errorf("calls %v", calls)
	}
}

func TestAFailedChunkIsA502AndTheFlushStillCompletes(t *testing.T) {
	speaker := &fakeSpeaker{rate: 8000, samplesPerChar: 10, failAt: 2}
	l := newLab(t, speaker, nil)
	ws := l.dial("?send_completion_event=true")
	ws.Send(t, config(`, "max_chunk_length": 20`))
	ws.Send(t, textMessage("First part here. Second part here. Third part here."))
	ws.Send(t, `{"type": "flush"}`)
	if got := ws.Recv(t); got != audioJSON("audio/mpeg", "mp3", 8000, pcmOf(0, "First part here.", 10)) {
		t.Errorf("first: %.200s", got)
	}
	if got := ws.Recv(t); got != errorJSON("the speech model refused a chunk (500)", 502) {
		t.Errorf("then: %s", got)
	}
	if got := ws.Recv(t); got != finalJSON {
		t.Errorf("then: %s", got)
	}
	ws.Close()
	if got := l.ledger.WaitSettled(t); got != "16" {
		t.Errorf("settled %s", got)
	}
}

// TestADisconnectMidSynthesisBillsWhatWasSentAndCancels: the client reads two chunks and
// leaves while the third is being made; the session settles the two and the synthesis in
// flight is cancelled (the lab checks no synthesis goroutine is left).
func TestADisconnectMidSynthesisBillsWhatWasSentAndCancels(t *testing.T) {
	open := make(chan struct{})
	close(open)
	never := make(chan struct{})
	speaker := &fakeSpeaker{rate: 8000, samplesPerChar: 10, gate: func(i int) <-chan struct{} {
		if i < 2 {
			return open
		}
		return never
	}}
	l := newLab(t, speaker, nil)
	ws := l.dial("")
	ws.Send(t, config(`, "max_chunk_length": 20`))
	ws.Send(t, textMessage("One sentence here. Two sentence here. Three sentence. Four sentence here."))
	ws.Send(t, `{"type": "flush"}`)
	ws.Recv(t)
	ws.Recv(t)
	_ = ws.UnderlyingConn().Close() // no close frame: the connection just dies
	if got := l.ledger.WaitSettled(t); got != fmt.Sprint(len("One sentence here.")+len("Two sentence here.")) {
		t.Errorf("settled %s", got)
	}
	deadline := time.Now().Add(2 * time.Second)
	for speaker.cancelled.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if speaker.cancelled.Load() == 0 || speaker.made.Load() != 2 {
		t.Errorf("made %d, cancelled %d", speaker.made.Load(), speaker.cancelled.Load())
	}
}

// TestAClientThatStopsReadingStopsSynthesis: back pressure. The client sends a great deal
// and reads nothing: synthesis stops after what the window and the socket buffers hold,
// then the server stops reading, so the client's own sends block.
func TestAClientThatStopsReadingStopsSynthesis(t *testing.T) {
	speaker := &fakeSpeaker{rate: 8000, samplesPerChar: 400} // 500 characters: 400 KB of audio
	l := newLab(t, speaker, nil)
	ws := l.dialRaw("")
	if err := ws.WriteMessage(websocket.TextMessage, []byte(config(`, "min_buffer_size": 1000, "max_chunk_length": 500`))); err != nil {
		t.Fatal(err)
	}
	sentence := "A sentence that the client will never read back in time. " // 58 characters
	blocked := make(chan int, 1)
	go func() {
		msg := textMessage(strings.Repeat(sentence, 43)) // 2494 characters
		for i := 0; i < 20000; i++ {                     // 50 MB: more than any socket buffers hold
			_ = ws.SetWriteDeadline(time.Now().Add(time.Second))
			if err := ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
				blocked <- i
				return
			}
		}
		blocked <- -1
	}()
	var sent int
	select {
	case sent = <-blocked:
	case <-time.After(10 * time.Second):
		t.Fatal("the client's sends never blocked")
	}
	if sent < 0 {
		t.Fatal("the server read 20,000 messages of 2494 characters from a client that reads nothing")
	}
	made := speaker.made.Load()
	time.Sleep(300 * time.Millisecond)
	if later := speaker.made.Load(); later != made {
		t.Errorf("synthesis went on: %d then %d chunks", made, later)
	}
	// 1000 chunks of 500 would be 400 MB of audio; what is held is the window, the queue and
	// what the socket buffers take.
	if made == 0 || made > 40 {
		t.Errorf("%d chunks made", made)
	}
	_ = ws.UnderlyingConn().Close()
	l.ledger.WaitSettled(t)
}

func TestHandshakes(t *testing.T) {
	l := newLab(t, nil, nil)
	httpURL := "http" + strings.TrimPrefix(l.url, "ws")
	resp, err := http.Get(httpURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 404 || !strings.Contains(string(body), `"message":"no route GET /text-to-speech/ws"`) {
		t.Errorf("plain GET: %d %s", resp.StatusCode, body)
	}
	_, resp, err = websocket.DefaultDialer.Dial(l.url+"?model=bulbul:v9", http.Header{"X-Request-Id": {rid}})
	if err == nil || resp.StatusCode != 422 {
		t.Fatalf("bad model: %v %v", err, resp)
	}
	body, _ = io.ReadAll(resp.Body)
	if want := `{"error":{"message":"invalid query parameters: model: Input should be 'bulbul:v2', 'bulbul:v3' or 'bulbul:v4-flash'","code":"unprocessable_entity_error","request_id":"` + rid + `"}}`; string(body) != want || resp.Header.Get("X-Request-ID") != rid {
		t.Errorf("bad model: %s %v", body, resp.Header)
	}
	if calls := l.ledger.Calls(); len(calls) != 0 {
		t.Errorf("a refused query was authorized: %v", calls)
	}
	offered := "api-subscription-key.sk_browser"
	d := websocket.Dialer{Subprotocols: []string{"chat", offered}}
	ws, resp, err := d.Dial(l.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ws.Subprotocol() != offered || resp.Header.Get("Sec-Websocket-Protocol") != offered {
		t.Errorf("echoed %q", ws.Subprotocol())
	}
	ws.Close()
	if got := l.ledger.WaitSettled(t); got != "release" {
		t.Errorf("an unused session: %s", got)
	}
	if authorized := l.ledger.Authorized(); !strings.HasPrefix(authorized[0], "sk_browser text-to-speech-ws characters 250 ") {
		t.Errorf("authorized %v", authorized)
	}
}

func TestRefusedHandshakes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		refuse error
		status int
		body   string
	}{
		{"bad key", &billing.Refusal{Status: 401, Message: "the API key is not valid"}, 401,
			`{"error":{"message":"Websocket initialized with invalid credentials: the API key is not valid","code":"invalid_api_key_error","request_id":"rid-tts-1"}}`},
		{"empty wallet", &billing.Refusal{Status: 402, Message: "top it up"}, 402,
			`{"error":{"message":"top it up","code":"insufficient_quota_error","request_id":"rid-tts-1"}}`},
		{"rate limited", &billing.Refusal{Status: 429, Message: "retry later", Header: http.Header{"Retry-After": {"42"}}}, 429,
			`{"error":{"message":"retry later","code":"rate_limit_exceeded_error","request_id":"rid-tts-1"}}`},
		{"ledger down", billing.ErrUnavailable, 503,
			`{"error":{"message":"billing is unavailable right now; nothing was charged, retry later","code":"billing_service_unavailable_error","request_id":"rid-tts-1"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLab(t, nil, nil)
			l.ledger.Refuse = tc.refuse
			_, resp, err := websocket.DefaultDialer.Dial(l.url, http.Header{"X-Request-Id": {rid}, "Api-Subscription-Key": {"k"}})
			if err == nil {
				t.Fatal("accepted")
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status || string(body) != tc.body {
				t.Errorf("%d %s", resp.StatusCode, body)
			}
			if tc.status == 429 && resp.Header.Get("Retry-After") != "42" {
				t.Errorf("headers %v", resp.Header)
			}
		})
	}
	l := newLab(t, nil, func(c *Config) { c.Speaker = nil })
	_, resp, err := websocket.DefaultDialer.Dial(l.url, http.Header{"Api-Subscription-Key": {"k"}})
	if err == nil || resp.StatusCode != 503 {
		t.Fatalf("without speech: %v %v", err, resp)
	}
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), `"message":"speech synthesis is not configured (BANYAN_INFERENCE_URL)","code":"internal_server_error"`) {
		t.Errorf("without speech: %s", body)
	}
}

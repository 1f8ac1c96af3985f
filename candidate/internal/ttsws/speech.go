package ttsws

import (
	"context"
	"iter"
)

// What the conversation needs of speech, kept to interfaces so the protocol does not depend
// on how speech is made: the TTS packages (internal/tts, internal/audio, the encoders) plug in
// behind them, and the tests use fakes.

// Options are a config's speech settings once legacy's resolve_options(surface="ws", …) has
// filled in the defaults and checked the fields against each other (legacy's SpeechOptions).
type Options struct {
	Model      string  // "bulbul:v2", …
	Speaker    string  // always set: the model's default speaker when the config had none
	Pace       float64 // 1.0 when not given
	Pitch      float64 // 0.0 unless the model honours it
	Loudness   float64 // a gain; 1.0 unless the model honours it
	SampleRate int     // the audio's rate, Hz
	Codec      string  // one of Codecs
	Bitrate    int     // bits per second, for the lossy codecs
}

// Resolver turns a validated config into speech options.
type Resolver interface {
	// Resolve is resolve_options(surface="ws", model=model, speaker=cfg.Speaker,
	// pace=cfg.Pace, pitch=cfg.Pitch, loudness=cfg.Loudness, sample_rate=cfg.SpeechSampleRate,
	// codec=cfg.OutputAudioCodec, bitrate=cfg.OutputAudioBitrate), where model is the
	// config's model, else the query's ("" when neither). An error is the client's
	// (InvalidSpeechOptions): the session answers "config message: " + err.Error() with
	// code 400 and keeps its previous config. A *NotPortedError is the candidate's own gap,
	// answered with its message and code 501 (the config is kept too).
	Resolve(cfg VoiceConfig, model string) (Options, error)
}

// NotPortedError is options legacy serves and the candidate cannot yet (a codec it has no
// encoder for). It is not the client's mistake, so it is not a 400: the session says so with
// code 501, which the shadow counts as the candidate's error, not a difference of opinion.
type NotPortedError struct{ Message string }

func (e *NotPortedError) Error() string { return e.Message }

// SpeechRequest is one buffer to speak (legacy's SpeechRequest and speak_chunks' arguments).
type SpeechRequest struct {
	Text         string
	LanguageCode string
	Options      Options // the engine uses Speaker, Pace and Pitch
	MaxChars     int     // the longest chunk, in code points (the config's max_chunk_length)
	Window       int     // chunks synthesized ahead of the consumer, in flight or ready

	RequestID, Traceparent string // the session's, forwarded to the model for its logs
}

// Chunk is the speech of one chunk of a request's text.
type Chunk struct {
	Text       string // the chunk of the text this audio says (billed by its code points)
	PCM        []byte // signed 16-bit little-endian mono
	SampleRate int
}

// Speaker synthesizes text in chunks (legacy's speak_chunks).
type Speaker interface {
	// Speak yields req.Text's chunks (chunking.Split(req.Text, req.MaxChars)) as speech, in
	// text order, each as soon as it is ready, with at most req.Window chunks in flight or
	// waiting for the consumer, so a consumer that stops pulling stops synthesis. A chunk
	// that cannot be synthesized is yielded once as an error, whose text the client reads
	// (legacy's InferenceFailed: "the speech model is unreachable: …"), and ends the
	// sequence. A consumer that stops early, or ctx ending, cancels the calls in flight; the
	// iteration returns only once they are done (no goroutine outlives it).
	Speak(ctx context.Context, req SpeechRequest) iter.Seq2[Chunk, error]
}

// Audio prepares PCM for the client (legacy's audio.resample, audio.scale, codecs.encode).
type Audio interface {
	// Resample converts 16-bit mono PCM from one rate to another (the same bytes when equal).
	Resample(pcm []byte, fromRate, toRate int) []byte
	// Scale multiplies the samples by gain, clipping (the same bytes when gain is 1).
	Scale(pcm []byte, gain float64) []byte
	// Encode makes one whole file of codec from PCM at sampleRate; bitrate is for the lossy
	// codecs. An error is the server's (the options were checked by the Resolver).
	Encode(pcm []byte, sampleRate int, codec string, bitrate int) ([]byte, error)
	// MediaType is the codec's content type ("audio/mpeg" for mp3, …).
	MediaType(codec string) string
}

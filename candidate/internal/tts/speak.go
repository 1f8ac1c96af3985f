package tts

import (
	"bytes"
	"context"
	"errors"
	"iter"

	"banyan/candidate/internal/chunking"
)

// Legacy's defaults for speak_chunks and synthesize: chunks of at most the inference
// server's 500 characters, at most four calls in flight.
const (
	MaxChars    = 500
	Concurrency = 4
)

// Request is one text to speak with resolved options (legacy's SpeechRequest).
type Request struct {
	Text         string
	LanguageCode string
	Pace         float64
	Pitch        float64
	Speaker      string // "": the voice at its own pitch and rate

	RequestID, Traceparent string // forwarded to the model, for its logs
}

// call is the model call for one chunk of req.
func (req Request) call(chunk string) Call {
	return Call{Text: chunk, Voice: EngineVoice(req.LanguageCode),
		RateWPM: RateWPM(req.Speaker, req.Pace), Pitch: EnginePitch(req.Speaker, req.Pitch)}
}

// Chunk is the speech of one chunk of a request's text (legacy's SpokenChunk).
type Chunk struct {
	Text string // the chunk of the text this audio says
	Spoken
}

// ErrNothingToSpeak is synthesize's ValueError: the text has no chunks (nothing but
// whitespace); the routes' validation never lets such a text through.
var ErrNothingToSpeak = errors.New("the text has nothing to speak")

// Speak is legacy's speak_chunks: req.Text's chunks (chunking.Split at maxChars) as speech,
// in text order, each yielded as soon as it and those before it are ready. At most window
// chunks are in flight or ready and waiting for the consumer, so a consumer that stops
// pulling stops synthesis. A chunk that fails is yielded once as its error (the first
// failure in text order, as legacy awaits the chunks in order) and ends the sequence. A
// consumer that stops early, or ctx ending, cancels the calls in flight; the iteration
// returns only once they are done, so no call outlives it.
func Speak(ctx context.Context, m Model, req Request, maxChars, window int) iter.Seq2[Chunk, error] {
	return func(yield func(Chunk, error) bool) {
		chunks := chunking.Split(req.Text, maxChars)
		ctx, cancel := context.WithCancel(ctx)
		type result struct {
			chunk Chunk
			err   error
		}
		var pending []chan result // in text order
		next := 0
		defer func() {
			cancel()
			for _, ch := range pending {
				<-ch
			}
		}()
		topUp := func() {
			for len(pending) < window && next < len(chunks) {
				text := chunks[next]
				next++
				ch := make(chan result, 1)
				pending = append(pending, ch)
				go func() {
					spoken, err := m.Synthesize(ctx, req.call(text), req.RequestID, req.Traceparent)
					ch <- result{Chunk{Text: text, Spoken: spoken}, err}
				}()
			}
		}
		topUp()
		for len(pending) > 0 {
			r := <-pending[0]
			pending = pending[1:]
			if r.err != nil {
				yield(Chunk{}, r.err)
				return
			}
			topUp()
			if !yield(r.chunk, nil) {
				return
			}
		}
	}
}

// Synthesize is legacy's synthesize: the PCM of the whole text, chunks joined with a pause
// (pause_pcm at the first chunk's rate), and its sample rate.
func Synthesize(ctx context.Context, m Model, req Request, maxChars, window int) ([]byte, int, error) {
	var parts [][]byte
	rate := 0
	for chunk, err := range Speak(ctx, m, req, maxChars, window) {
		if err != nil {
			return nil, 0, err
		}
		if rate == 0 {
			rate = chunk.SampleRate
		}
		parts = append(parts, chunk.PCM)
	}
	if len(parts) == 0 {
		return nil, 0, ErrNothingToSpeak
	}
	return bytes.Join(parts, Pause(rate)), rate, nil
}

// Pause is legacy's pause_pcm: the silence put between two chunks, int(rate·0.12) samples.
func Pause(sampleRate int) []byte {
	return make([]byte, 2*int(float64(sampleRate)*pauseSeconds))
}

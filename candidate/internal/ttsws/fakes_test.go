package ttsws

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"banyan/candidate/internal/chunking"
)

// fakeResolver stands in for resolve_options(surface="ws"): defaults filled in, a v3 speaker
// refused on bulbul:v2 (the one cross-field rule these tests need), and opus, as the real
// one (internal/ttsspeech) answers a codec the candidate does not encode.
type fakeResolver struct{}

func (fakeResolver) Resolve(cfg VoiceConfig, model string) (Options, error) {
	if model == "" {
		model = "bulbul:v2"
	}
	o := Options{Model: model, Speaker: "anushka", Pace: 1, Loudness: 1, SampleRate: 22050, Codec: "mp3", Bitrate: 128000}
	if cfg.Speaker != nil {
		if *cfg.Speaker == "shubh" && model == "bulbul:v2" {
			return Options{}, errors.New("speaker 'shubh' is a bulbul:v3 voice, not a bulbul:v2 one")
		}
		o.Speaker = *cfg.Speaker
	}
	if cfg.Pace != nil {
		o.Pace = *cfg.Pace
	}
	if cfg.Loudness != nil {
		o.Loudness = *cfg.Loudness
	}
	if cfg.SpeechSampleRate != nil {
		o.SampleRate = *cfg.SpeechSampleRate
	}
	if cfg.OutputAudioCodec == "opus" {
		return Options{}, &NotPortedError{"output_audio_codec 'opus' is not ported to the candidate yet; legacy serves it"}
	}
	if cfg.OutputAudioCodec != "" {
		o.Codec = cfg.OutputAudioCodec
	}
	return o, nil
}

// fakeSpeaker speaks each chunk as samplesPerChar samples per code point at rate, all of
// value (chunk index + 1), with legacy's window: at most req.Window chunks in flight or
// waiting. gate, when set, is waited on before chunk i of a request is made; failAt (≥ 1)
// makes that chunk fail. It counts what it made and the goroutines it runs.
type fakeSpeaker struct {
	rate           int
	samplesPerChar int
	gate           func(i int) <-chan struct{}
	failAt         int

	made      atomic.Int64 // chunks synthesized
	running   atomic.Int64 // synthesis goroutines alive
	cancelled atomic.Int64 // chunks abandoned because the context ended

	mu       sync.Mutex
	requests []SpeechRequest
}

func (s *fakeSpeaker) Speak(ctx context.Context, req SpeechRequest) iter.Seq2[Chunk, error] {
	return func(yield func(Chunk, error) bool) {
		s.mu.Lock()
		s.requests = append(s.requests, req)
		s.mu.Unlock()
		ctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		defer func() { cancel(); wg.Wait() }()
		type result struct {
			chunk Chunk
			err   error
		}
		texts := chunking.Split(req.Text, req.MaxChars)
		var window []chan result
		next := 0
		topUp := func() {
			for len(window) < req.Window && next < len(texts) {
				i, out := next, make(chan result, 1)
				next++
				window = append(window, out)
				wg.Add(1)
				s.running.Add(1)
				go func() {
					defer wg.Done()
					defer s.running.Add(-1)
					out <- s.make(ctx, i, texts[i])
				}()
			}
		}
		topUp()
		for len(window) > 0 {
			var r result
			select {
			case r = <-window[0]:
			case <-ctx.Done():
				return
			}
			window = window[1:]
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

func (s *fakeSpeaker) make(ctx context.Context, i int, text string) (r struct {
	chunk Chunk
	err   error
}) {
	if s.gate != nil {
		select {
		case <-s.gate(i):
		case <-ctx.Done():
			s.cancelled.Add(1)
			r.err = ctx.Err()
			return r
		}
	}
	if s.failAt == i+1 {
		r.err = errors.New("the speech model refused a chunk (500)")
		return r
	}
	s.made.Add(1)
	n := utf8.RuneCountInString(text) * s.samplesPerChar
	pcm := make([]byte, 2*n)
	for k := 0; k < n; k++ {
		binary.LittleEndian.PutUint16(pcm[2*k:], uint16(i+1))
	}
	r.chunk = Chunk{Text: text, PCM: pcm, SampleRate: s.rate}
	return r
}

// fakeAudio resamples by repeating or dropping samples, scales by multiplying, and encodes a
// file as "<codec>:<rate>:" followed by the PCM, so a test can read back what was sent.
type fakeAudio struct{}

func (fakeAudio) Resample(pcm []byte, from, to int) []byte {
	if from == to {
		return pcm
	}
	n := len(pcm) / 2 * to / from
	out := make([]byte, 2*n)
	for k := 0; k < n; k++ {
		copy(out[2*k:], pcm[2*(k*from/to):2*(k*from/to)+2])
	}
	return out
}

func (fakeAudio) Scale(pcm []byte, gain float64) []byte {
	if gain == 1 {
		return pcm
	}
	out := make([]byte, len(pcm))
	for k := 0; k+1 < len(pcm); k += 2 {
		binary.LittleEndian.PutUint16(out[k:], uint16(float64(int16(binary.LittleEndian.Uint16(pcm[k:])))*gain))
	}
	return out
}

func (fakeAudio) Encode(pcm []byte, rate int, codec string, _ int) ([]byte, error) {
	return append([]byte(fmt.Sprintf("%s:%d:", codec, rate)), pcm...), nil
}

func (fakeAudio) MediaType(codec string) string {
	return map[string]string{"mp3": "audio/mpeg", "wav": "audio/wav", "flac": "audio/flac", "linear16": "audio/pcm"}[codec]
}

// Package stt is speech-to-text's orchestration, ported from legacy/speech/stt.py: the VAD
// segments of a recording, cut to the recognition model's context, recognised one piece per
// call on the inference server (asr.go), and merged into one transcript with word timings.
// Decoding is internal/audioin's job and segmentation internal/vad's; billing is the route's.
//
// As in legacy: when the language is "unknown", the first piece that has speech is recognised
// alone first and the language it detects is used for every other piece (one transcript, one
// language); the other pieces are recognised concurrently, at most Concurrency at a time, and
// merged in order; a word's times move from its piece to the recording.
package stt

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"

	"banyan/candidate/internal/vad"
)

// ModelMaxSeconds is the recognition model's context (the inference server's default).
const ModelMaxSeconds = 20.0

// Concurrency is how many pieces are recognised at once.
const Concurrency = 4

// Request is what the route asks for (legacy's RecognitionRequest).
type Request struct {
	Language string // a language code, or "unknown" to detect it
	Mode     string
	Keyterms []string
}

// Word is a recognised word, in seconds from the start of the recording.
type Word struct {
	Text       string
	Start, End float64
}

// Transcription is the merged answer. LanguageCode is nil when nothing detected a language;
// LanguageProbability is nil unless detection gave one.
type Transcription struct {
	Transcript          string
	LanguageCode        *string
	LanguageProbability *float64
	Words               []Word
}

// FitToContext is legacy's fit_to_context: segments, with each one longer than maxSeconds
// cut at its quietest 30 ms frame between half and all of the limit.
func FitToContext(pcm []byte, segments []vad.Segment, maxSeconds float64) []vad.Segment {
	var pieces []vad.Segment
	for _, s := range segments {
		start := s.Start
		for s.End-start > maxSeconds {
			cut := quietestFrame(pcm, start+maxSeconds/2, start+maxSeconds)
			pieces = append(pieces, vad.Segment{Start: vad.Round(start, 3), End: vad.Round(cut, 3)})
			start = cut
		}
		pieces = append(pieces, vad.Segment{Start: vad.Round(start, 3), End: s.End})
	}
	return pieces
}

// quietestFrame is the start of the quietest 30 ms frame in [from, to - 30 ms], the later on
// a tie. Energies are sums of squares of int16 samples, exact in float64 whatever the order
// of summation, so the choice is numpy's.
func quietestFrame(pcm []byte, from, to float64) float64 {
	first := int(from / vad.FrameSeconds)
	last := int(to/vad.FrameSeconds) - 1
	best, bestEnergy := last, -1.0
	for index := first; index <= last; index++ {
		lo := min(index*vad.FrameBytes, len(pcm))
		hi := min((index+1)*vad.FrameBytes, len(pcm))
		frame := pcm[lo:hi]
		energy := 0.0
		if n := len(frame) / 2; n > 0 {
			var sum int64
			for i := 0; i < n; i++ {
				v := int64(int16(binary.LittleEndian.Uint16(frame[2*i:])))
				sum += v * v
			}
			energy = float64(sum) / float64(n)
		}
		if bestEnergy < 0 || energy <= bestEnergy {
			best, bestEnergy = index, energy
		}
	}
	return float64(best) * vad.FrameSeconds
}

// slice is the piece's audio as legacy cuts it: pcm[int(start*16000)*2 : int(end*16000)*2].
func slice(pcm []byte, piece vad.Segment) []byte {
	lo := min(int(piece.Start*vad.Rate)*2, len(pcm))
	hi := min(int(piece.End*vad.Rate)*2, len(pcm))
	if hi < lo {
		return nil
	}
	return pcm[lo:hi]
}

// Transcribe is legacy's transcribe: each piece recognised, merged. The error is a *Failed
// (502), or another error for an answer that is not one (legacy's 500).
func Transcribe(ctx context.Context, model Model, pcm []byte, pieces []vad.Segment, req Request, h Headers) (*Transcription, error) {
	ask := func(ctx context.Context, piece vad.Segment, language string) (Answer, error) {
		return model.Recognize(ctx, Call{PCM: slice(pcm, piece), Language: language, Mode: req.Mode, Keyterms: req.Keyterms}, h)
	}
	language, probability := req.Language, (*float64)(nil)
	results := make([]Answer, len(pieces))
	index := 0
	for language == "unknown" && index < len(pieces) {
		answer, err := ask(ctx, pieces[index], "unknown")
		if err != nil {
			return nil, err
		}
		results[index] = answer
		index++
		if code, ok := answer["language_code"].(string); ok {
			language, probability = code, asFloat(answer["language_probability"])
		}
	}
	if err := recognizeRest(ctx, pieces[index:], results[index:], func(ctx context.Context, p vad.Segment) (Answer, error) {
		return ask(ctx, p, language)
	}); err != nil {
		return nil, err
	}
	return merge(pieces, results, language, probability)
}

// recognizeRest recognises pieces concurrently (at most Concurrency in flight) into results.
// The first failure is returned and the calls not yet started are not made; legacy lets its
// other calls run, which changes nothing the client sees.
func recognizeRest(ctx context.Context, pieces []vad.Segment, results []Answer, ask func(context.Context, vad.Segment) (Answer, error)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	gate := make(chan struct{}, Concurrency)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for i, piece := range pieces {
		gate <- struct{}{}
		if ctx.Err() != nil {
			<-gate
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-gate }()
			answer, err := ask(ctx, piece)
			if err != nil {
				once.Do(func() { first = err; cancel() })
				return
			}
			results[i] = answer
		}()
	}
	wg.Wait()
	return first
}

// merge is legacy's _merge: the non-empty transcripts joined by spaces, every word moved to
// the recording's time and rounded to centiseconds.
func merge(pieces []vad.Segment, results []Answer, language string, probability *float64) (*Transcription, error) {
	var texts []string
	words := []Word{}
	for i, piece := range pieces {
		result := results[i]
		if text := pyStr(result["transcript"]); text != "" {
			texts = append(texts, text)
		}
		raw, _ := result["words"].([]any)
		for _, w := range raw {
			word, ok := w.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("a word of the recognition model's answer is not an object")
			}
			text, okText := word["text"].(string)
			start, okStart := word["start_s"].(float64)
			end, okEnd := word["end_s"].(float64)
			if !okText || !okStart || !okEnd {
				return nil, fmt.Errorf("a word of the recognition model's answer lacks text, start_s or end_s")
			}
			words = append(words, Word{Text: text, Start: vad.Round(piece.Start+start, 2), End: vad.Round(piece.Start+end, 2)})
		}
	}
	t := &Transcription{Transcript: strings.Join(texts, " "), LanguageProbability: probability, Words: words}
	if language != "unknown" {
		t.LanguageCode = &language
	}
	return t, nil
}

// pyStr is str(value or "") for the answer's transcript (a string, or absent or null).
func pyStr(v any) string {
	s, _ := v.(string)
	return s
}

// asFloat is legacy's _as_float: a JSON number (or boolean: Python's bool is an int) as a
// float, else nil.
func asFloat(v any) *float64 {
	switch x := v.(type) {
	case float64:
		return &x
	case bool:
		f := 0.0
		if x {
			f = 1
		}
		return &f
	}
	return nil
}

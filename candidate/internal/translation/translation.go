// Package translation is legacy/text/translation.py: a text translated by the inference
// server's model, chunked to the model's context limit.
//
// The model takes at most MaxChars per call, so longer text is split at sentence boundaries
// (words if a sentence alone is too long) by the chunking package, the chunks are translated
// with at most Concurrency calls in flight, and the translations are joined in order with a
// space. Text within the limit goes in one call as it is, line breaks included. Billing and
// the choice of model are the route's business, not this package's.
package translation

import (
	"context"
	"strings"
	"sync"
	"unicode/utf8"

	"banyan/candidate/internal/chunking"
	"banyan/candidate/internal/translationmodel"
)

// MaxChars is what one model call carries (legacy's max_chars), and Concurrency how many calls
// of one request are in flight at once.
const (
	MaxChars    = 500
	Concurrency = 4
)

// Model is the translation model: translationmodel.Client, or a fake in tests.
type Model interface {
	Translate(ctx context.Context, call translationmodel.Call) (string, error)
}

// Job is one request's translation; the source is concrete ("auto" is resolved before).
type Job struct {
	Text, SourceLanguageCode, TargetLanguageCode, Mode, SpeakerGender string
}

// Translate is legacy's translate_text: the job's text in the target language, or the first
// failed call's error (a *translationmodel.Failed, legacy's TranslationFailed, or the error
// of an answer that is not a translation); the calls still in flight are then cancelled.
// Text of nothing but whitespace and over MaxChars has no chunks, makes no call and
// translates to "".
func Translate(ctx context.Context, model Model, job Job) (string, error) {
	chunks := []string{job.Text}
	if utf8.RuneCountInString(job.Text) > MaxChars {
		chunks = chunking.Split(job.Text, MaxChars)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	translated := make([]string, len(chunks))
	var (
		mu    sync.Mutex
		next  int
		first error
		wg    sync.WaitGroup
	)
	// take hands out the next chunk's index, or -1 once all are taken or a call failed.
	take := func() int {
		mu.Lock()
		defer mu.Unlock()
		if next == len(chunks) || first != nil {
			return -1
		}
		next++
		return next - 1
	}
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if first == nil {
			first = err
			cancel()
		}
	}
	for range min(Concurrency, len(chunks)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := take(); i >= 0; i = take() {
				text, err := model.Translate(ctx, translationmodel.Call{
					Text: chunks[i], SourceLanguageCode: job.SourceLanguageCode,
					TargetLanguageCode: job.TargetLanguageCode, Mode: job.Mode, SpeakerGender: job.SpeakerGender,
				})
				if err != nil {
					fail(err)
					return
				}
				translated[i] = text
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return "", first
	}
	return strings.Join(translated, " "), nil
}

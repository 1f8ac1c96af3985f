package httpapi

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"banyan/candidate/internal/audio"
	"banyan/candidate/internal/text"
	"banyan/candidate/internal/tts"
)

// POST /text-to-speech/stream (legacy/tts_stream_api.py; sdk-contract §1.5, §1.6): encoded
// audio as it is spoken, one continuous file of the codec (mp3 by default) sent in HTTP
// chunks as each chunk of text is synthesized.
//
// The steps and their answers, in legacy's order: validation (422), the options (400), the
// candidate's own step — a codec it cannot encode yet (aac, opus: 501, nothing held) —
// language detection when language_code is omitted (400 when the text's language is not
// one of the API's; 502/503 when the model cannot be asked), no inference server (503),
// authorize the whole text (402 before any byte), the first chunk's speech (502 and the hold
// released when it fails: the answer has not started), then the stream.
//
// Billing (text-to-speech-stream, characters): a stream that completes is charged the whole
// text, settled before the body's last chunk; a client that goes away stops synthesis (its
// context is cancelled) and is charged the characters of the chunks whose audio was
// written to it; a model failure mid-stream is charged the same and the connection is
// dropped, so the client sees a truncated body, never an end that looks complete.

const (
	maxStreamText    = 3500
	streamChunkChars = 250 // a sentence or two: the first audio comes quickly
	streamWindow     = 2   // chunks synthesized ahead of the connection
	noAudio          = "the speech model returned no audio"
)

// textToSpeechStream is POST /text-to-speech/stream.
func (s *Server) textToSpeechStream(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, bodyLimit)
	if !ok {
		return
	}
	f := fields{body: body}
	fieldsOf := readSpeechFields(&f)
	input := f.speakable(maxStreamText)
	language := f.literal("language_code", false, text.CoreLanguages)
	if name := f.literal("output_audio_bitrate", false, tts.BitrateNames); name != "" {
		bitrate := tts.Bitrates[name]
		fieldsOf.Bitrate = &bitrate
	}
	if len(f.problems) > 0 {
		writeError(w, r, http.StatusUnprocessableEntity, f.message(), "")
		return
	}
	options, ok := speechOptions(w, r, tts.Stream, fieldsOf, nil)
	if !ok {
		return
	}
	if language == "" {
		if language, ok = s.detectLanguage(w, r, input); !ok {
			return
		}
	}
	if !s.speechConfigured(w, r) {
		return
	}
	encoder, err := audio.NewStreamEncoder(options.Codec, options.SampleRate, options.Bitrate)
	if err != nil { // the options were resolved: a rate the codec cannot carry is not left
		s.log.ErrorContext(r.Context(), "no stream encoder", "error", err)
		writeError(w, r, http.StatusInternalServerError, internalErrorMessage, "")
		return
	}
	chars := utf8.RuneCountInString(input)
	charge, ok := s.openCharge(w, r, "text-to-speech-stream", chars)
	if !ok {
		return
	}
	speech := speechRequest(r, input, language, options)
	next, stop := iter.Pull2(streamPieces(r.Context(), s.speech, speech, options, encoder))
	defer stop()
	first, err, more := next()
	if err != nil || !more {
		stop()
		s.abandonCharge(r, charge)
		var failed *tts.Failed
		switch {
		case r.Context().Err() != nil:
			w.WriteHeader(499) // nobody is there to read it
		case !more:
			writeError(w, r, http.StatusBadGateway, noAudio, "")
		case errors.As(err, &failed):
			s.log.WarnContext(r.Context(), "speech synthesis failed", "error", failed.Message)
			writeError(w, r, http.StatusBadGateway, failed.Message, "")
		default:
			s.answerSpeechError(w, r, err)
		}
		return
	}
	w.Header().Set("Content-Type", audio.MediaType(options.Codec))
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	sent := 0
	for piece := first; ; {
		if len(piece.audio) > 0 {
			// Each write has its own deadline (chat.go's): a stream lasts as long as its
			// speech takes to make and read, past the server's whole-response timeout.
			_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
			n, err := w.Write(piece.audio)
			if err == nil {
				err = rc.Flush()
			}
			if err != nil { // the client is gone: it pays for what it was sent
				if n > 0 {
					// Some of this piece's audio was handed to the connection (the client
					// may have played it), as legacy counts a chunk its transport took.
					sent += piece.chars
				}
				stop()
				s.closeStream(r, charge, sent, "the client went away mid-stream")
				return
			}
		}
		sent += piece.chars
		if piece, err, more = next(); err != nil || !more {
			break
		}
	}
	if err != nil || r.Context().Err() != nil {
		stop()
		s.closeStream(r, charge, sent, "the speech stream was cut short")
		if r.Context().Err() == nil {
			s.log.WarnContext(r.Context(), "speech stream cut short", "error", err, "sent_chars", sent)
			panic(http.ErrAbortHandler) // drop the connection: a truncated body, not a false end
		}
		return
	}
	// Billed before the body ends, so a client that has read it all finds the charge.
	s.closeStream(r, charge, chars, "")
}

// closeStream settles a stream whose headers are gone: a failure can only be logged.
func (s *Server) closeStream(r *http.Request, c *charge, quantity int, why string) {
	if why != "" {
		s.log.InfoContext(r.Context(), why+"; charged what was sent", "chars", quantity)
	}
	holdsOf(r.Context()).closed(c.auth)
	err := s.billing.Settle(context.WithoutCancel(r.Context()), c.req, c.auth, quantity)
	s.metrics.billingCall("settle", outcome(err))
	if err != nil {
		s.log.ErrorContext(r.Context(), "settling a stream failed", "error", err, "chars", quantity)
	}
}

// detectLanguage is legacy's _detect: the text's language when it is one of the API's, else
// the answer (400, or the model's 502/503) and false.
func (s *Server) detectLanguage(w http.ResponseWriter, r *http.Request, input string) (string, bool) {
	found, err := s.identify(r, input)
	if err != nil {
		s.answerModelError(w, r, err)
		return "", false
	}
	if found.LanguageCode != nil && slices.Contains(text.CoreLanguages, *found.LanguageCode) {
		return *found.LanguageCode, true
	}
	detected := "none"
	if found.LanguageCode != nil && *found.LanguageCode != "" {
		detected = *found.LanguageCode
	}
	writeError(w, r, http.StatusBadRequest, "could not tell which language the text is in (detected "+
		detected+"); set language_code to one of "+strings.Join(text.CoreLanguages, ", "), "")
	return "", false
}

// streamPiece is encoded audio and the characters of text it completes (0 for the
// encoder's tail).
type streamPiece struct {
	audio []byte
	chars int
}

// streamPieces is legacy's _pieces: each chunk's speech resampled, scaled, after a pause
// (but the first), through the one encoder; then the encoder's tail. Synthesis runs at most
// streamWindow chunks ahead and stops when the consumer stops pulling.
func streamPieces(ctx context.Context, model tts.Model, req tts.Request, o tts.Options, enc audio.StreamEncoder) iter.Seq2[streamPiece, error] {
	return func(yield func(streamPiece, error) bool) {
		first := true
		for chunk, err := range tts.Speak(ctx, model, req, streamChunkChars, streamWindow) {
			if err != nil {
				yield(streamPiece{}, err)
				return
			}
			pcm := audio.Scale(audio.Resample(chunk.PCM, chunk.SampleRate, o.SampleRate), o.Loudness)
			if !first {
				pcm = append(tts.Pause(o.SampleRate), pcm...)
			}
			first = false
			if !yield(streamPiece{enc.Feed(pcm), utf8.RuneCountInString(chunk.Text)}, nil) {
				return
			}
		}
		if ctx.Err() == nil {
			yield(streamPiece{enc.Finish(), 0}, nil)
		}
	}
}

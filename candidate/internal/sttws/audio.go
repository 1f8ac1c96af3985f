package sttws

import (
	"bytes"
	"errors"

	"banyan/candidate/internal/audioin"
	"banyan/candidate/internal/stt"
)

// audioProblem is an audio message the session answers with an error (and otherwise drops).
type audioProblem struct {
	message string
	code    string
}

// pcmOf is legacy's _to_16k on an audio message's data: the session's next 16 kHz mono
// s16le. A WAV file (any rate, any session: recognised by "RIFF", whatever the query says) is
// decoded whole, as the REST routes decode an upload, and may hold at most the model's 20 s;
// raw PCM loses an odd trailing byte (legacy does not carry it over to the next message) and
// at 8 kHz goes through the session's upsampler. err is a decoding failure of the server's.
func pcmOf(data []byte, rawRate int, up *upsampler) ([]byte, *audioProblem, error) {
	if rawRate == 0 || bytes.HasPrefix(data, []byte("RIFF")) {
		pcm, err := audioin.Decode(data, "", stt.ModelMaxSeconds)
		var rejected *audioin.Rejected
		var notPorted *audioin.NotPorted
		switch {
		case errors.As(err, &rejected):
			return nil, &audioProblem{"audio.data: " + rejected.Message, codeInvalid}, nil
		case errors.As(err, &notPorted):
			return nil, &audioProblem{"audio.data: " + notPorted.Error(), codeNotPorted}, nil
		case err != nil:
			return nil, nil, err
		}
		return pcm, nil, nil
	}
	pcm := data[:len(data)-len(data)%2]
	if rawRate == 16000 {
		return pcm, nil, nil
	}
	return up.feed(pcm), nil, nil
}

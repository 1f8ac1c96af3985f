package vad

import "math"

// Stream is legacy's UtteranceStream (legacy/speech/streaming.py): a live 16 kHz mono s16le
// stream cut into utterances as it arrives, for the speech-to-text sockets. Feed the audio in
// any pieces; each call returns the VAD's start and end events and, when an utterance ends,
// the utterance itself, in legacy's order. Flush hands over the open utterance so far without
// waiting for the silence that would end it.
//
// Memory is bounded whatever the client sends: outside speech only the last keep of audio is
// kept (the VAD's look-back padding), and an utterance that reaches maxUtterance (the model's
// context) is handed over at that point and goes on as a new piece. Like legacy's, the
// boundaries are sample indices (round(seconds * 16000), Python's round-half-even), so the
// utterances are legacy's to the sample.
//
// Not safe for concurrent use; one stream per session.
type Stream struct {
	activity    *Activity
	maxSamples  int
	keepSamples int
	buffer      []byte
	bufferStart int // stream sample index of buffer[0]
	received    int // samples fed so far
	speaking    bool
	speechFrom  int // where the open utterance starts (while speaking)
	takenUntil  int // audio before this sample has been handed over
}

// Utterance is a stretch of the stream handed over for recognition: its PCM and where it
// lies, in samples from the start of the stream (Start, End: legacy's start_s * 16000).
type Utterance struct {
	PCM        []byte
	Start, End int
}

// StartSeconds and EndSeconds are legacy's start_s and end_s (sample / 16000 as a float).
func (u Utterance) StartSeconds() float64 { return float64(u.Start) / Rate }

// EndSeconds is legacy's end_s.
func (u Utterance) EndSeconds() float64 { return float64(u.End) / Rate }

// StreamEvent is one of a VAD start (Started), a VAD end (Ended, with its Segment) or an
// utterance handed over (Utterance non-nil).
type StreamEvent struct {
	Started   bool
	Ended     bool
	Segment   Segment // Start for a start event; the whole segment for an end event
	Utterance *Utterance
}

// NewStream is UtteranceStream(cfg, max_utterance_s=maxUtterance, keep_s=keep).
func NewStream(cfg Config, maxUtterance, keep float64) (*Stream, error) {
	a, err := NewActivity(cfg)
	if err != nil {
		return nil, err
	}
	return &Stream{activity: a, maxSamples: int(maxUtterance * Rate), keepSamples: int(keep * Rate)}, nil
}

// BufferedBytes is how much audio the stream holds (for tests of its bound).
func (s *Stream) BufferedBytes() int { return len(s.buffer) }

// Feed takes the next piece of the stream (an odd trailing byte is dropped, as legacy does)
// and returns what it caused.
func (s *Stream) Feed(pcm []byte) []StreamEvent {
	pcm = pcm[:len(pcm)-len(pcm)%2]
	s.buffer = append(s.buffer, pcm...)
	s.received += len(pcm) / 2
	var out []StreamEvent
	for _, e := range s.activity.Feed(pcm) {
		if !e.Ended {
			out = append(out, StreamEvent{Started: true, Segment: e.Segment})
			s.speaking = true
			s.speechFrom = max(s.takenUntil, pyRoundInt(e.Segment.Start*Rate))
			continue
		}
		out = append(out, StreamEvent{Ended: true, Segment: e.Segment})
		end := pyRoundInt(e.Segment.End * Rate)
		out = s.take(out, s.speechFrom, s.speaking, end)
		s.speaking = false
	}
	for s.speaking && s.received-s.speechFrom >= s.maxSamples {
		cut := s.speechFrom + s.maxSamples // the model's context is full
		out = s.take(out, s.speechFrom, true, cut)
		s.speechFrom = cut
	}
	s.trim()
	return out
}

// Flush hands over the open utterance so far, if there is one; it goes on as a new piece.
// Flush causes no VAD events.
func (s *Stream) Flush() []StreamEvent {
	if !s.speaking {
		return nil
	}
	out := s.take(nil, s.speechFrom, true, s.received)
	s.speechFrom = s.received
	return out
}

// take is legacy's _take: the audio [start, end) as an utterance, never before what was
// handed over already or what the buffer still holds; nothing when that leaves nothing.
// hasStart false is legacy's start None (then start is end).
func (s *Stream) take(out []StreamEvent, start int, hasStart bool, end int) []StreamEvent {
	if !hasStart {
		start = end
	}
	start = max(start, s.takenUntil, s.bufferStart)
	if end <= start {
		return out
	}
	a, b := (start-s.bufferStart)*2, (end-s.bufferStart)*2
	s.takenUntil = end
	pcm := append([]byte(nil), s.buffer[a:min(b, len(s.buffer))]...)
	return append(out, StreamEvent{Utterance: &Utterance{PCM: pcm, Start: start, End: end}})
}

// trim drops what is neither in the open utterance nor in the last keep of the stream.
func (s *Stream) trim() {
	keepFrom := s.received - s.keepSamples
	if s.speaking {
		keepFrom = min(keepFrom, s.speechFrom)
	}
	drop := max(0, keepFrom-s.bufferStart)
	if drop > 0 {
		// Copy down rather than reslice, so the dropped audio is not kept alive by the array.
		s.buffer = append(s.buffer[:0], s.buffer[drop*2:]...)
		s.bufferStart += drop
	}
}

// pyRoundInt is Python's round(x) of a float to an int: to nearest, halves to even.
func pyRoundInt(x float64) int { return int(math.RoundToEven(x)) }

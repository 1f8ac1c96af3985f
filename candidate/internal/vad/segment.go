package vad

import (
	"encoding/binary"
	"strconv"
)

// The segmentation of legacy/speech/vad.py: a hysteresis over a sliding window of frame
// verdicts. Speech starts when start_ratio of the window is voiced (the segment begins at the
// window's first voiced frame, less pad, never before the previous segment's end) and ends
// when end_ratio of a full window is unvoiced (after the last voiced frame, plus pad). The
// arithmetic is legacy's in float64 and the times are rounded to milliseconds as Python's
// round(x, 3) does, so the segments, and the audio cut from them, are legacy's to the sample.

// Rate is the sample rate this package takes; FrameSeconds is one frame's duration.
const (
	Rate         = 16000
	FrameSeconds = 0.03
	FrameBytes   = FrameSamples * 2
)

// Config is legacy's VadConfig.
type Config struct {
	Aggressiveness int     // webrtcvad mode 0..3
	WindowFrames   int     // the hysteresis window
	StartRatio     float64 // voiced share of the window that opens a segment
	EndRatio       float64 // unvoiced share of a full window that closes one
	PadMS          int     // kept around the voiced frames
}

// DefaultConfig is VadConfig(): what the REST routes use.
func DefaultConfig() Config {
	return Config{Aggressiveness: 2, WindowFrames: 10, StartRatio: 0.6, EndRatio: 0.9, PadMS: 60}
}

// ForSensitivity is VadConfig.for_sensitivity(high).
func ForSensitivity(high bool) Config {
	c := DefaultConfig()
	if high {
		c.Aggressiveness, c.WindowFrames = 3, 6
	}
	return c
}

// Segment is a stretch of speech, in seconds from the start of the audio (rounded to ms).
type Segment struct{ Start, End float64 }

type verdict struct {
	index  int
	voiced bool
}

// Activity is legacy's VoiceActivity: incremental segmentation of one stream (Feed the PCM as
// it comes, Finish at its end). Its memory is one partial frame and the window.
type Activity struct {
	cfg        Config
	classifier *Classifier
	pending    []byte
	frames     int
	window     []verdict
	inSpeech   bool
	startFrame int
	lastVoiced int
	floor      float64
}

// NewActivity starts a stream's segmentation; cfg.Aggressiveness must be 0..3.
func NewActivity(cfg Config) (*Activity, error) {
	c, err := NewClassifier(cfg.Aggressiveness)
	if err != nil {
		return nil, err
	}
	return &Activity{cfg: cfg, classifier: c}, nil
}

// Event is a segment's start (Started, at Start) or end (Ended, the whole Segment).
type Event struct {
	Ended   bool
	Segment Segment // Start only, for a start event
}

// Feed judges the whole frames of pending+pcm (s16le) and returns the events they caused.
func (a *Activity) Feed(pcm []byte) []Event {
	data := append(a.pending, pcm...)
	whole := len(data) - len(data)%FrameBytes
	var events []Event
	frame := make([]int16, FrameSamples)
	for off := 0; off < whole; off += FrameBytes {
		for i := range frame {
			frame[i] = int16(binary.LittleEndian.Uint16(data[off+2*i:]))
		}
		if e, ok := a.judge(frame); ok {
			events = append(events, e)
		}
	}
	a.pending = append([]byte(nil), data[whole:]...)
	return events
}

// Finish ends the stream: an open segment closes at its last voiced frame.
func (a *Activity) Finish() []Event {
	a.pending = nil
	if !a.inSpeech {
		return nil
	}
	return []Event{a.close()}
}

func (a *Activity) judge(frame []int16) (Event, bool) {
	index := a.frames
	a.frames++
	voiced := a.classifier.IsSpeech(frame)
	a.window = append(a.window, verdict{index, voiced})
	size := a.cfg.WindowFrames
	if len(a.window) > size {
		a.window = a.window[1:]
	}
	if !a.inSpeech {
		first, count := -1, 0
		for _, v := range a.window {
			if v.voiced {
				if first < 0 {
					first = v.index
				}
				count++
			}
		}
		if float64(count) >= a.cfg.StartRatio*float64(size) {
			a.inSpeech, a.startFrame, a.lastVoiced = true, first, index
			return Event{Segment: Segment{Start: round3(a.paddedStart())}}, true
		}
		return Event{}, false
	}
	if voiced {
		a.lastVoiced = index
	}
	unvoiced := 0
	for _, v := range a.window {
		if !v.voiced {
			unvoiced++
		}
	}
	if len(a.window) == size && float64(unvoiced) >= a.cfg.EndRatio*float64(size) {
		return a.close(), true
	}
	return Event{}, false
}

func (a *Activity) pad() float64 { return float64(a.cfg.PadMS) / 1000 }

func (a *Activity) paddedStart() float64 {
	return max(a.floor, float64(a.startFrame)*FrameSeconds-a.pad())
}

func (a *Activity) close() Event {
	start := a.paddedStart()
	end := min(float64(a.frames)*FrameSeconds, float64(a.lastVoiced+1)*FrameSeconds+a.pad())
	a.inSpeech = false
	a.window = a.window[:0]
	a.floor = end
	return Event{Ended: true, Segment: Segment{Start: round3(start), End: round3(end)}}
}

// FindSpeech is legacy's find_speech: the speech segments of a whole recording, in order.
func FindSpeech(pcm []byte, cfg Config) ([]Segment, error) {
	a, err := NewActivity(cfg)
	if err != nil {
		return nil, err
	}
	var segments []Segment
	for _, e := range append(a.Feed(pcm), a.Finish()...) {
		if e.Ended {
			segments = append(segments, e.Segment)
		}
	}
	return segments, nil
}

// round3 is Python's round(x, 3): the exact binary value correctly rounded to three decimals.
func round3(x float64) float64 { return Round(x, 3) }

// Round is Python's round(x, n) for n >= 0.
func Round(x float64, n int) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', n, 64), 64)
	return r
}

package ttsws

import (
	"context"
	"encoding/hex"
	"errors"
	"math"
	"reflect"
	"testing"

	"banyan/candidate/internal/pyjson"
	"banyan/candidate/internal/realtime"
	"banyan/candidate/internal/realtime/realtimetest"
)

// object decodes a case's data as the session decodes a message's (json.loads; null is {}).
func object(t *testing.T, text string) map[string]pyjson.Value {
	t.Helper()
	v, err := pyjson.Decode([]byte(text))
	if err != nil {
		t.Fatalf("%s: %v", text, err)
	}
	return v.Fields
}

// dump is the config as legacy's model_dump(mode="json") writes it, numbers as float64.
func dump(c VoiceConfig) map[string]any {
	str := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	ptr := func(p any) any {
		switch v := p.(type) {
		case *string:
			if v != nil {
				return *v
			}
		case *float64:
			if v != nil {
				return *v
			}
		case *bool:
			if v != nil {
				return *v
			}
		case *int:
			if v != nil {
				return float64(*v)
			}
		}
		return nil
	}
	return map[string]any{
		"language_code": c.LanguageCode, "speaker": ptr(c.Speaker), "pitch": ptr(c.Pitch), "pace": ptr(c.Pace),
		"loudness": ptr(c.Loudness), "speech_sample_rate": ptr(c.SpeechSampleRate),
		"enable_preprocessing": ptr(c.EnablePreprocessing), "output_audio_codec": str(c.OutputAudioCodec),
		"output_audio_bitrate": str(c.OutputAudioBitrate), "min_buffer_size": float64(c.MinBufferSize),
		"max_chunk_length": float64(c.MaxChunkLength), "dict_id": ptr(c.DictID), "model": str(c.Model),
		"temperature": ptr(c.Temperature),
	}
}

// TestConfigAsLegacy replays testdata/config_cases.json.gz: TtsConfig's validation of config
// data, its messages and its coercions.
func TestConfigAsLegacy(t *testing.T) {
	var cases []struct {
		Data   string         `json:"data"`
		Error  string         `json:"error"`
		Config map[string]any `json:"config"`
	}
	realtimetest.Load(t, "testdata/config_cases.json.gz", &cases)
	for _, tc := range cases {
		got, problem := parseConfig(object(t, tc.Data))
		if problem != tc.Error {
			t.Errorf("%s:\n got  %q\n want %q", tc.Data, problem, tc.Error)
			continue
		}
		if tc.Error != "" {
			continue
		}
		want := tc.Config
		// An integer past int's range is clamped (documented on VoiceConfig).
		if r, ok := want["speech_sample_rate"].(float64); ok && math.Abs(r) > math.MaxInt64 {
			want["speech_sample_rate"] = float64(math.MaxInt)
			if r < 0 {
				want["speech_sample_rate"] = float64(math.MinInt)
			}
		}
		if d := dump(got); !reflect.DeepEqual(d, want) {
			t.Errorf("%s:\n got  %v\n want %v", tc.Data, d, want)
		}
	}
}

// TestTextAsLegacy replays testdata/text_cases.json: _Text's validation.
func TestTextAsLegacy(t *testing.T) {
	var cases []struct {
		Data  string `json:"data"`
		Text  string `json:"text"`
		Error string `json:"error"`
	}
	realtimetest.Load(t, "testdata/text_cases.json", &cases)
	for _, tc := range cases {
		got, _, problem := parseText(object(t, tc.Data))
		if got != tc.Text || problem != tc.Error {
			t.Errorf("%.60s: got %.20q %q, want %.20q %q", tc.Data, got, problem, tc.Text, tc.Error)
		}
	}
}

type refuseAll struct{}

func (refuseAll) Resolve(VoiceConfig, string) (Options, error) {
	return Options{}, errors.New("no config in frame_cases.json reaches resolve_options")
}

// TestFramesAsLegacy replays testdata/frame_cases.json: _handle on every kind of frame,
// before and after a config (min_buffer_size 1000): the error it answers, what it queues,
// what stays buffered.
func TestFramesAsLegacy(t *testing.T) {
	var cases []struct {
		Configured bool    `json:"configured"`
		Text       *string `json:"text"`
		Binary     *string `json:"binary"`
		Error      string  `json:"error"`
		Code       int     `json:"code"`
		Queued     int     `json:"queued"`
		Buffer     string  `json:"buffer"`
	}
	realtimetest.Load(t, "testdata/frame_cases.json", &cases)
	for _, tc := range cases {
		c := &conversation{resolver: refuseAll{}, jobs: make(chan job, pendingJobs)}
		if tc.Configured {
			c.voice = &voice{languageCode: "hi-IN", minBufferSize: 1000, maxChunkLength: 150}
		}
		var frame realtime.Frame
		name := ""
		if tc.Binary != nil {
			data, _ := hex.DecodeString(*tc.Binary)
			frame, name = realtime.Frame{Binary: true, Data: data}, "binary "+*tc.Binary
		} else {
			frame, name = realtime.Frame{Data: []byte(*tc.Text)}, *tc.Text
		}
		if tc.Text != nil && *tc.Text == `{"type": "\ud800"}` {
			// Legacy's repr shows the lone surrogate ('\ud800'); Go strings cannot hold one
			// (pyjson reads it as U+FFFD), so the message says '\ufffd' instead. Known gap.
			continue
		}
		err := c.handle(context.Background(), frame)
		var pe *protocolError
		switch {
		case tc.Error == "" && err != nil:
			t.Errorf("%q (configured %v): %v, legacy accepts it", name, tc.Configured, err)
		case tc.Error != "" && (!errors.As(err, &pe) || pe.message != tc.Error || pe.code != tc.Code):
			t.Errorf("%q (configured %v):\n got  %v\n want %q %d", name, tc.Configured, err, tc.Error, tc.Code)
		}
		if len(c.jobs) != tc.Queued || c.buffer.String() != tc.Buffer {
			t.Errorf("%q: queued %d buffer %q, want %d %q", name, len(c.jobs), c.buffer.String(), tc.Queued, tc.Buffer)
		}
	}
}

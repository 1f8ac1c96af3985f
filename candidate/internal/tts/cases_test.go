package tts

import (
	"bytes"
	"encoding/json"
	"math/big"
	"strconv"
	"testing"

	"banyan/candidate/internal/casefile"
)

// legacyCases is testdata/cases.json, legacy's answers (gen/gen_cases.py).
type legacyCases struct {
	Voices []struct {
		Speaker string
		Pitch   int
		Tempo   float64
	}
	Engine []struct {
		Speaker, Language, Voice string
		Pace, Pitch              float64
		RateWPM                  int `json:"rate_wpm"`
		EnginePitch              int `json:"engine_pitch"`
	}
	Options []struct {
		Fields struct {
			Surface               Surface
			Model, Speaker, Codec *string
			Pace, Pitch, Loudness *float64
			SampleRate            *json.Number `json:"sample_rate"`
			Bitrate               *string
		}
		Options *struct {
			Model, Speaker, Codec string
			Pace, Pitch, Loudness float64
			SampleRate            int `json:"sample_rate"`
			Bitrate               int
		}
		Error *string
	}
	TextLength []struct {
		Model string
		N     int
		Error *string
	} `json:"text_length"`
	Pause     map[string]int
	Languages []string
}

func loadCases(t *testing.T) legacyCases {
	t.Helper()
	raw, err := casefile.Read("testdata/cases.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var c legacyCases
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestVoicesAsLegacy(t *testing.T) {
	c := loadCases(t)
	n := 0
	for _, m := range Models {
		n += len(speakers[m])
	}
	if len(c.Voices) != n || n != 7+37+222 {
		t.Fatalf("%d voices in the cases, %d speakers here", len(c.Voices), n)
	}
	for _, v := range c.Voices {
		if got := VoiceOf(v.Speaker); got != (Voice{v.Pitch, v.Tempo}) {
			t.Errorf("%s: %+v, legacy %d %v", v.Speaker, got, v.Pitch, v.Tempo)
		}
	}
}

func TestEngineValuesAsLegacy(t *testing.T) {
	c := loadCases(t)
	for _, e := range c.Engine {
		req := Request{Text: "x", LanguageCode: e.Language, Pace: e.Pace, Pitch: e.Pitch, Speaker: e.Speaker}
		got := req.call("x")
		want := Call{Text: "x", Voice: e.Voice, RateWPM: e.RateWPM, Pitch: e.EnginePitch}
		if got != want {
			t.Errorf("%+v: %+v, legacy %+v", e, got, want)
		}
	}
	for _, lang := range c.Languages {
		if EngineVoice(lang) == "" {
			t.Errorf("no voice for %s", lang)
		}
	}
}

func TestResolveAsLegacy(t *testing.T) {
	c := loadCases(t)
	bitrates := map[string]int{"32k": 32000, "64k": 64000, "96k": 96000, "128k": 128000, "192k": 192000}
	for _, tc := range c.Options {
		f := Fields{Model: tc.Fields.Model, Speaker: tc.Fields.Speaker, Codec: tc.Fields.Codec,
			Pace: tc.Fields.Pace, Pitch: tc.Fields.Pitch, Loudness: tc.Fields.Loudness}
		if tc.Fields.SampleRate != nil {
			f.SampleRate, _ = new(big.Int).SetString(tc.Fields.SampleRate.String(), 10)
		}
		if tc.Fields.Bitrate != nil {
			b := bitrates[*tc.Fields.Bitrate]
			f.Bitrate = &b
		}
		got, err := Resolve(tc.Fields.Surface, f)
		name, _ := json.Marshal(tc.Fields)
		switch {
		case tc.Error != nil:
			if err == nil || err.Error() != *tc.Error {
				t.Errorf("%s: %v, legacy %q", name, err, *tc.Error)
			}
		case err != nil:
			t.Errorf("%s: %v, legacy %+v", name, err, *tc.Options)
		default:
			o := tc.Options
			want := Options{Model: o.Model, Speaker: o.Speaker, Pace: o.Pace, Pitch: o.Pitch,
				Loudness: o.Loudness, SampleRate: o.SampleRate, Codec: o.Codec, Bitrate: o.Bitrate}
			if got != want {
				t.Errorf("%s: %+v, legacy %+v", name, got, want)
			}
		}
	}
	if len(c.Options) < 1000 {
		t.Errorf("only %d option cases", len(c.Options))
	}
}

func TestTextLengthAsLegacy(t *testing.T) {
	for _, tc := range loadCases(t).TextLength {
		err := CheckTextLength(tc.Model, tc.N)
		if (err == nil) != (tc.Error == nil) || (err != nil && err.Error() != *tc.Error) {
			t.Errorf("%s %d: %v, legacy %v", tc.Model, tc.N, err, tc.Error)
		}
	}
}

func TestPauseAsLegacy(t *testing.T) {
	for rate, n := range loadCases(t).Pause {
		r, _ := strconv.Atoi(rate)
		if got := len(Pause(r)); got != n {
			t.Errorf("pause at %d Hz: %d bytes, legacy %d", r, got, n)
		}
	}
}

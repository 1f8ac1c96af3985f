// Command audioenc encodes signed 16-bit little-endian mono PCM from stdin to MP3 or FLAC
// on stdout with the candidate's pure-Go encoders. It exists for the encoder tests
// (tests/candidate/test_audio_encoders.py) and for debugging.
//
//	audioenc -codec mp3|flac -rate N [-bitrate B] [-pieces n]
//
// With -pieces n > 1 the input goes through the streaming API in n roughly equal pieces
// (split at odd byte offsets, to exercise that too) and the output is the concatenation
// of what each call returned, i.e. exactly what a streaming client receives. Without it
// the whole-file form is used (MP3 with its Info frame, FLAC with a complete STREAMINFO).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"

	"banyan/candidate/internal/flacenc"
	"banyan/candidate/internal/mp3enc"
)

func main() {
	codec := flag.String("codec", "mp3", "mp3 or flac")
	rate := flag.Int("rate", 22050, "sample rate in Hz")
	bitrate := flag.Int("bitrate", 0, "MP3 bitrate in b/s (0: the default, 128000)")
	pieces := flag.Int("pieces", 0, "feed the input in this many pieces through the streaming API")
	flag.Parse()
	if err := run(*codec, *rate, *bitrate, *pieces); err != nil {
		fmt.Fprintln(os.Stderr, "audioenc:", err)
		os.Exit(1)
	}
}

// streamer is the streaming shape both encoders share.
type streamer interface {
	WriteBytes(pcm []byte) []byte
	Flush() []byte
}

func run(codec string, rate, bitrate, pieces int) error {
	pcm, err := io.ReadAll(os.Stdin)
	if err != nil {
		return err
	}
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	if pieces <= 1 {
		samples := make([]int16, len(pcm)/2)
		for i := range samples {
			samples[i] = int16(uint16(pcm[2*i]) | uint16(pcm[2*i+1])<<8)
		}
		var data []byte
		switch codec {
		case "mp3":
			data, err = mp3enc.Encode(samples, rate, bitrate)
		case "flac":
			data, err = flacenc.Encode(samples, rate)
		default:
			err = fmt.Errorf("unknown codec %q", codec)
		}
		if err != nil {
			return err
		}
		_, err = out.Write(data)
		return err
	}
	var enc streamer
	switch codec {
	case "mp3":
		enc, err = mp3enc.NewEncoder(rate, bitrate)
	case "flac":
		enc, err = flacenc.NewEncoder(rate)
	default:
		err = fmt.Errorf("unknown codec %q", codec)
	}
	if err != nil {
		return err
	}
	step := len(pcm)/pieces | 1 // odd, so pieces split samples
	for len(pcm) > 0 {
		n := min(step, len(pcm))
		if _, err := out.Write(enc.WriteBytes(pcm[:n])); err != nil {
			return err
		}
		pcm = pcm[n:]
	}
	_, err = out.Write(enc.Flush())
	return err
}

// Package audioin turns an uploaded file into what recognition reads, 16 kHz mono signed
// 16-bit PCM, as legacy/speech/decode.py does with FFmpeg (PyAV): the container is detected
// from the bytes (never from the client's input_audio_codec, except for the headerless raw
// PCM codecs), WAV is parsed and decoded here (PCM u8/s16/s24/s32, float32/float64, A-law,
// mu-law, 1 to 8 channels), and the samples go through a port of libswresample's
// conversion, downmix and polyphase resampler with the options legacy's AudioResampler gets
// (swr's defaults: Kaiser-windowed sinc, beta 9, 32 taps at 1x, cutoff 0.97, exact rational
// phases, linear interpolation, clev = slev = -3 dB, no LFE).
//
// What the standard library cannot decode (MP3, AAC, FLAC, Ogg, WebM, MP4, AIFF, AMR, WMA, …)
// is detected and refused with *NotPorted naming the container, so the route answers 501
// before billing and the proxy keeps those uploads on legacy.
//
// Provenance: swr.go and resample.go follow FFmpeg's libswresample (resample.c,
// resample_template.c, rematrix.c, audioconvert.c, x86/resample.asm; Copyright (c) 2004-2012
// Michael Niedermayer and others, LGPL-2.1-or-later) and av_bessel_i0 (after Boost, Blair and
// Edwards' approximation), written in Go from reading them; wav.go follows libavformat's
// wavdec.c and the G.711 tables of libavcodec's pcm_tablegen.h.
package audioin

import (
	"bytes"
	"encoding/binary"
)

// Container names a detected format, as the candidate's 501 message spells it.
type Container string

// The containers detected. Only WAV is decoded.
const (
	WAV     Container = "WAV"
	MP3     Container = "MP3"
	AAC     Container = "AAC"
	FLAC    Container = "FLAC"
	Ogg     Container = "Ogg"
	WebM    Container = "WebM/Matroska"
	MP4     Container = "MP4/M4A"
	AIFF    Container = "AIFF"
	AMR     Container = "AMR"
	ASF     Container = "WMA/ASF"
	CAF     Container = "CAF"
	AU      Container = "AU"
	W64     Container = "Wave64"
	RF64    Container = "RF64"
	RIFX    Container = "WAV (big-endian RIFX)"
	WavPack Container = "WavPack"
	APE     Container = "Monkey's Audio"
	TTA     Container = "TTA"
	MPC     Container = "Musepack"
	AC3     Container = "AC-3"
	DTS     Container = "DTS"
	VOC     Container = "Creative VOC"
	DSD     Container = "DSD"
	Real    Container = "RealMedia"
	SILK    Container = "SILK"
	Unknown Container = ""
)

// Detect names the container of data from its first bytes, the signatures FFmpeg's probes
// key off; Unknown when none matches (legacy's FFmpeg then refuses it too, with a 400).
func Detect(data []byte) Container {
	has := func(off int, sig string) bool {
		return len(data) >= off+len(sig) && string(data[off:off+len(sig)]) == sig
	}
	switch {
	case has(0, "RIFF") && has(8, "WAVE"):
		return WAV
	case has(0, "RF64") && has(8, "WAVE"), has(0, "BW64") && has(8, "WAVE"):
		return RF64
	case has(0, "riff") && len(data) >= 24 && data[4] == 0x2e && data[5] == 0x91:
		return W64
	case has(0, "fLaC"):
		return FLAC
	case has(0, "OggS"):
		return Ogg
	case has(0, "\x1a\x45\xdf\xa3"):
		return WebM
	case has(4, "ftyp"), has(4, "moov"), has(4, "mdat"), has(4, "free"), has(4, "wide"):
		return MP4
	case has(0, "FORM") && (has(8, "AIFF") || has(8, "AIFC")):
		return AIFF
	case has(0, "#!AMR"):
		return AMR
	case has(0, "\x30\x26\xb2\x75\x8e\x66\xcf\x11"):
		return ASF
	case has(0, "caff"):
		return CAF
	case has(0, ".snd"):
		return AU
	case has(0, "RIFX") && has(8, "WAVE"):
		return RIFX
	case has(0, "wvpk"):
		return WavPack
	case has(0, "MAC "):
		return APE
	case has(0, "TTA1"):
		return TTA
	case has(0, "MPCK"), has(0, "MP+"):
		return MPC
	case has(0, "\x0b\x77"):
		return AC3
	case has(0, "\x7f\xfe\x80\x01"):
		return DTS
	case has(0, "Creative Voice File\x1a"):
		return VOC
	case has(0, "DSD "), has(0, "FRM8"):
		return DSD
	case has(0, ".RMF"), has(0, ".ra\xfd"):
		return Real
	case has(0, "#!SILK"), has(1, "#!SILK"):
		return SILK
	case has(0, "ID3"):
		return id3Payload(data)
	}
	if isADTS(data) {
		return AAC
	}
	if isMPEGAudio(data) {
		return MP3
	}
	return Unknown
}

// id3Payload looks past an ID3v2 tag (MP3 files, and some AAC/FLAC ones, start with one).
func id3Payload(data []byte) Container {
	if len(data) < 10 {
		return MP3
	}
	size := int(data[6]&0x7f)<<21 | int(data[7]&0x7f)<<14 | int(data[8]&0x7f)<<7 | int(data[9]&0x7f)
	rest := data[min(len(data), 10+size):]
	switch {
	case bytes.HasPrefix(rest, []byte("fLaC")):
		return FLAC
	case isADTS(rest):
		return AAC
	}
	return MP3
}

func isADTS(data []byte) bool {
	return len(data) >= 7 && data[0] == 0xff && data[1]&0xf6 == 0xf0 && (data[2]>>2)&0x0f < 13
}

// isMPEGAudio is two consecutive MPEG audio frame headers at the start (one could be chance).
func isMPEGAudio(data []byte) bool {
	n, ok := mpegFrameLength(data)
	if !ok {
		return false
	}
	if len(data) < n+4 {
		return len(data) == n
	}
	_, ok = mpegFrameLength(data[n:])
	return ok
}

func mpegFrameLength(h []byte) (int, bool) {
	if len(h) < 4 {
		return 0, false
	}
	v := binary.BigEndian.Uint32(h)
	if v&0xffe00000 != 0xffe00000 {
		return 0, false
	}
	version := (v >> 19) & 3 // 0: 2.5, 2: 2, 3: 1
	layer := (v >> 17) & 3   // 1: III, 2: II, 3: I
	bitrate := (v >> 12) & 15
	rate := (v >> 10) & 3
	padding := int((v >> 9) & 1)
	if version == 1 || layer == 0 || bitrate == 0 || bitrate == 15 || rate == 3 {
		return 0, false
	}
	rates := [3]int{44100, 48000, 32000}
	sampleRate := rates[rate]
	if version == 2 {
		sampleRate /= 2
	} else if version == 0 {
		sampleRate /= 4
	}
	kbps := mpegBitrate(version, layer, bitrate)
	switch layer {
	case 3: // I
		return (12*kbps*1000/sampleRate + padding) * 4, true
	case 1: // III
		if version != 3 {
			return 72*kbps*1000/sampleRate + padding, true
		}
	}
	return 144*kbps*1000/sampleRate + padding, true
}

func mpegBitrate(version, layer, index uint32) int {
	v1 := [3][15]int{
		{0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448}, // I
		{0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384},    // II
		{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320},     // III
	}
	v2 := [2][15]int{
		{0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256}, // I
		{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},      // II, III
	}
	row := 3 - int(layer) // I → 0, II → 1, III → 2
	if version == 3 {
		return v1[row][index]
	}
	if row == 0 {
		return v2[0][index]
	}
	return v2[1][index]
}

// Package audio prepares synthesized speech for the client: loudness (Scale), a change of
// sample rate (Resample) and the containers of the API's codecs (Encode). It is a port of
// legacy/speech/audio.py and legacy/speech/codecs.py: wav, linear16, mulaw and alaw byte for
// byte as legacy's PyAV/FFmpeg writes them; flac lossless (the same samples, other bytes:
// internal/flacenc); mp3 from the candidate's own Layer III encoder (internal/mp3enc), at
// LAME's bitrate in FFmpeg's framing. aac and opus need encoders the candidate does not
// have; Encode answers them with a *NotPortedError, which the routes turn into a 501 so the
// proxy keeps those requests on legacy.
//
// PCM everywhere here is signed 16-bit little-endian mono, as the inference server's TTS
// model produces it. The package does no I/O and keeps no state but its filter cache.
package audio

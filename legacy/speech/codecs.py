"""Speech output codecs: PCM (16-bit mono) to the containers the API promises, whole or streamed.

One table (:data:`CODECS`) says, per API codec name, which FFmpeg muxer and encoder (through
PyAV) produce it, its media type, the sample rates it can carry and whether it takes a bitrate.
Decisions, each checked by decoding the output with FFmpeg in the tests:

* ``mp3`` is MPEG audio from LAME (``libmp3lame``); ``aac`` is AAC-LC in ADTS frames (no MP4
  box, so it can be streamed and concatenated); ``flac`` is native FLAC; ``opus`` is Opus in an
  Ogg container (RFC 7845).
* ``mulaw`` and ``alaw`` are G.711 in a **WAV** container (format tags 7 and 6), not headerless
  bytes: a WAV names its codec and rate, so any decoder plays it as declared, while raw G.711
  would need the caller to know both out of band. ``linear16`` stays the raw samples (signed
  16-bit little-endian), the one headerless codec, as the contract names it.
* Opus runs at 8, 12, 16, 24 or 48 kHz only. Rather than resample behind the caller's back
  (the OpusHead would then declare a rate the caller did not ask for), a route refuses other
  rates with a 400 naming the ones that work (:func:`check_sample_rate`). An Opus decoder
  always plays at 48 kHz (RFC 7845 §5.1); the rate we encode at is declared in the OpusHead's
  input-sample-rate field.
* A bitrate (``output_audio_bitrate``) applies to the lossy codecs (mp3, aac, opus) and is
  capped by what the encoder allows at the rate: LAME takes at most 160 kb/s at 16-24 kHz and
  64 kb/s at 8 kHz, FFmpeg's AAC about 6 kb/s per kHz. Lossless and PCM codecs ignore it.
* Every container is written with FFmpeg's ``bitexact`` flag: no encoder version string, and a
  fixed Ogg serial number, so identical input gives identical bytes.

:class:`AudioEncoder` encodes incrementally (``feed`` returns the bytes ready so far) for the
streaming routes; its headers are those of a stream of unknown length (WAV sizes 0xFFFFFFFF,
FLAC total samples 0, no MP3 Xing frame), which decoders read to the end of the data.
:func:`encode` writes a whole file, seeking back to complete those headers (an MP3 then carries
the encoder delay, so it decodes to the exact PCM length). Not here: resampling and loudness
(``audio.py``), choosing a codec for a request (the routes).

Errors: ``ValueError`` for an unknown codec or a rate the codec cannot carry.
"""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass
from typing import Final, Literal

import av
import numpy as np
from av.audio.resampler import AudioResampler
from av.audio.stream import AudioStream
from av.container import OutputContainer

__all__ = [
    "BITRATES",
    "CODECS",
    "OPUS_SAMPLE_RATES",
    "AudioEncoder",
    "Bitrate",
    "Codec",
    "CodecName",
    "check_sample_rate",
    "encode",
]

CodecName = Literal["mp3", "linear16", "mulaw", "alaw", "opus", "flac", "aac", "wav"]
Bitrate = Literal["32k", "64k", "96k", "128k", "192k"]
OPUS_SAMPLE_RATES: Final = (8000, 12000, 16000, 24000, 48000)
# output_audio_bitrate values (sdk-contract §1.6) in bits per second.
BITRATES: Final[dict[Bitrate, int]] = {
    "32k": 32_000, "64k": 64_000, "96k": 96_000, "128k": 128_000, "192k": 192_000,
}  # fmt: skip
DEFAULT_BITRATE: Final = 128_000
# No encoder version strings, a fixed Ogg serial number: identical input, identical bytes.
_BITEXACT: Final = {"fflags": "+bitexact"}


@dataclass(frozen=True, slots=True)
class Codec:
    name: CodecName
    media_type: str
    muxer: str | None  # FFmpeg format; None: raw samples, no container
    encoder: str | None  # FFmpeg encoder; None: the samples as they are
    lossy: bool  # takes a bitrate
    sample_rates: tuple[int, ...] | None = None  # None: any rate


CODECS: Final[dict[str, Codec]] = {
    codec.name: codec
    for codec in (
        Codec("mp3", "audio/mpeg", "mp3", "libmp3lame", lossy=True),
        Codec("wav", "audio/wav", "wav", "pcm_s16le", lossy=False),
        Codec("linear16", "audio/pcm", None, None, lossy=False),
        Codec("mulaw", "audio/wav", "wav", "pcm_mulaw", lossy=False),
        Codec("alaw", "audio/wav", "wav", "pcm_alaw", lossy=False),
        Codec("opus", "audio/ogg", "ogg", "libopus", lossy=True, sample_rates=OPUS_SAMPLE_RATES),
        Codec("flac", "audio/flac", "flac", "flac", lossy=False),
        Codec("aac", "audio/aac", "adts", "aac", lossy=True),
    )
}


def check_sample_rate(codec: str, sample_rate: int) -> None:
    """Raise ``ValueError`` (a message for the caller) when the codec cannot carry the rate."""
    spec = _codec(codec)
    if spec.sample_rates is not None and sample_rate not in spec.sample_rates:
        rates = ", ".join(map(str, spec.sample_rates))
        raise ValueError(
            f"{codec} carries only {rates} Hz; set speech_sample_rate to one of them "
            f"(got {sample_rate})"
        )


def _codec(name: str) -> Codec:
    if name not in CODECS:
        raise ValueError(f"unknown codec {name!r}; use one of {', '.join(CODECS)}")
    return CODECS[name]


class _Sink:
    """A write-only file for FFmpeg: no ``seek``, so muxers write stream headers and every
    packet goes out as soon as it is muxed (FFmpeg flushes per packet when it cannot seek)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


class AudioEncoder:
    """Encodes PCM fed in pieces into one continuous stream of ``codec`` at ``sample_rate``.

    ``feed`` returns the encoded bytes ready so far (possibly none: encoders hold back a frame
    or two), ``finish`` flushes the rest; concatenated, they are one decodable file. With
    ``whole_file`` the output is seekable instead, so muxers complete their headers on close,
    and every byte comes from ``finish``. Not thread safe: one owner feeds it in order, and
    calls ``finish`` or ``close`` so FFmpeg's buffers are freed. Encoding blocks the caller;
    async code runs it in a thread.
    """

    def __init__(
        self, codec: str, sample_rate: int, *, bitrate: int | None = None, whole_file: bool = False
    ) -> None:
        self._spec = _codec(codec)
        check_sample_rate(codec, sample_rate)
        self._rate = sample_rate
        self._samples = 0
        self._out: _Sink | io.BytesIO = io.BytesIO() if whole_file else _Sink()
        self._container: OutputContainer | None = None
        if self._spec.muxer is None or self._spec.encoder is None:
            return
        container = av.open(self._out, "w", format=self._spec.muxer, options=_BITEXACT)
        try:
            stream = container.add_stream(self._spec.encoder, rate=sample_rate, layout="mono")
            assert isinstance(stream, AudioStream)
            if self._spec.lossy:
                stream.bit_rate = bitrate or DEFAULT_BITRATE
            stream.codec_context.flags |= av.codec.context.Flags.bitexact
            stream.codec_context.open()
            self._resampler = AudioResampler(
                format=stream.codec_context.format.name,
                layout="mono",
                rate=sample_rate,
                # Encoders with a fixed frame (mp3, aac, opus) need exactly that many samples.
                frame_size=stream.codec_context.frame_size or None,
            )
        except BaseException:
            container.close()
            raise
        self._container, self._stream = container, stream

    @property
    def media_type(self) -> str:
        return self._spec.media_type

    def feed(self, pcm: bytes) -> bytes:
        if self._container is None:  # linear16: the samples are the stream
            if isinstance(self._out, io.BytesIO):
                self._out.write(pcm)
                return b""
            return pcm
        if pcm:
            samples = np.frombuffer(pcm, dtype="<i2").reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
            frame.sample_rate = self._rate
            frame.pts = self._samples
            self._samples += frame.samples
            for piece in self._resampler.resample(frame):
                self._container.mux(self._stream.encode(piece))
        return self._take()

    def finish(self) -> bytes:
        """The stream's last bytes (the whole file with ``whole_file``); closes the encoder."""
        if self._container is not None:
            try:
                for piece in [*self._resampler.resample(None), None]:
                    self._container.mux(self._stream.encode(piece))
            finally:
                self.close()
        return self._out.getvalue() if isinstance(self._out, io.BytesIO) else self._out.drain()

    def close(self) -> None:
        """Free the encoder without flushing it; idempotent."""
        if self._container is not None:
            container, self._container = self._container, None
            container.close()

    def _take(self) -> bytes:
        return self._out.drain() if isinstance(self._out, _Sink) else b""


def encode(pcm: bytes, sample_rate: int, codec: str, *, bitrate: int | None = None) -> bytes:
    """One whole file of ``codec``: headers complete (sizes, sample counts, MP3 encoder delay)."""
    if codec == "wav":
        check_sample_rate(codec, sample_rate)
        return _wav(pcm, sample_rate)  # the stdlib's plain 44-byte header, no LIST chunk
    encoder = AudioEncoder(codec, sample_rate, bitrate=bitrate, whole_file=True)
    try:
        encoder.feed(pcm)
    except BaseException:
        encoder.close()
        raise
    return encoder.finish()


def _wav(pcm: bytes, sample_rate: int) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm)
    return out.getvalue()

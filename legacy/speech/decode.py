"""Uploaded audio to what recognition reads: 16 kHz mono signed 16-bit PCM.

Containers and codecs (WAV, MP3, AAC, FLAC, Ogg/Opus, WebM, MP4/M4A, AIFF, AMR, WMA, …) are
decoded by FFmpeg through PyAV and resampled by PyAV's own resampler (one resampler for every
input, so the same file always gives the same samples). The container is detected from the
bytes, as FFmpeg does, so a mislabelled ``input_audio_codec`` ("mp3" on a WAV) still decodes;
the codec only matters for the headerless ``pcm_s16le`` / ``pcm_l16`` / ``pcm_raw``, which are
taken as 16 kHz mono samples (sdk-contract §1.6: "PCM must be 16 kHz").

Bounded: the caller refuses uploads over a byte limit before this runs, and decoding stops as
soon as the output passes ``max_seconds`` (a long file is refused without decoding all of it).

Errors: ``AudioRejected`` with a message for the client (undecodable, no audio stream, empty,
too long); the route answers it with 400. Deliberately not here: silence detection
(``vad.py``) and anything about the model.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Final

import av
import av.error

__all__ = [
    "INPUT_AUDIO_CODECS",
    "RAW_PCM_CODECS",
    "SAMPLE_RATE",
    "AudioRejected",
    "DecodedAudio",
    "decode_audio",
    "probe_seconds",
]

SAMPLE_RATE: Final = 16_000
RAW_PCM_CODECS: Final = frozenset({"pcm_s16le", "pcm_l16", "pcm_raw"})
# sdk-contract §1.6, in the SDK's order.
INPUT_AUDIO_CODECS: Final[tuple[str, ...]] = (
    "wav", "x-wav", "wave", "mp3", "mpeg", "mpeg3", "x-mp3", "x-mpeg-3", "aac", "x-aac",
    "aiff", "x-aiff", "ogg", "opus", "flac", "x-flac", "mp4", "x-m4a", "amr", "x-ms-wma",
    "webm", "pcm_s16le", "pcm_l16", "pcm_raw",
)  # fmt: skip


class AudioRejected(ValueError):
    """The upload is not audio this platform can use; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class DecodedAudio:
    pcm: bytes  # signed 16-bit little-endian mono at SAMPLE_RATE
    source_format: str  # the container FFmpeg found ("wav", "mp3", …) or "pcm_s16le"

    @property
    def samples(self) -> int:
        return len(self.pcm) // 2

    @property
    def duration_s(self) -> float:
        return self.samples / SAMPLE_RATE


def decode_audio(data: bytes, *, codec: str | None, max_seconds: float) -> DecodedAudio:
    """Decode ``data`` to 16 kHz mono PCM; raises AudioRejected. ``codec`` is the client's
    ``input_audio_codec`` (None = detect)."""
    if not data:
        raise AudioRejected("the uploaded file is empty")
    max_bytes = int(max_seconds * SAMPLE_RATE) * 2
    if codec in RAW_PCM_CODECS:
        pcm = data[: len(data) - len(data) % 2]
        if len(pcm) > max_bytes:
            raise _too_long(len(pcm) / 2 / SAMPLE_RATE, max_seconds, exact=True)
        decoded = DecodedAudio(pcm, "pcm_s16le")
    else:
        decoded = _decode_container(data, max_bytes, max_seconds)
    if decoded.samples == 0:
        raise AudioRejected("the file holds no audio samples")
    return decoded


def _decode_container(data: bytes, max_bytes: int, max_seconds: float) -> DecodedAudio:
    try:
        container = av.open(io.BytesIO(data), mode="r")
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise AudioRejected(
            "could not read the file as audio (not a format FFmpeg recognises, or damaged);"
            " for headerless 16 kHz PCM set input_audio_codec=pcm_s16le"
        ) from exc
    with container:
        if not container.streams.audio:
            raise AudioRejected(f"the {container.format.name} file has no audio stream")
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        out = bytearray()
        try:
            for frame in container.decode(stream):
                for converted in resampler.resample(frame):
                    out += bytes(converted.planes[0])[: converted.samples * 2]
                if len(out) > max_bytes:
                    raise _too_long(len(out) / 2 / SAMPLE_RATE, max_seconds, exact=False)
            for converted in resampler.resample(None):
                out += bytes(converted.planes[0])[: converted.samples * 2]
        except av.error.FFmpegError as exc:
            raise AudioRejected(f"the {container.format.name} audio is damaged: {exc}") from exc
        if len(out) > max_bytes:
            raise _too_long(len(out) / 2 / SAMPLE_RATE, max_seconds, exact=True)
        return DecodedAudio(bytes(out), container.format.name.split(",")[0])


def _too_long(seconds: float, max_seconds: float, *, exact: bool) -> AudioRejected:
    length = f"{seconds:.1f} s" if exact else f"more than {max_seconds:g} s"
    return AudioRejected(
        f"the audio is {length}; this endpoint takes at most {max_seconds:g} s per request"
        " (split it, or use the batch API)"
    )


def probe_seconds(data: bytes, *, codec: str | None) -> float | None:
    """The duration a file's header declares, without decoding it (what a batch job holds
    credits for before its worker decodes the file); None when the header does not say or
    the file is not audio (the worker then rejects it, and its hold of 0 costs nothing)."""
    if codec in RAW_PCM_CODECS:
        return len(data) // 2 / SAMPLE_RATE
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.audio:
                return None
            stream = container.streams.audio[0]
            if stream.duration is not None and stream.time_base is not None:
                return float(stream.duration * stream.time_base)
            if container.duration is not None:
                return container.duration / 1_000_000
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError):
        return None
    return None

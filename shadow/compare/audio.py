"""Two audio answers compared as sound: what they are (container, codec, rate, channels, length)
and whether they say the same thing (signal similarity), rfcs/0005 §4.

Both bodies are decoded by FFmpeg through PyAV, whatever the container (the bytes decide, as
FFmpeg probes them), downmixed to mono float32, capped at :data:`MAX_SECONDS`, and resampled
by soxr to 16 kHz, so a 22050 Hz answer and a 16 kHz one of the same speech compare equal but
for their ``sample_rate``. The one headerless format TTS emits (``linear16``: signed 16-bit
little-endian samples) cannot be probed: an :class:`AudioHint` from the request says so and
gives its rate. Similarity is the normalized cross-correlation at the best lag (FFT), each lag
normalized by the energy of the two overlapping stretches, so a cut-short answer shows as a
``duration`` diff, not also a ``signal`` one; polarity is ignored (an inverted wave sounds the
same).

Diffs, in this order, at ``{prefix}$audio.<property>``: ``container``, ``codec``,
``sample_rate``, ``channels``, ``duration`` (only past the route's tolerance; seconds rounded
to the millisecond), ``signal`` (below ``min_similarity``; control 1.0, candidate the score).
A candidate that does not decode while the control does raises
:class:`shadow.model.CandidateGarbage`; when the control does not decode either (or only the
candidate does) the bodies are compared as bytes at ``{prefix}$body``.

Deliberately not here: choosing this comparator for a response (the dispatcher does, with
:func:`looks_like_audio` and :func:`decode_base64_audio` for base64 inside JSON), and any
notion of noise. Decoding is CPU work on untrusted bytes: the engine runs it off its event
loop (rfcs/0005 §2, the comparator pool).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
from dataclasses import dataclass
from typing import Final

import av
import av.error
import numpy as np
import numpy.typing as npt
import orjson
import soxr
from av.audio.resampler import AudioResampler

from shadow.compare.config import AudioOptions
from shadow.model import CandidateGarbage, Diff

__all__ = [
    "MAX_SECONDS",
    "RAW_PCM_CODECS",
    "AudioHint",
    "DecodedAudio",
    "compare_audio",
    "decode_audio",
    "decode_base64_audio",
    "decode_base64_pcm",
    "looks_like_audio",
    "similarity",
]

Signal = npt.NDArray[np.float32]

MAX_SECONDS: Final = 120.0  # decoding stops past this: a comparison's work is bounded
ANALYSIS_RATE: Final = 16_000
# API codec names (and media types) of headerless 16-bit little-endian PCM.
RAW_PCM_CODECS: Final = frozenset({"linear16", "pcm", "pcm_s16le", "pcm_l16", "pcm_raw"})
_RAW_MEDIA_TYPES: Final = frozenset({"audio/pcm", "audio/l16", "audio/x-pcm"})
DEFAULT_RAW_RATE: Final = 22_050  # TTS's default speech_sample_rate
# Below this RMS (full scale 1.0) a signal is silence: it only resembles silence.
_SILENCE_RMS: Final = 1e-4
# Lags where the two signals overlap by less than this share of the shorter one are not
# considered: a few overlapping samples would correlate perfectly by chance.
_MIN_OVERLAP: Final = 0.5
_BASE64_MIN_CHARS: Final = 64
# No stream analysis past the headers: every format TTS emits declares its rate and channels
# up front, and FFmpeg's default analysis (decoding ahead) costs more than the whole
# comparison of a short WAV (6 ms of 8, measured).
_PROBE: Final = {"probesize": "65536", "analyzeduration": "0"}


@dataclass(frozen=True, slots=True)
class AudioHint:
    """What the bytes cannot say: a body of raw PCM (TTS ``linear16``) and its rate.

    Built by the engine from the request (``output_audio_codec``, ``speech_sample_rate``) or
    the response's media type. A hint never overrides a recognisable container: a WAV is read
    as a WAV even when raw PCM was expected (the container diff then says what happened)."""

    raw_pcm: bool = False
    sample_rate: int = DEFAULT_RAW_RATE
    channels: int = 1

    @classmethod
    def for_tts(
        cls,
        *,
        codec: str | None = None,
        sample_rate: int | None = None,
        media_type: str | None = None,
    ) -> AudioHint:
        """The hint for a TTS answer: raw when the codec or media type names headerless PCM."""
        media = (media_type or "").split(";")[0].strip().lower()
        raw = (codec or "").lower() in RAW_PCM_CODECS or media in _RAW_MEDIA_TYPES
        return cls(raw_pcm=raw, sample_rate=sample_rate or DEFAULT_RAW_RATE)

    @classmethod
    def for_request(cls, body: bytes) -> AudioHint | None:
        """The hint a TTS request's JSON body gives (``output_audio_codec``,
        ``speech_sample_rate``), or None when the body names neither (or is not a JSON
        object): the answer's own bytes must then say what they are."""
        if b"output_audio_codec" not in body and b"speech_sample_rate" not in body:
            return None  # the common case, decided without parsing
        try:
            request = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(request, dict):
            return None
        codec, rate = request.get("output_audio_codec"), request.get("speech_sample_rate")
        return cls.for_tts(
            codec=codec if isinstance(codec, str) else None,
            sample_rate=rate if isinstance(rate, int) and 0 < rate <= 384_000 else None,
        )


def decode_base64_pcm(value: str) -> bytes | None:
    """The bytes of a base64 JSON string that may carry raw PCM (no header to recognise it
    by), or None when it is not base64 of whole 16-bit samples."""
    if len(value) < _BASE64_MIN_CHARS:
        return None
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return data if len(data) % 2 == 0 else None


@dataclass(frozen=True, slots=True)
class DecodedAudio:
    """One body as heard: its properties and its mono signal at :data:`ANALYSIS_RATE`."""

    container: str  # FFmpeg's demuxer name ("wav", "mp3", "ogg", …) or "raw"
    codec: str  # canonical codec name ("pcm_s16le", "mp3", "opus", …)
    sample_rate: int  # as declared (Opus: the OpusHead's input rate, not the 48 kHz it plays at)
    channels: int
    duration_s: float  # of the decoded samples, at most MAX_SECONDS
    signal: Signal  # float32 mono at ANALYSIS_RATE


class _Undecodable(Exception):
    pass


def looks_like_audio(data: bytes) -> bool:
    """True when the bytes start like a format TTS emits: WAV, MP3 (ID3 or a frame sync),
    Ogg, FLAC, or AAC in ADTS. Cheap (a few bytes read); raw PCM cannot be recognised."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return True
    if data[:3] == b"ID3" or data[:4] in (b"OggS", b"fLaC"):
        return True
    if len(data) < 4 or data[0] != 0xFF:
        return False
    if data[1] & 0xF6 == 0xF0:  # ADTS: 12-bit sync, layer 00
        return True
    # MPEG audio frame: 11-bit sync, a version and layer that exist, a valid bitrate and rate.
    return (
        data[1] & 0xE0 == 0xE0
        and (data[1] >> 3) & 3 != 1
        and (data[1] >> 1) & 3 != 0
        and data[2] >> 4 not in (0, 0xF)
        and (data[2] >> 2) & 3 != 3
    )


def decode_base64_audio(value: str) -> bytes | None:
    """The audio a base64 JSON string carries (TTS ``audios[0]``), or None when it is not
    base64 of a recognisable audio format. Only the first characters are decoded before the
    format check, so ordinary strings cost next to nothing."""
    if len(value) < _BASE64_MIN_CHARS:
        return None
    try:
        head = base64.b64decode(value[:16], validate=True)
        if not looks_like_audio(head):
            return None
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return data if looks_like_audio(data) else None


def decode_audio(data: bytes, hint: AudioHint | None = None) -> DecodedAudio | None:
    """The body decoded for comparison, or None when it is not audio (or holds no samples)."""
    hint = hint or AudioHint()
    try:
        if hint.raw_pcm and not looks_like_audio(data):
            return _decode_raw(data, hint)
        return _decode_container(data)
    except _Undecodable:
        return None


def compare_audio(
    control: bytes,
    candidate: bytes,
    options: AudioOptions,
    *,
    prefix: str = "",
    hint: AudioHint | None = None,
) -> list[Diff]:
    """The diffs between two audio bodies (module docstring); ``hint`` applies to both."""
    if control == candidate:
        return []
    heard_control = decode_audio(control, hint)
    heard_candidate = decode_audio(candidate, hint)
    if heard_control is None or heard_candidate is None:
        if heard_control is not None:
            raise CandidateGarbage(f"the candidate's {len(candidate)} bytes are not audio")
        return [Diff(f"{prefix}$body", "changed", _describe(control), _describe(candidate))]
    diffs = [
        Diff(f"{prefix}$audio.{name}", "changed", ours, theirs)
        for name, ours, theirs in (
            ("container", heard_control.container, heard_candidate.container),
            ("codec", heard_control.codec, heard_candidate.codec),
            ("sample_rate", heard_control.sample_rate, heard_candidate.sample_rate),
            ("channels", heard_control.channels, heard_candidate.channels),
        )
        if ours != theirs
    ]
    if abs(heard_control.duration_s - heard_candidate.duration_s) > options.duration_tolerance_s:
        diffs.append(
            Diff(
                f"{prefix}$audio.duration",
                "changed",
                round(heard_control.duration_s, 3),
                round(heard_candidate.duration_s, 3),
            )
        )
    score = similarity(heard_control.signal, heard_candidate.signal)
    if score < options.min_similarity:
        diffs.append(Diff(f"{prefix}$audio.signal", "changed", 1.0, round(score, 3)))
    return diffs


def similarity(a: Signal, b: Signal) -> float:
    """Normalized cross-correlation of two signals at their best lag, in 0..1.

    Each lag's correlation is divided by the energies of the two stretches that overlap at
    that lag (lags overlapping less than half the shorter signal are skipped), so an answer
    cut short still scores 1.0 on what it has. Silence resembles only silence."""
    silent_a, silent_b = _is_silent(a), _is_silent(b)
    if silent_a or silent_b:
        return 1.0 if silent_a and silent_b else 0.0
    nx, ny = len(a), len(b)
    size = 1 << (nx + ny - 1).bit_length()
    # float32 transforms (numpy >= 2 keeps the precision): half the time of float64.
    spectrum = np.fft.rfft(a, size) * np.conj(np.fft.rfft(b, size))
    circular = np.fft.irfft(spectrum, size)
    # Lag k compares a[i + k] with b[i]; only lags overlapping at least `shortest` samples.
    shortest = max(1, int(np.ceil(_MIN_OVERLAP * min(nx, ny))))
    lags = np.arange(shortest - ny, nx - shortest + 1)
    correlation = circular[lags % size]
    a_start, b_start = np.maximum(lags, 0), np.maximum(-lags, 0)
    length = np.minimum(nx - a_start, ny - b_start)
    ca = np.concatenate(([0.0], np.cumsum(np.square(a, dtype=np.float64))))
    cb = np.concatenate(([0.0], np.cumsum(np.square(b, dtype=np.float64))))
    energy = (ca[a_start + length] - ca[a_start]) * (cb[b_start + length] - cb[b_start])
    usable = energy > 0
    if not usable.any():
        return 0.0
    scores = np.abs(correlation[usable]) / np.sqrt(energy[usable])
    return float(min(1.0, scores.max()))


def _is_silent(signal: Signal) -> bool:
    return len(signal) == 0 or float(np.sqrt(np.mean(signal.astype(np.float64) ** 2))) < (
        _SILENCE_RMS
    )


def _describe(data: bytes) -> str:
    return f"{len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()[:16]}"


def _decode_raw(data: bytes, hint: AudioHint) -> DecodedAudio:
    frame = 2 * hint.channels
    limit = int(MAX_SECONDS * hint.sample_rate) * frame
    usable = data[: min(len(data) - len(data) % frame, limit)]
    if not usable:
        raise _Undecodable
    samples = np.frombuffer(usable, dtype="<i2").astype(np.float32) / 32768.0
    mono = samples.reshape(-1, hint.channels).mean(axis=1, dtype=np.float32)
    return DecodedAudio(
        container="raw",
        codec="pcm_s16le",
        sample_rate=hint.sample_rate,
        channels=hint.channels,
        duration_s=len(mono) / hint.sample_rate,
        signal=_to_analysis_rate(mono, hint.sample_rate),
    )


def _decode_container(data: bytes) -> DecodedAudio:
    try:
        container = av.open(io.BytesIO(data), mode="r", options=_PROBE)
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise _Undecodable from exc
    with container:
        if not container.streams.audio:
            raise _Undecodable
        stream = container.streams.audio[0]
        context = stream.codec_context
        rate = context.sample_rate
        if not rate:
            raise _Undecodable
        # Downmix at the stream's own rate; soxr does the one resampling (to ANALYSIS_RATE).
        resampler = AudioResampler(format="flt", layout="mono", rate=rate)
        limit = int(MAX_SECONDS * rate)
        pieces: list[Signal] = []
        decoded = 0
        try:
            for frame in container.decode(stream):
                for converted in resampler.resample(frame):
                    pieces.append(_samples(converted))
                    decoded += converted.samples
                if decoded >= limit:
                    break
            else:
                for converted in resampler.resample(None):
                    pieces.append(_samples(converted))
                    decoded += converted.samples
        except (av.error.FFmpegError, ValueError) as exc:
            raise _Undecodable from exc
        if decoded == 0:
            raise _Undecodable
        mono = np.concatenate(pieces)[:limit]
        return DecodedAudio(
            container=container.format.name.split(",")[0],
            codec=context.codec.canonical_name,
            sample_rate=_declared_rate(context.codec.canonical_name, context.extradata, rate),
            channels=context.channels,
            duration_s=len(mono) / rate,
            signal=_to_analysis_rate(mono, rate),
        )


def _samples(frame: av.AudioFrame) -> Signal:
    return np.frombuffer(bytes(frame.planes[0]), dtype=np.float32, count=frame.samples).copy()


def _declared_rate(codec: str, extradata: bytes | None, decoded_rate: int) -> int:
    """Opus always decodes at 48 kHz (RFC 7845 §5.1); the rate it was made from is the
    OpusHead's input-sample-rate field, which is what the API's speech_sample_rate sets."""
    if codec == "opus" and extradata and extradata[:8] == b"OpusHead" and len(extradata) >= 16:
        declared = int.from_bytes(extradata[12:16], "little")
        if declared:
            return declared
    return decoded_rate


def _to_analysis_rate(mono: Signal, rate: int) -> Signal:
    if rate == ANALYSIS_RATE or len(mono) == 0:
        return mono.astype(np.float32, copy=False)
    resampled = soxr.resample(mono, rate, ANALYSIS_RATE)
    return np.asarray(resampled, dtype=np.float32)

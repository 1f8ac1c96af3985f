"""PCM handling for speech output: resampling (soxr) and container encoding.

PCM here is signed 16-bit little-endian mono. Encodings offered: ``wav`` (RIFF/WAVE, stdlib
``wave``) and ``linear16`` (the raw samples). Others the contract names (mp3, mulaw, alaw, opus,
flac, aac) are refused by the route until an encoder is added here.
"""

from __future__ import annotations

import io
import wave

import numpy as np
import soxr

__all__ = ["SUPPORTED_CODECS", "encode", "resample", "scale"]

SUPPORTED_CODECS = ("wav", "linear16")


def resample(pcm: bytes, from_rate: int, to_rate: int) -> bytes:
    if from_rate == to_rate or not pcm:
        return pcm
    samples = np.frombuffer(pcm, dtype="<i2")
    converted = soxr.resample(samples, from_rate, to_rate, quality="HQ")
    return np.asarray(converted, dtype="<i2").tobytes()


def scale(pcm: bytes, gain: float) -> bytes:
    """Loudness: multiply, clipping to the 16-bit range instead of wrapping around."""
    if gain == 1.0 or not pcm:
        return pcm
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64) * gain
    return np.clip(samples, -32768, 32767).astype("<i2").tobytes()


def encode(pcm: bytes, sample_rate: int, codec: str) -> bytes:
    if codec == "linear16":
        return pcm
    if codec == "wav":
        out = io.BytesIO()
        with wave.open(out, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(sample_rate)
            wav.writeframes(pcm)
        return out.getvalue()
    raise ValueError(f"codec {codec!r} is not supported; use one of {', '.join(SUPPORTED_CODECS)}")

"""PCM handling for speech output: resampling (soxr) and loudness.

PCM here is signed 16-bit little-endian mono. Encoding it into a container is ``codecs.py``.
"""

from __future__ import annotations

import numpy as np
import soxr

__all__ = ["resample", "scale"]


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

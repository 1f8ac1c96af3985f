from __future__ import annotations

import numpy as np
import pytest

from legacy.speech.audio import resample, scale


def tone(rate: int, seconds: float = 0.5) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    return (np.sin(2 * np.pi * 440 * t) * 10000).astype("<i2").tobytes()


def test_resampling_keeps_duration_and_pitch() -> None:
    out = np.frombuffer(resample(tone(22050), 22050, 8000), dtype="<i2")
    assert len(out) == pytest.approx(4000, abs=2)
    spectrum = np.abs(np.fft.rfft(out.astype(np.float64)))
    assert np.argmax(spectrum) * 8000 / len(out) == pytest.approx(440, abs=3)


def test_loudness_scales_and_clips_instead_of_wrapping() -> None:
    loud = np.frombuffer(scale(tone(8000), 5.0), dtype="<i2")
    assert loud.max() == 32767
    assert loud.min() == -32768
    assert scale(b"", 2.0) == b""

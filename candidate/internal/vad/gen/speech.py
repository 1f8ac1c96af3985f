"""Test audio for the speech generators (vad, audioin, httpapi): real speech from the
platform's own eSpeak NG engine, resampled to 16 kHz by legacy's resampler, and noise, tones
and silence, all deterministic (seeded), as 16-bit little-endian mono PCM at 16 kHz."""

from __future__ import annotations

import numpy as np

from legacy.inference.espeak import EspeakEngine
from legacy.speech.audio import resample

RATE = 16_000


def speak(lines: list[tuple[str, str]]) -> list[bytes]:
    """Each (voice, text) spoken, at 16 kHz."""
    engine = EspeakEngine()
    try:
        clips = [engine.synthesize(text, voice=voice) for voice, text in lines]
    finally:
        engine.close()
    return [resample(c.pcm, c.sample_rate, RATE) for c in clips]


def silence(seconds: float) -> bytes:
    return b"\0\0" * int(RATE * seconds)


def noise(seconds: float, amplitude: float, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    samples = rng.normal(0, amplitude, int(RATE * seconds))
    return np.clip(samples, -32768, 32767).astype("<i2").tobytes()


def tone(seconds: float, hz: float, amplitude: float) -> bytes:
    t = np.arange(int(RATE * seconds)) / RATE
    return (np.sin(2 * np.pi * hz * t) * amplitude).astype("<i2").tobytes()


def mix(a: bytes, b: bytes) -> bytes:
    """a plus b (the shorter padded with silence), clipped."""
    x = np.frombuffer(a, dtype="<i2").astype(np.int32)
    y = np.frombuffer(b, dtype="<i2").astype(np.int32)
    n = max(len(x), len(y))
    out = np.zeros(n, dtype=np.int32)
    out[: len(x)] += x
    out[: len(y)] += y
    return np.clip(out, -32768, 32767).astype("<i2").tobytes()


def gain(pcm: bytes, factor: float) -> bytes:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64) * factor
    return np.clip(samples, -32768, 32767).astype("<i2").tobytes()

"""What the TTS tests measure in audio: decode with FFmpeg, loudness, pitch."""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

import av
import numpy as np

__all__ = ["Decoded", "decode", "fundamental_hz"]

# Decoders' sample formats, as multiples of a 16-bit sample.
_TO_INT16 = {"s16": 1.0, "s16p": 1.0, "s32": 2.0**-16, "s32p": 2.0**-16, "flt": 32768.0,
             "fltp": 32768.0}  # fmt: skip


@dataclass(frozen=True)
class Decoded:
    codec: str  # FFmpeg's canonical codec name
    container: str
    sample_rate: int  # as declared (for Opus: the OpusHead's input sample rate)
    channels: int
    samples: np.ndarray  # float64 on the 16-bit scale, at the decoder's output rate
    output_rate: int

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.output_rate

    @property
    def rms(self) -> float:
        return float(np.sqrt(np.mean(self.samples**2)))


def decode(data: bytes) -> Decoded:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        context = stream.codec_context
        frames = [
            frame.to_ndarray().astype(np.float64) * _TO_INT16[frame.format.name]
            for frame in container.decode(stream)
        ]
        declared = stream.sample_rate
        if context.codec.canonical_name == "opus":
            # RFC 7845 §5.1: OpusHead bytes 12..15 hold the input sample rate; decoders play 48k.
            declared = struct.unpack("<I", context.extradata[12:16])[0]
        return Decoded(
            context.codec.canonical_name, container.format.name, declared, context.channels,
            np.concatenate(frames, axis=1)[0], stream.sample_rate,
        )  # fmt: skip


def fundamental_hz(samples: np.ndarray, rate: int) -> float:
    """Median pitch of the voiced 40 ms frames (autocorrelation peak in 60-500 Hz)."""
    size = int(rate * 0.04)
    frames = [samples[i : i + size] for i in range(0, len(samples) - size, size)]
    loud = max(float(np.sqrt(np.mean(f**2))) for f in frames)
    pitches = []
    for frame in frames:
        if np.sqrt(np.mean(frame**2)) < loud / 4:
            continue
        centred = frame - frame.mean()
        corr = np.correlate(centred, centred, "full")[size - 1 :]
        low, high = int(rate / 500), int(rate / 60)
        lag = low + int(np.argmax(corr[low:high]))
        pitches.append(rate / lag)
    return float(np.median(pitches))

"""Audio files the parity suites send, made with PyAV as a client would make them."""

from __future__ import annotations

import io

import av
import numpy as np


def mp3(pcm: bytes, rate: int = 16_000) -> bytes:
    """16-bit mono PCM at ``rate`` as an MP3 file (LAME, through FFmpeg's muxer)."""
    frame = av.AudioFrame.from_ndarray(
        np.frombuffer(pcm, dtype="<i2").reshape(1, -1), format="s16", layout="mono"
    )
    frame.sample_rate = rate
    out = io.BytesIO()
    with av.open(out, "w", format="mp3") as container:
        stream = container.add_stream("libmp3lame", rate=rate, layout="mono")
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    return out.getvalue()

"""Write ../testdata/cases.json.gz: webrtcvad's verdict on every 30 ms frame of generated
audio at each aggressiveness mode, and legacy's segmentation of it (``find_speech`` and the
events of an incrementally fed ``VoiceActivity``), for the Go port to replay.

The audio (speech in several languages from eSpeak NG, noise, tones, silence, clipping,
speech in noise) is stored with the answers, as base64 16 kHz s16le, so the Go test needs no
Python.

    .venv/bin/python candidate/internal/vad/gen/gen_cases.py
"""

from __future__ import annotations

import base64
import gzip
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[3]))

import webrtcvad  # noqa: E402
from speech import gain, mix, noise, silence, speak, tone  # noqa: E402

from legacy.speech.vad import (  # noqa: E402
    FRAME_BYTES,
    SpeechEnded,
    SpeechStarted,
    VadConfig,
    VoiceActivity,
    find_speech,
)

CHUNK = 1001  # an odd feed size, so frames straddle feeds


def verdicts(pcm: bytes, mode: int) -> str:
    vad = webrtcvad.Vad(mode)
    frames = range(0, len(pcm) - len(pcm) % FRAME_BYTES, FRAME_BYTES)
    return "".join("1" if vad.is_speech(pcm[i : i + FRAME_BYTES], 16000) else "0" for i in frames)


def events(pcm: bytes, config: VadConfig) -> list[dict[str, Any]]:
    activity = VoiceActivity(config)
    out: list[dict[str, Any]] = []
    for offset in range(0, len(pcm), CHUNK):
        for e in activity.feed(pcm[offset : offset + CHUNK]):
            out.append(_event(e))
    out += [_event(e) for e in activity.finish()]
    return out


def _event(e: SpeechStarted | SpeechEnded) -> dict[str, Any]:
    if isinstance(e, SpeechStarted):
        return {"start": e.at_s}
    return {"start": e.segment.start_s, "end": e.segment.end_s, "ended": True}


def main() -> None:
    en1, en2, hi, ta, bn = speak([
        ("en", "Hello there, how are you today?"),
        ("en", "The weather is nice this morning."),
        ("hi", "नमस्ते, आप कैसे हैं? मैं ठीक हूँ।"),
        ("ta", "வணக்கம், எப்படி இருக்கிறீர்கள்?"),
        ("bn", "আমার নাম রাহুল। ধন্যবাদ।"),
    ])  # fmt: skip
    signals = {
        "speech-pauses": silence(0.7)
        + en1
        + silence(1.0)
        + en2
        + silence(0.35)
        + hi
        + silence(0.8),
        "speech-short-pauses": ta + silence(0.25) + bn + silence(0.15) + en1[: 16000 * 2],
        "speech-in-noise": mix(silence(0.4) + hi + silence(0.6), noise(4.0, 400, 1)),
        "speech-loud-clipped": gain(en2, 6.0) + silence(0.5),
        "speech-quiet": gain(bn, 0.05) + silence(0.3),
        "silence": silence(1.5),
        "near-silence": noise(1.2, 1.0, 2),
        "noise-quiet": noise(1.5, 60, 3),
        "noise-loud": noise(1.5, 6000, 4),
        "tone-440": tone(1.0, 440, 8000) + silence(0.5) + tone(0.6, 3100, 12000),
        "full-scale-square": (b"\x00\x80" * 40 + b"\xff\x7f" * 40) * 200,
        "odd-tail": en1[:12345],
    }
    configs = {
        "default": VadConfig(),
        "high": VadConfig.for_sensitivity(True),
        "mode0": VadConfig(aggressiveness=0),
        "mode1": VadConfig(aggressiveness=1),
    }
    cases: list[dict[str, Any]] = []
    for name, pcm in signals.items():
        cases.append({
            "name": name,
            "pcm": base64.b64encode(pcm).decode(),
            "verdicts": {str(mode): verdicts(pcm, mode) for mode in range(4)},
            "segments": {
                key: [[s.start_s, s.end_s] for s in find_speech(pcm, config)]
                for key, config in configs.items()
            },
            "configs": {key: {"aggressiveness": c.aggressiveness,
                              "window_frames": c.window_frames, "start_ratio": c.start_ratio,
                              "end_ratio": c.end_ratio, "pad_ms": c.pad_ms}
                        for key, c in configs.items()},
            "events": {key: events(pcm, config) for key, config in configs.items()},
        })  # fmt: skip
    target = HERE.parent / "testdata" / "cases.json.gz"
    raw = json.dumps(cases, indent=0).encode()
    target.write_bytes(gzip.compress(raw, mtime=0))
    frames = sum(len(v) for c in cases for v in c["verdicts"].values())
    print(f"wrote {target}: {len(cases)} signals, {frames} frame verdicts")


if __name__ == "__main__":
    main()

"""Write ../testdata/fit_cases.json: legacy's fit_to_context (legacy/speech/stt.py) on
segments longer than the model's context, for the Go port to replay.

The audio is built from a per-frame recipe both sides follow: frame i (30 ms, 480 samples)
holds the constant value ``levels[i]`` (a pattern with ties, so "the later on a tie" is
exercised), and the segments are given in seconds.

    .venv/bin/python candidate/internal/stt/gen/gen_cases.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[3]))

import numpy as np  # noqa: E402

from legacy.speech.stt import MODEL_MAX_SECONDS, fit_to_context  # noqa: E402
from legacy.speech.vad import Segment  # noqa: E402


def pcm_of(levels: list[int]) -> bytes:
    return np.repeat(np.array(levels, dtype="<i2"), 480).astype("<i2").tobytes()


def main() -> None:
    frames = 2000  # 60 s
    patterns = {
        "ramp": [(i * 37) % 1000 for i in range(frames)],
        "ties": [500 if i % 7 else 20 for i in range(frames)],
        "flat": [300] * frames,
        "negative": [-((i * 53) % 900) for i in range(frames)],
    }
    segment_sets = [
        [(0.0, 19.99)], [(0.0, 20.0)], [(0.0, 20.01)], [(0.12, 45.3)], [(1.5, 59.97)],
        [(0.0, 10.0), (10.5, 35.123), (36.0, 58.0)], [(3.33, 27.77)],
    ]  # fmt: skip
    cases: list[dict[str, Any]] = []
    for name, levels in patterns.items():
        pcm = pcm_of(levels)
        for segments in segment_sets:
            pieces = fit_to_context(pcm, [Segment(a, b) for a, b in segments], MODEL_MAX_SECONDS)
            cases.append({"pattern": name, "segments": segments,
                          "pieces": [[p.start_s, p.end_s] for p in pieces]})  # fmt: skip
    target = HERE.parent / "testdata" / "fit_cases.json"
    target.write_text(json.dumps({"patterns": patterns, "cases": cases}) + "\n", encoding="utf-8")
    print(f"wrote {target}: {len(cases)} cases")


if __name__ == "__main__":
    main()

"""Write ../testdata/upsample_cases.json.gz: what legacy's soxr stream (8 → 16 kHz, the
session's ``soxr.ResampleStream(8000, 16000, 1, dtype="int16")``) hands over after each
message, for resample.go's stand-in to be measured against.

    .venv/bin/python candidate/internal/sttws/gen/gen_upsample.py

The input is real speech (speech-pauses of ../../vad/testdata/cases.json.gz, taken to 8 kHz by
soxr as tests/legacy/test_stt_ws_sdk.py does) in messages of several sizes, odd byte counts
included; recorded: the sample count soxr returns for each message (exactly what legacy bills
and the VAD hears), and, for one message size, all of soxr's output.
"""

from __future__ import annotations

import base64
import gzip
import json
import random
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[3]))

import numpy as np  # noqa: E402
import soxr  # noqa: E402

SIGNALS = HERE.parents[1] / "vad" / "testdata" / "cases.json.gz"
OUT = HERE.parent / "testdata" / "upsample_cases.json.gz"


def stream(pcm8: bytes, sizes: list[int]) -> tuple[list[int], bytes]:
    resampler = soxr.ResampleStream(8000, 16000, 1, dtype="int16")
    counts, out, offset = [], b"", 0
    for size in sizes:
        data = pcm8[offset : offset + size]
        offset += size
        data = data[: len(data) - len(data) % 2]  # legacy's _to_16k
        chunk = resampler.resample_chunk(np.frombuffer(data, dtype="<i2"))
        block = np.asarray(chunk, dtype="<i2").tobytes()
        counts.append(len(block) // 2)
        out += block
    return counts, out


def main() -> None:
    signals = {c["name"]: base64.b64decode(c["pcm"])
               for c in json.loads(gzip.decompress(SIGNALS.read_bytes()))}  # fmt: skip
    speech = np.frombuffer(signals["speech-pauses"], dtype="<i2")
    pcm8 = np.asarray(soxr.resample(speech, 16000, 8000), dtype="<i2").tobytes()
    rng = random.Random(8)
    scripts: dict[str, list[int]] = {
        "8000": [8000] * (len(pcm8) // 8000 + 1),
        "1600": [1600] * (len(pcm8) // 1600 + 1),
        "320-odd": [321] * (len(pcm8) // 321 + 1),
        "random": [rng.choice([0, 1, 2, 3, 160, 1659, 1660, 1661, 1854, 5000, 40000])
                   for _ in range(120)],
        "whole": [len(pcm8)],
    }  # fmt: skip
    cases: list[dict[str, Any]] = []
    for name, sizes in scripts.items():
        counts, out = stream(pcm8, sizes)
        case = {"name": name, "sizes": sizes, "counts": counts}
        if name == "8000":
            case["output"] = base64.b64encode(out).decode()
        cases.append(case)
    data = {"input": base64.b64encode(pcm8).decode(), "cases": cases}
    OUT.write_bytes(gzip.compress(json.dumps(data).encode(), mtime=0))
    print(f"wrote {OUT}: {len(cases)} scripts over {len(pcm8) // 2} samples at 8 kHz")


if __name__ == "__main__":
    main()

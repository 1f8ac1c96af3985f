"""Write ../testdata/stream_cases.json.gz: legacy's UtteranceStream (speech/streaming.py) fed
the signals of ../testdata/cases.json.gz (written by gen_cases.py; read from there, so the
audio is not stored twice) in scripted pieces, with flushes, for the Go port (stream.go) to
replay.

Each script is a list of steps, ``["feed", n]`` (the next n bytes of the signal; odd sizes
included, whose last byte legacy drops) or ``["flush"]``; recorded per step: every event
(VAD start and end, utterance with its bounds and the SHA-256 of its PCM) and the bytes the
stream holds afterwards (its memory bound).

    .venv/bin/python candidate/internal/vad/gen/gen_stream_cases.py
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import random
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[3]))

from legacy.speech.streaming import Utterance, UtteranceStream  # noqa: E402
from legacy.speech.vad import SpeechEnded, SpeechStarted, VadConfig  # noqa: E402

TESTDATA = HERE.parent / "testdata"
SIGNALS = ["speech-pauses", "speech-short-pauses", "speech-in-noise", "speech-loud-clipped",
           "noise-loud", "tone-440", "odd-tail", "silence"]  # fmt: skip


def scripts(size: int, seed: int) -> dict[str, list[list[Any]]]:
    rng = random.Random(seed)
    out: dict[str, list[list[Any]]] = {}
    for chunk in (16000, 1001, 960, 8000 * 2 + 1, 100000):
        out[f"chunks-{chunk}"] = [["feed", chunk] for _ in range(0, size, chunk)]
    flushing: list[list[Any]] = []
    for i, _ in enumerate(range(0, size, 4800)):
        flushing.append(["feed", 4800])
        if i % 3 == 2:
            flushing.append(["flush"])
    out["flush-every-0.45s"] = flushing
    random_steps: list[list[Any]] = [["flush"]]
    left = size
    while left > 0:
        n = rng.choice([1, 2, 3, 479, 480, 961, 3200, 12000, 33333])
        random_steps.append(["feed", n])
        left -= n
        if rng.random() < 0.15:
            random_steps.append(["flush"])
    out["random"] = random_steps
    return out


def run(pcm: bytes, config: VadConfig, max_s: float, steps: list[list[Any]]) -> list[Any]:
    stream = UtteranceStream(config, max_utterance_s=max_s)
    offset, answers = 0, []
    for step in steps:
        if step[0] == "flush":
            events = stream.flush()
        else:
            events = stream.feed(pcm[offset : offset + step[1]])
            offset += step[1]
        answers.append({"events": [_event(e) for e in events], "buffered": stream.buffered_bytes})
    return answers


def _event(e: object) -> dict[str, Any]:
    if isinstance(e, SpeechStarted):
        return {"started": e.at_s}
    if isinstance(e, SpeechEnded):
        return {"ended": [e.segment.start_s, e.segment.end_s]}
    assert isinstance(e, Utterance)
    return {"utterance": [e.start_s, e.end_s, len(e.pcm), hashlib.sha256(e.pcm).hexdigest()]}


def main() -> None:
    stored = json.loads(gzip.decompress((TESTDATA / "cases.json.gz").read_bytes()))
    signals = {c["name"]: base64.b64decode(c["pcm"]) for c in stored}
    configs = {"default": VadConfig(), "high": VadConfig.for_sensitivity(True)}
    cases: list[dict[str, Any]] = []
    for seed, name in enumerate(SIGNALS):
        pcm = signals[name]
        for script_name, steps in scripts(len(pcm), seed).items():
            for key, config in configs.items():
                for max_s in (20.0, 1.5):
                    cases.append({
                        "signal": name, "script": script_name, "config": key,
                        "max_utterance_s": max_s, "steps": steps,
                        "answers": run(pcm, config, max_s, steps),
                    })  # fmt: skip
    target = TESTDATA / "stream_cases.json.gz"
    target.write_bytes(gzip.compress(json.dumps(cases, separators=(",", ":")).encode(), mtime=0))
    utterances = sum(
        1 for c in cases for a in c["answers"] for e in a["events"] if "utterance" in e
    )
    print(f"wrote {target}: {len(cases)} scripts, {utterances} utterances")


if __name__ == "__main__":
    main()

"""Comparisons per second on one core: the shadow engine's JSON comparator against DeepDiff.

rfcs/0005 §1.3 asks for >= 20k comparisons/s/core on identical ~2 KB JSON and >= 1k/s on
differing ones, and keeps DeepDiff off the counting path because it manages ~200/s. This
measures the three on the same pairs, in one process (one core), bounded in time: each case runs
``--rounds`` timed rounds of ``--round-s`` seconds (defaults: 5 x 0.3 s, ~5 s in all) and the
median rate is reported as a Markdown table.

    .venv/bin/python loadtest/bench_compare.py            # or: make bench-compare

Pairs: (a) two separately serialized equal documents, keys in another order; (b) the same with
three changed fields and one added object; (c) DeepDiff on pair (b), for reference.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

from deepdiff import DeepDiff

from shadow.compare.config import CompareConfig
from shadow.compare.json_diff import compare_json


def chat_completion(content: str, completion_tokens: int) -> dict[str, object]:
    """A ~2 KB chat.completion with tool calls, the kind of body the engine compares most."""
    calls = [
        {
            "id": f"call_{i:04d}",
            "type": "function",
            "function": {"name": f"lookup_{i}", "arguments": json.dumps({"city": "Pune", "n": i})},
        }
        for i in range(6)
    ]
    return {
        "id": "chatcmpl-8b3f0c2e9d4a4e0f",
        "object": "chat.completion",
        "created": 1767225600,
        "model": "sarvam-m",
        "system_fingerprint": None,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "tool_calls": calls},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 57,
            "completion_tokens": completion_tokens,
            "total_tokens": 57 + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0},
        },
        "metadata": {"region": "ap-south-1", "tags": ["chat", "bench", "shadow"], "score": 0.93},
    }


def pairs() -> tuple[bytes, bytes, bytes]:
    """The control body, an equal one with reversed key order, and a differing one."""
    text = "Pune is a city in Maharashtra, known for its universities and forts. " * 11
    control = chat_completion(text, 120)
    equal = _reversed_keys(json.loads(json.dumps(control)))
    differing = chat_completion(text.replace("forts", "hills"), 121)  # content, 2 usage fields
    differing["metadata"] = {**control["metadata"], "debug": {"worker": 3, "cache": "miss"}}  # type: ignore[dict-item]
    encode = json.dumps
    return encode(control).encode(), encode(equal).encode(), encode(differing).encode()


def _reversed_keys(value: object) -> object:
    if isinstance(value, dict):
        return {key: _reversed_keys(value[key]) for key in reversed(value)}
    if isinstance(value, list):
        return [_reversed_keys(item) for item in value]
    return value


def rate(work: Callable[[], object], rounds: int, round_s: float) -> float:
    """Median calls per second over ``rounds`` rounds of about ``round_s`` seconds each."""
    rates = []
    for _ in range(rounds):
        calls, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < round_s:
            for _ in range(50):
                work()
            calls += 50
        rates.append(calls / elapsed)
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--round-s", type=float, default=0.3)
    args = parser.parse_args()
    rounds, round_s = max(1, args.rounds), min(max(0.05, args.round_s), 0.6)  # <= 10 s in all
    control, equal, differing = pairs()
    config = CompareConfig()
    assert compare_json(control, equal, config) == []
    found = compare_json(control, differing, config)
    assert len(found) == 4, found

    def deepdiff() -> object:
        return DeepDiff(json.loads(control), json.loads(differing))

    cases: list[tuple[str, Callable[[], object], int]] = [
        ("(a) compare_json, identical", lambda: compare_json(control, equal, config), 20_000),
        ("(b) compare_json, 3 changed + 1 added", lambda: compare_json(control, differing, config), 1_000),  # noqa: E501
        ("(c) DeepDiff, same pair as (b)", deepdiff, 0),
    ]  # fmt: skip
    print(f"control {len(control)} B, differing {len(differing)} B; {len(found)} diffs: "
          + ", ".join(f"{d.kind} {d.path}" for d in found))  # fmt: skip
    print()
    print(f"| case | comparisons/s (median of {rounds}) | target |")
    print("| --- | ---: | ---: |")
    for name, work, target in cases:
        measured = rate(work, rounds, round_s)
        goal = f">= {target:,}" if target else "reference"
        print(f"| {name} | {measured:,.0f} | {goal} |")


if __name__ == "__main__":
    main()

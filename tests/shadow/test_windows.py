"""Minute windows: counting, exact merges, sketch bytes, quantiles within 1% of numpy's."""

from __future__ import annotations

import numpy as np
import pytest

from shadow.classify import classify, error_verdict
from shadow.model import Diff, Verdict, WsMessage
from shadow.windows import COLUMNS as WINDOW_COLUMNS
from shadow.windows import (
    Window,
    decode_sketch,
    encode_sketch,
    merge_windows,
    new_sketch,
)

from .conftest import observation, trial


def test_counts_by_outcome_fields_rules_and_errors() -> None:
    window = Window()
    diffs = [Diff("a[0]", "changed"), Diff("a[1]", "changed"), Diff("b", "removed")]
    window.add_comparison(trial("1"), classify(diffs, (), lambda f: f == "b"))
    window.add_comparison(trial("2"), Verdict("matched"))
    window.add_comparison(trial("3", legacy=observation(503)), error_verdict("timeout"))
    window.add_skip("body_too_large")
    window.add_noise([Diff("b", "changed"), Diff("b", "changed")])
    window.add_noise([])
    assert (window.matched, window.mismatched, window.candidate_errors, window.skipped) == (
        1,
        1,
        1,
        1,
    )
    assert window.compared == 3
    assert window.legacy_5xx == 1
    assert window.fields == {("a[*]", "changed"): 1}  # once per comparison, not per index
    assert window.diff_fields == {"a[*]": 1, "b": 1}
    assert window.ignored_rules == {"noise": 1}
    assert window.error_kinds == {"timeout": 1}
    assert window.skipped_reasons == {"body_too_large": 1}
    assert (window.noise_comparisons, window.noise_fields) == (2, {"b": 1})


def test_only_streams_get_time_to_first_token() -> None:
    window = Window()
    sse = ((b"content-type", b"text/event-stream"),)
    window.add_comparison(trial("1", legacy=observation(ttfb_s=0.5)), Verdict("matched"))
    assert "legacy_ttfb" not in window.sketches
    window.add_comparison(
        trial("2", legacy=observation(headers=sse, ttfb_s=0.5), candidate=observation(ttfb_s=0.25)),
        Verdict("matched"),
    )
    ws = observation(body=b"", ttfb_s=0.1, messages=(WsMessage(0.1, text="{}"),))
    window.add_comparison(trial("3", legacy=ws, candidate=ws), Verdict("matched"))
    assert window.sketches["legacy_ttfb"].count == 2
    assert window.sketches["candidate_ttfb"].count == 2


def test_candidate_without_an_answer_adds_no_latency() -> None:
    window = Window()
    window.add_comparison(
        trial("1", candidate=observation(status=0, error="timeout", latency_s=15)),
        error_verdict("timeout"),
    )
    assert window.sketches["legacy"].count == 1
    assert "candidate" not in window.sketches


def test_sketch_bytes_round_trip() -> None:
    rng = np.random.default_rng(1)
    sketch = new_sketch()
    for value in rng.lognormal(3, 1, 5000):
        sketch.add(float(value))
    sketch.add(0.0)
    data = encode_sketch(sketch)
    assert len(data) < 4096
    back = decode_sketch(data)
    assert (back.count, back.sum, back._min, back._max) == (
        sketch.count, sketch.sum, sketch._min, sketch._max
    )  # fmt: skip
    for q in (0.0, 0.5, 0.9, 0.99, 1.0):
        assert back.get_quantile_value(q) == sketch.get_quantile_value(q)
    back.add(1e6)  # a restored sketch keeps growing
    assert back.count == sketch.count + 1
    with pytest.raises(ValueError, match="not a latency sketch"):
        decode_sketch(b"garbage")
    with pytest.raises(ValueError, match="truncated"):
        decode_sketch(data[:-10])


def test_merge_of_row_round_trips_is_exact_and_quantiles_are_within_one_percent() -> None:
    rng = np.random.default_rng(7)
    legacy = rng.lognormal(4, 0.6, 20_000)  # ms, a long right tail
    candidate = rng.gamma(2.0, 30.0, 20_000)
    windows = []
    for part in range(20):  # 20 minutes of 1000 comparisons each
        window = Window()
        for i in range(part * 1000, (part + 1) * 1000):
            window.add_comparison(
                trial(
                    str(i),
                    legacy=observation(latency_s=legacy[i] / 1000),
                    candidate=observation(latency_s=candidate[i] / 1000),
                ),
                Verdict("mismatched", mismatched=(Diff("x", "changed"),)) if i % 10 == 0
                else Verdict("matched"),
            )  # fmt: skip
        row = dict(zip(WINDOW_COLUMNS[3:], window.column_values(), strict=True))
        windows.append(Window.from_row(row))
    total = merge_windows(windows)
    assert (total.matched, total.mismatched) == (18_000, 2_000)
    assert total.fields == {("x", "changed"): 2_000}
    for name, values in (("legacy", legacy), ("candidate", candidate)):
        got = total.quantiles(name, [0.5, 0.95, 0.99])
        assert got is not None
        for q, value in zip((0.5, 0.95, 0.99), got, strict=True):
            exact = float(np.quantile(values, q, method="lower"))
            assert abs(value - exact) <= 0.01 * exact + 1e-9, (name, q, value, exact)
    assert Window().quantiles("legacy", [0.5]) is None

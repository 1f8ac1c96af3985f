"""Classification: rules first (by name, in order), then learned noise, else mismatched."""

from __future__ import annotations

import re

import pytest

from shadow.classify import NOISE_RULE, classify, error_verdict
from shadow.compare.config import IgnoreRule
from shadow.model import Diff

RULES = (
    IgnoreRule(name="request-id", path="request_id"),
    IgnoreRule(name="timings", regex=re.compile(r"^timestamps\.start\[\d+\]$")),
    IgnoreRule(name="broad", path="timestamps"),
)
NOISY = {"created"}


def never(field: str) -> bool:
    return False


@pytest.mark.parametrize(
    ("paths", "outcome", "mismatched", "ignored"),
    [
        ([], "matched", [], {}),
        (["request_id"], "ignored", [], {"request-id": ["request_id"]}),
        (["request_id.sub"], "ignored", [], {"request-id": ["request_id.sub"]}),
        (["request_idx"], "mismatched", ["request_idx"], {}),
        # The first covering rule wins, even when a later one covers the path too.
        (["timestamps.start[3]"], "ignored", [], {"timings": ["timestamps.start[3]"]}),
        (["timestamps.end[0]"], "ignored", [], {"broad": ["timestamps.end[0]"]}),
        (["created"], "ignored", [], {NOISE_RULE: ["created"]}),
        (
            ["created", "text", "request_id"],
            "mismatched",
            ["text"],
            {NOISE_RULE: ["created"], "request-id": ["request_id"]},
        ),
    ],
)
def test_classification_table(paths, outcome, mismatched, ignored) -> None:
    diffs = [Diff(path, "changed", 1, 2) for path in paths]
    verdict = classify(diffs, RULES, lambda field: field in NOISY)
    assert verdict.outcome == outcome
    assert [d.path for d in verdict.mismatched] == mismatched
    assert {name: [d.path for d in items] for name, items in verdict.ignored} == ignored
    assert verdict.error is None


def test_noise_is_asked_once_per_field_and_after_rules() -> None:
    asked: list[str] = []

    def noise(field: str) -> bool:
        asked.append(field)
        return False

    diffs = [Diff(f"items[{i}].id", "changed") for i in range(50)] + [Diff("request_id", "added")]
    verdict = classify(diffs, RULES, noise)
    assert asked == ["items[*].id"]
    assert len(verdict.mismatched) == 50


def test_error_verdict() -> None:
    verdict = error_verdict("timeout")
    assert (verdict.outcome, verdict.error, verdict.mismatched) == (
        "candidate_error",
        "timeout",
        (),
    )


def test_classify_is_fast() -> None:
    import time

    diffs = [Diff("a.b", "changed"), Diff("request_id", "changed"), Diff("c[1]", "removed")]
    start = time.perf_counter()
    for _ in range(20_000):
        classify(diffs, RULES, never)
    per_call_us = (time.perf_counter() - start) / 20_000 * 1e6
    assert per_call_us < 50, per_call_us


@pytest.mark.parametrize(
    ("module", "exported"),
    [
        ("shadow.classify", {"NOISE_RULE", "classify", "error_verdict"}),
        ("shadow.noise", {"NoiseField", "NoiseLearner", "NoiseSettings", "parse_noise"}),
        ("shadow.store", {"COMPARISON_COLUMNS", "EXAMPLES_PER_FIELD", "ResultStore", "StoreStats"}),
        ("shadow.report", {"QUANTILES", "TOP_DIFFS", "build_report", "render_table"}),
        ("shadow.rules", {"DuplicateRule", "LiveRule", "add_ignore_rule", "load_live_rules"}),
    ],
)
def test_public_surface_is_pinned(module: str, exported: set[str]) -> None:
    import importlib

    mod = importlib.import_module(module)
    assert set(mod.__all__) == exported
    for name in mod.__all__:
        assert hasattr(mod, name), name

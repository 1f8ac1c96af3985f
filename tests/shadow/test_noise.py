"""Noise learning (rfcs/0005 §5): thresholds, min_samples, the sliding horizon, settings."""

from __future__ import annotations

import pytest

from shadow.model import Diff
from shadow.noise import NoiseLearner, NoiseSettings, parse_noise


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def feed(learner: NoiseLearner, *, noise: tuple[int, int], candidate: tuple[int, int]) -> None:
    """``noise=(differing, total)`` legacy-vs-legacy and ``candidate=(differing, total)``."""
    for i in range(noise[1]):
        learner.observe_noise("r", [Diff("x", "changed")] if i < noise[0] else [])
    for i in range(candidate[1]):
        learner.observe_candidate("r", [Diff("x", "changed")] if i < candidate[0] else [])


def test_field_legacy_varies_on_as_often_as_the_candidate_is_noise() -> None:
    learner = NoiseLearner(NoiseSettings(min_samples=20), clock=Clock())
    feed(learner, noise=(20, 40), candidate=(50, 100))
    assert learner.rates("r", "x") == (0.5, 0.5, 40)
    assert learner.is_noise("r", "x")


def test_field_legacy_never_varies_on_is_a_mismatch() -> None:
    learner = NoiseLearner(NoiseSettings(min_samples=20), clock=Clock())
    feed(learner, noise=(0, 40), candidate=(30, 100))
    assert not learner.is_noise("r", "x")
    # Even a rare candidate diff on a field legacy never varies on is not noise.
    learner2 = NoiseLearner(NoiseSettings(min_samples=20), clock=Clock())
    feed(learner2, noise=(0, 40), candidate=(1, 200))
    assert not learner2.is_noise("r", "x")


def test_below_min_samples_unknown_noise_is_not_noise() -> None:
    learner = NoiseLearner(NoiseSettings(min_samples=20), clock=Clock())
    feed(learner, noise=(19, 19), candidate=(50, 100))
    assert not learner.is_noise("r", "x")
    learner.observe_noise("r", [Diff("x", "changed")])
    assert learner.is_noise("r", "x")


@pytest.mark.parametrize(
    ("noise_rate", "candidate_rate", "expected"),
    # threshold = noise * 1.5 + 0.01
    [(0.2, 0.30, True), (0.2, 0.31, True), (0.2, 0.32, False), (0.1, 0.9, False)],
)
def test_threshold_boundary(noise_rate, candidate_rate, expected) -> None:
    learner = NoiseLearner(NoiseSettings(1.5, 0.01, 20), clock=Clock())
    feed(
        learner, noise=(round(noise_rate * 100), 100), candidate=(round(candidate_rate * 100), 100)
    )
    assert learner.is_noise("r", "x") is expected


def test_routes_and_fields_are_apart() -> None:
    learner = NoiseLearner(NoiseSettings(min_samples=1), clock=Clock())
    learner.observe_noise("a", [Diff("items[3].id", "changed")])
    learner.observe_candidate("a", [Diff("items[0].id", "changed")])
    assert learner.is_noise("a", "items[*].id")
    assert not learner.is_noise("b", "items[*].id")
    assert not learner.is_noise("a", "other")
    snapshot = learner.snapshot("a")
    assert [(f.field, f.noise_rate, f.candidate_rate, f.samples, f.is_noise) for f in snapshot] == [
        ("items[*].id", 1.0, 1.0, 1, True)
    ]


def test_old_minutes_leave_the_horizon() -> None:
    clock = Clock()
    learner = NoiseLearner(NoiseSettings(min_samples=10), horizon_minutes=60, clock=clock)
    feed(learner, noise=(10, 10), candidate=(10, 10))
    assert learner.is_noise("r", "x")
    clock.now += 30 * 60
    feed(learner, noise=(0, 10), candidate=(0, 10))
    assert learner.rates("r", "x") == (0.5, 0.5, 20)
    clock.now += 31 * 60  # the first batch's minute is now more than an hour old
    assert learner.rates("r", "x") == (0.0, 0.0, 10)
    assert not learner.is_noise("r", "x")
    assert learner.snapshot("r") == ()


def test_seed_from_stored_windows_remembers_across_a_restart() -> None:
    clock = Clock()
    learner = NoiseLearner(NoiseSettings(min_samples=20), clock=clock)
    learner.seed(
        "r", at=clock.now - 120, noise_comparisons=30, noise_fields={"x": 15},
        candidate_comparisons=100, candidate_fields={"x": 50},
    )  # fmt: skip
    learner.seed(
        "r",
        at=clock.now - 7200,
        noise_comparisons=1000,
        noise_fields={},
        candidate_comparisons=0,
        candidate_fields={},
    )  # fmt: skip  (older than the horizon: ignored)
    assert learner.rates("r", "x") == (0.5, 0.5, 30)
    assert learner.is_noise("r", "x")


def test_parse_noise() -> None:
    assert parse_noise({}) == NoiseSettings(1.5, 0.01, 20)
    assert parse_noise({"relative_threshold": 2, "min_samples": 5}) == NoiseSettings(2.0, 0.01, 5)
    for raw, where in [
        ({"min_samples": 0}, "evidence.noise.min_samples"),
        ({"min_samples": 2.5}, "evidence.noise.min_samples"),
        ({"absolute_threshold": -1}, "evidence.noise.absolute_threshold"),
        ({"relative_threshold": True}, "evidence.noise.relative_threshold"),
        ({"typo": 1}, "evidence.noise.typo"),
    ]:
        with pytest.raises(ValueError, match=where.replace(".", r"\.")):
            parse_noise(raw)

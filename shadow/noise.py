"""Learned noise (rfcs/0005 §5, Diffy-style): which fields legacy disagrees with itself on.

For a sampled share of requests legacy is called twice; the legacy-vs-legacy diffs are counted
per route and field (:meth:`NoiseLearner.observe_noise`) exactly like candidate diffs
(:meth:`NoiseLearner.observe_candidate`). A candidate diff on a field is *noise* when::

    noise comparisons >= min_samples
    and noise_rate(field) > 0
    and not candidate_rate(field) > noise_rate(field) * relative_threshold + absolute_threshold

``noise_rate(field) > 0`` is our reading of "learned, not guessed" (brief §6): a field legacy was
never seen to vary on is never noise, however rarely the candidate differs on it.

Rates are taken over a **sliding horizon of per-minute buckets** (default 60 buckets: the last
hour). Memory is bounded: at most ``horizon`` buckets per route, running totals are kept so a
query is two dict look-ups, and a route tracks at most ``max_fields`` distinct fields (more are
not learned: they stay "not noise", the safe side). Pure and sans-IO: the clock is injected;
:meth:`NoiseLearner.seed` takes counts read from ``shadow.windows`` so a restart remembers.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shadow.model import Diff

__all__ = ["NoiseField", "NoiseLearner", "NoiseSettings", "parse_noise"]


@dataclass(frozen=True, slots=True)
class NoiseSettings:
    """``evidence.noise`` of banyan.yaml."""

    relative_threshold: float = 1.5
    absolute_threshold: float = 0.01
    min_samples: int = 20


def parse_noise(raw: Mapping[str, Any]) -> NoiseSettings:
    """Check the ``evidence.noise`` block; ValueError names ``evidence.noise.<field>``."""
    if not isinstance(raw, Mapping):
        raise ValueError("evidence.noise: expected a mapping")
    known = ("relative_threshold", "absolute_threshold", "min_samples")
    for key in raw:
        if key not in known:
            raise ValueError(f"evidence.noise.{key}: unknown key (known: {', '.join(known)})")
    values: dict[str, Any] = {}
    for key in ("relative_threshold", "absolute_threshold"):
        if key in raw:
            value = raw[key]
            if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
                raise ValueError(f"evidence.noise.{key}: {value!r}: expected a number >= 0")
            values[key] = float(value)
    if "min_samples" in raw:
        value = raw["min_samples"]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"evidence.noise.min_samples: {value!r}: expected an integer >= 1")
        values["min_samples"] = value
    return NoiseSettings(**values)


@dataclass(frozen=True, slots=True)
class NoiseField:
    """One field's learned rates over the horizon (for the report and the windows)."""

    field: str
    noise_rate: float
    candidate_rate: float
    samples: int  # legacy-vs-legacy comparisons of the route
    is_noise: bool


@dataclass(slots=True)
class _Bucket:
    minute: int
    noise_comparisons: int = 0
    noise_fields: Counter[str] = field(default_factory=Counter)
    candidate_comparisons: int = 0
    candidate_fields: Counter[str] = field(default_factory=Counter)


@dataclass(slots=True)
class _Route:
    buckets: deque[_Bucket] = field(default_factory=deque)
    noise_comparisons: int = 0
    noise_fields: Counter[str] = field(default_factory=Counter)
    candidate_comparisons: int = 0
    candidate_fields: Counter[str] = field(default_factory=Counter)


class NoiseLearner:
    """Per-route noise statistics in memory; one per shadow process (not shared, not global)."""

    def __init__(
        self,
        settings: NoiseSettings = NoiseSettings(),
        *,
        horizon_minutes: int = 60,
        max_fields: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self._horizon = horizon_minutes
        self._max_fields = max_fields
        self._clock = clock
        self._routes: dict[str, _Route] = {}

    # -- observing ---------------------------------------------------------------------------

    def observe_noise(self, route: str, diffs: Iterable[Diff]) -> None:
        """Count one legacy-vs-legacy comparison (``diffs`` empty when both calls agreed)."""
        state, bucket = self._bucket(route, None)
        fields = self._fields(state, diffs)
        bucket.noise_comparisons += 1
        state.noise_comparisons += 1
        bucket.noise_fields.update(fields)
        state.noise_fields.update(fields)

    def observe_candidate(self, route: str, diffs: Iterable[Diff]) -> None:
        """Count one legacy-vs-candidate comparison, before classification (every diff)."""
        state, bucket = self._bucket(route, None)
        fields = self._fields(state, diffs)
        bucket.candidate_comparisons += 1
        state.candidate_comparisons += 1
        bucket.candidate_fields.update(fields)
        state.candidate_fields.update(fields)

    def seed(
        self,
        route: str,
        *,
        at: float,
        noise_comparisons: int,
        noise_fields: Mapping[str, int],
        candidate_comparisons: int,
        candidate_fields: Mapping[str, int],
    ) -> None:
        """Add counts of a past minute (a ``shadow.windows`` row) so a restart keeps what was
        learned; rows older than the horizon are ignored. Call in time order, before traffic."""
        minute = int(at // 60)
        if minute <= self._now_minute() - self._horizon:
            return
        state, bucket = self._bucket(route, minute)
        bucket.noise_comparisons += noise_comparisons
        state.noise_comparisons += noise_comparisons
        bucket.candidate_comparisons += candidate_comparisons
        state.candidate_comparisons += candidate_comparisons
        for source, bucket_counts, totals in (
            (noise_fields, bucket.noise_fields, state.noise_fields),
            (candidate_fields, bucket.candidate_fields, state.candidate_fields),
        ):
            for name, count in source.items():
                if name in totals or len(totals) < self._max_fields:
                    bucket_counts[name] += count
                    totals[name] += count

    # -- asking ------------------------------------------------------------------------------

    def rates(self, route: str, field_name: str) -> tuple[float, float, int]:
        """``(noise_rate, candidate_rate, noise_samples)`` of a field over the horizon."""
        state = self._current(route)
        if state is None:
            return 0.0, 0.0, 0
        noise = (
            state.noise_fields.get(field_name, 0) / state.noise_comparisons
            if state.noise_comparisons
            else 0.0
        )
        candidate = (
            state.candidate_fields.get(field_name, 0) / state.candidate_comparisons
            if state.candidate_comparisons
            else 0.0
        )
        return noise, candidate, state.noise_comparisons

    def is_noise(self, route: str, field_name: str) -> bool:
        """Whether a candidate diff on this field is explained by legacy's own variation."""
        noise, candidate, samples = self.rates(route, field_name)
        if samples < self.settings.min_samples or noise <= 0.0:
            return False
        threshold = noise * self.settings.relative_threshold + self.settings.absolute_threshold
        return not candidate > threshold

    def checker(self, route: str) -> Callable[[str], bool]:
        """``is_noise`` bound to a route: the ``noise`` argument of :func:`shadow.classify`."""
        return lambda field_name: self.is_noise(route, field_name)

    def snapshot(self, route: str) -> tuple[NoiseField, ...]:
        """Every field legacy varied on within the horizon, most variable first."""
        state = self._current(route)
        if state is None:
            return ()
        result = []
        for name in state.noise_fields:
            noise, candidate, samples = self.rates(route, name)
            result.append(NoiseField(name, noise, candidate, samples, self.is_noise(route, name)))
        result.sort(key=lambda item: (-item.noise_rate, item.field))
        return tuple(result)

    # -- buckets -----------------------------------------------------------------------------

    def _now_minute(self) -> int:
        return int(self._clock() // 60)

    def _current(self, route: str) -> _Route | None:
        state = self._routes.get(route)
        if state is not None:
            self._expire(state, self._now_minute())
        return state

    def _bucket(self, route: str, minute: int | None) -> tuple[_Route, _Bucket]:
        now = self._now_minute()
        minute = now if minute is None else minute
        state = self._routes.get(route)
        if state is None:
            state = self._routes[route] = _Route()
        self._expire(state, now)
        if state.buckets and state.buckets[-1].minute == minute:
            return state, state.buckets[-1]
        for bucket in state.buckets:  # a seeded minute (rare: start-up only)
            if bucket.minute == minute:
                return state, bucket
        bucket = _Bucket(minute)
        state.buckets.append(bucket)
        if len(state.buckets) > 1 and state.buckets[-2].minute > minute:
            state.buckets = deque(sorted(state.buckets, key=lambda b: b.minute))
        return state, bucket

    def _expire(self, state: _Route, now: int) -> None:
        while state.buckets and state.buckets[0].minute <= now - self._horizon:
            old = state.buckets.popleft()
            state.noise_comparisons -= old.noise_comparisons
            state.candidate_comparisons -= old.candidate_comparisons
            state.noise_fields.subtract(old.noise_fields)
            state.candidate_fields.subtract(old.candidate_fields)
            for counts in (state.noise_fields, state.candidate_fields):
                for name in [n for n in old.noise_fields | old.candidate_fields if n in counts]:
                    if counts[name] <= 0:
                        del counts[name]

    def _fields(self, state: _Route, diffs: Iterable[Diff]) -> set[str]:
        """The distinct fields of one comparison's diffs that this route may track."""
        fields = {diff.field for diff in diffs}
        for name in list(fields):
            if (
                name not in state.noise_fields
                and name not in state.candidate_fields
                and len(state.noise_fields) + len(state.candidate_fields) >= self._max_fields
            ):
                fields.discard(name)
        return fields

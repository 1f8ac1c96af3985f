"""The canary guard: a route in canary whose candidate does worse live is rolled back to shadow.

Every ``interval_s`` the guard scrapes the proxy admin's ``GET /metrics`` and ``GET /routes``
(rfcs/0005 §8). For each route in canary mode it compares, over the last ``window_s`` (the
difference of two scrapes, so a proxy's lifetime does not dilute a fresh regression), the
requests the candidate served with those legacy served:

- **error_rate**: the 5xx share of ``banyan_proxy_requests_total{route,served_by,status}``;
  a breach when ``candidate > legacy + error_rate_epsilon``;
- **p99**: estimated from ``banyan_proxy_request_duration_seconds`` buckets (linear within a
  bucket, as Prometheus' ``histogram_quantile``); a breach when
  ``candidate > p99_ratio * legacy`` and the candidate is slower by over ``p99_floor_ms``
  (a bucket's width is noise, not a regression).

Nothing is judged before the candidate served ``min_requests`` in the window. A breach rolls
the route back through the admin API — ``POST /routes/{name}/rollback`` with ``to: shadow``,
the actor ``banyan-canary-guard`` and the reason ``auto-rollback: <gate> <numbers>`` — which
is audited like any other change. The guard holds no route state of its own: the proxy's
answer is the truth, and a failed scrape or rollback is retried at the next round.

Deliberately not done: judging routes in candidate mode (no legacy traffic to compare with),
and WebSocket routes' p99 means session length (the histogram times whole exchanges).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

import httpx

from banyan.logs import get_logger
from shadow.promtext import PromTextError, Samples, parse_prometheus, select

__all__ = [
    "ACTOR",
    "CanaryGuard",
    "CanarySettings",
    "Evaluation",
    "ScrapeFailed",
    "SideStats",
    "evaluate",
    "parse_canary",
    "side_stats",
]

_log = get_logger(__name__)
ACTOR = "banyan-canary-guard"
REQUESTS = "banyan_proxy_requests_total"
DURATION = "banyan_proxy_request_duration_seconds"
Gate = Literal["error_rate", "p99"]


class ScrapeFailed(Exception):
    """The proxy admin could not be read (down, refused the token, or answered garbage)."""


@dataclass(frozen=True, slots=True)
class CanarySettings:
    """``evidence.canary`` in banyan.yaml."""

    window_s: float = 60.0
    interval_s: float = 10.0
    min_requests: int = 50
    p99_ratio: float = 1.5
    error_rate_epsilon: float = 0.02
    # The p99 gate also needs the candidate slower by more than this: p99s estimated from the
    # proxy's buckets (1 ms, 2.5 ms, 5 ms, ...) differ by a bucket's width on noise alone.
    p99_floor_ms: float = 5.0


def _number(raw: Mapping[str, Any], key: str, default: float) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"evidence.canary.{key} must be a number, not {value!r}")
    return float(value)


def parse_canary(raw: Mapping[str, Any]) -> CanarySettings:
    """The settings from the ``evidence.canary`` mapping; absent keys take the defaults.
    ValueError names the offending ``evidence.canary.<field>``."""
    if not isinstance(raw, Mapping):
        raise ValueError(f"evidence.canary must be a mapping, not {type(raw).__name__}")
    defaults = CanarySettings()
    known = set(CanarySettings.__dataclass_fields__)
    for key in raw:
        if key not in known:
            raise ValueError(f"evidence.canary.{key} is not a setting; known: {sorted(known)}")
    window_s = _number(raw, "window_s", defaults.window_s)
    interval_s = _number(raw, "interval_s", defaults.interval_s)
    min_requests = raw.get("min_requests", defaults.min_requests)
    p99_ratio = _number(raw, "p99_ratio", defaults.p99_ratio)
    epsilon = _number(raw, "error_rate_epsilon", defaults.error_rate_epsilon)
    floor_ms = _number(raw, "p99_floor_ms", defaults.p99_floor_ms)
    if interval_s <= 0:
        raise ValueError(f"evidence.canary.interval_s must be > 0, not {interval_s}")
    if window_s < interval_s:
        raise ValueError(
            f"evidence.canary.window_s ({window_s}) must be at least interval_s ({interval_s}):"
            " a window is the difference of two scrapes"
        )
    if isinstance(min_requests, bool) or not isinstance(min_requests, int) or min_requests < 1:
        raise ValueError(
            f"evidence.canary.min_requests must be an integer >= 1, not {min_requests!r}"
        )
    if p99_ratio < 1:
        raise ValueError(f"evidence.canary.p99_ratio must be >= 1, not {p99_ratio}")
    if not 0 <= epsilon < 1:
        raise ValueError(f"evidence.canary.error_rate_epsilon must be in [0, 1), not {epsilon}")
    if floor_ms < 0:
        raise ValueError(f"evidence.canary.p99_floor_ms must be >= 0, not {floor_ms}")
    return CanarySettings(window_s, interval_s, min_requests, p99_ratio, epsilon, floor_ms)


@dataclass(frozen=True, slots=True)
class SideStats:
    """One serving side of one route over the window."""

    requests: int
    errors: int  # 5xx
    p99_s: float | None  # None: no timed requests

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.requests if self.requests else None


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One route's judgement at one round; ``gate`` and ``reason`` set on a breach."""

    route: str
    candidate: SideStats
    legacy: SideStats
    judged: bool  # enough candidate-served requests to judge
    gate: Gate | None = None
    reason: str | None = None


def _delta(now: Samples, then: Samples | None, key: tuple[str, Any]) -> float:
    current = now.get(key, 0.0)
    if then is None:
        return current
    before = then.get(key, 0.0)
    return current - before if current >= before else current  # a reset: counted from zero


def _p99(buckets: list[tuple[float, float]]) -> float | None:
    """Prometheus' histogram_quantile(0.99) of cumulative (le, count) pairs."""
    buckets.sort()
    if not buckets or buckets[-1][1] <= 0:
        return None
    rank = 0.99 * buckets[-1][1]
    lower, below = 0.0, 0.0
    for le, count in buckets:
        if count >= rank:
            if math.isinf(le):
                return lower  # the highest finite bound: all we know
            inside = count - below
            return lower + (le - lower) * ((rank - below) / inside if inside else 1.0)
        lower, below = le, count
    return lower


def side_stats(now: Samples, then: Samples | None, route: str, served_by: str) -> SideStats:
    """Requests, 5xx and p99 of one side of one route between two scrapes."""
    requests = errors = 0.0
    for labels, _ in select(now, REQUESTS):
        if labels.get("route") != route or labels.get("served_by") != served_by:
            continue
        n = _delta(now, then, (REQUESTS, tuple(sorted(labels.items()))))
        requests += n
        if labels.get("status", "").startswith("5"):
            errors += n
    buckets: list[tuple[float, float]] = []
    bucket_name = f"{DURATION}_bucket"
    for labels, _ in select(now, bucket_name):
        if labels.get("route") != route or labels.get("served_by") != served_by:
            continue
        le = float(labels["le"]) if labels.get("le") != "+Inf" else math.inf
        buckets.append((le, _delta(now, then, (bucket_name, tuple(sorted(labels.items()))))))
    return SideStats(int(requests), int(errors), _p99(buckets))


def evaluate(
    route: str, now: Samples, then: Samples | None, settings: CanarySettings
) -> Evaluation:
    """The gates for one canary route between two scrapes (pure)."""
    candidate = side_stats(now, then, route, "candidate")
    legacy = side_stats(now, then, route, "legacy")
    if candidate.requests < settings.min_requests:
        return Evaluation(route, candidate, legacy, judged=False)
    cand_rate = candidate.error_rate or 0.0
    legacy_rate = legacy.error_rate or 0.0
    if cand_rate > legacy_rate + settings.error_rate_epsilon:
        reason = (
            f"auto-rollback: error_rate candidate {cand_rate:.4f} > legacy {legacy_rate:.4f}"
            f" + {settings.error_rate_epsilon} ({candidate.errors}/{candidate.requests} vs"
            f" {legacy.errors}/{legacy.requests} in {settings.window_s:g}s)"
        )
        return Evaluation(route, candidate, legacy, True, "error_rate", reason)
    if (
        candidate.p99_s is not None
        and legacy.p99_s is not None
        and candidate.p99_s > settings.p99_ratio * legacy.p99_s
        and (candidate.p99_s - legacy.p99_s) * 1000 > settings.p99_floor_ms
    ):
        reason = (
            f"auto-rollback: p99 candidate {candidate.p99_s * 1000:.1f}ms >"
            f" {settings.p99_ratio:g} x legacy {legacy.p99_s * 1000:.1f}ms"
            f" and slower by over {settings.p99_floor_ms:g}ms"
            f" ({candidate.requests} vs {legacy.requests} requests in {settings.window_s:g}s)"
        )
        return Evaluation(route, candidate, legacy, True, "p99", reason)
    return Evaluation(route, candidate, legacy, judged=True)


@dataclass
class _Scrape:
    at: float
    samples: Samples


@dataclass
class _Counts:
    rounds: int = 0
    scrape_failed: int = 0
    rollbacks: int = 0
    rollback_failed: int = 0
    by_gate: dict[str, int] = field(default_factory=dict)


class CanaryGuard:
    """Scrape, judge each canary route, roll back on a breach; ``run()`` every ``interval_s``.

    ``client`` is the caller's ``httpx.AsyncClient`` (closed by the caller); the admin token is
    sent as ``Authorization: Bearer``. ``check()`` is one round, returning every canary
    route's evaluation (tests and the dashboard read it)."""

    def __init__(
        self,
        admin_url: str,
        admin_token: str,
        settings: CanarySettings,
        client: httpx.AsyncClient,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = admin_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {admin_token}"}
        self._settings = settings
        self._client = client
        self._clock = clock
        # Enough scrapes to span the window, and no more (bounded).
        keep = math.ceil(settings.window_s / settings.interval_s) + 2
        self._scrapes: deque[_Scrape] = deque(maxlen=keep)
        self._canary_since: dict[str, float] = {}
        self.counts = _Counts()

    async def run(self) -> None:
        """Forever; cancel to stop. A failing round is logged and the next one tried."""
        while True:
            try:
                await self.check()
            except ScrapeFailed as exc:  # already counted; keep guarding
                _log.warning("canary guard round failed", error=repr(exc))
            await asyncio.sleep(self._settings.interval_s)

    async def check(self) -> list[Evaluation]:
        """One round: scrape, judge each canary route against the window's baseline, roll back
        the breaching ones. Raises ScrapeFailed when the proxy cannot be read."""
        self.counts.rounds += 1
        try:
            routes, samples = await self._scrape()
        except (httpx.HTTPError, PromTextError, ValueError) as exc:
            self.counts.scrape_failed += 1
            raise ScrapeFailed(f"{self._url}: {exc}") from exc
        now = self._clock()
        canary = [r["name"] for r in routes if r.get("mode") == "canary"]
        for name in list(self._canary_since):
            if name not in canary:
                del self._canary_since[name]  # left canary: a new canary starts a new window
        for name in canary:
            self._canary_since.setdefault(name, now)
        evaluations = []
        for name in canary:
            baseline = self._baseline(now, self._canary_since[name])
            if baseline is None:
                continue  # the first scrape of this canary: nothing to difference yet
            evaluation = evaluate(name, samples, baseline.samples, self._settings)
            evaluations.append(evaluation)
            if evaluation.gate is not None and evaluation.reason is not None:
                await self._rollback(name, evaluation.gate, evaluation.reason)
        self._scrapes.append(_Scrape(now, samples))
        return evaluations

    def _baseline(self, now: float, since: float) -> _Scrape | None:
        """The oldest kept scrape inside the window and inside this canary's life."""
        start = max(now - self._settings.window_s, since)
        for scrape in self._scrapes:
            if scrape.at >= start:
                return scrape
        return None

    async def _scrape(self) -> tuple[list[Mapping[str, Any]], Samples]:
        routes_answer, metrics_answer = await asyncio.gather(
            self._client.get(f"{self._url}/routes", headers=self._headers),
            self._client.get(f"{self._url}/metrics", headers=self._headers),
        )
        routes_answer.raise_for_status()
        metrics_answer.raise_for_status()
        routes = routes_answer.json().get("routes")
        if not isinstance(routes, list):
            raise ValueError("GET /routes answered without a routes list")
        return routes, parse_prometheus(metrics_answer.text)

    async def _rollback(self, name: str, gate: Gate, reason: str) -> None:
        body = {"to": "shadow", "reason": reason, "actor": ACTOR}
        try:
            answer = await self._client.post(
                f"{self._url}/routes/{quote(name, safe='')}/rollback",
                json=body,
                headers=self._headers,
            )
            answer.raise_for_status()
        except httpx.HTTPError as exc:
            self.counts.rollback_failed += 1
            _log.error("canary rollback failed", route=name, reason=reason, error=repr(exc))
            return
        self.counts.rollbacks += 1
        self.counts.by_gate[gate] = self.counts.by_gate.get(gate, 0) + 1
        self._canary_since.pop(name, None)
        _log.warning("canary rolled back", route=name, gate=gate, reason=reason)

"""Counters and histograms of one proxy process, exposed as Prometheus text by the admin listener.

A counter is a name (declared below with its label names, so a typo fails loudly) plus label
values. Incrementing is a dict update: cheap enough for the hot path.

A histogram (``HISTOGRAMS``) has fixed bucket bounds, the same for every series, so series
sum across workers and difference across scrapes bucket by bucket — what the canary guard
does to estimate a route's p99 per serving side (rfcs/0005 §8). An observation is a dict
lookup, a bisect and two increments; counts are kept per bucket and made cumulative only
when rendered.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter

__all__ = [
    "COUNTERS",
    "DURATION_BUCKETS",
    "HISTOGRAMS",
    "Counters",
    "HistogramSeries",
    "render_prometheus",
]

HELP: dict[str, str] = {
    "banyan_proxy_requests_total": "Requests answered, by route, side that served, and status.",
    "banyan_proxy_decisions_total": "Mode decisions, by route and reason.",
    "banyan_proxy_upstream_errors_total": "Upstream failures, by upstream and kind.",
    "banyan_proxy_client_errors_total": "Requests refused before forwarding, by kind.",
    "banyan_proxy_retries_total": "Requests retried on a fresh connection, by upstream.",
    "banyan_proxy_mirror_enqueued_total": "Exchanges handed to the shadow side, by route.",
    "banyan_proxy_mirror_skipped_total": "Sampled exchanges not mirrored, by route and reason.",
    "banyan_proxy_request_duration_seconds": (
        "Request received to live response finished, by route and side that served."
    ),
    "banyan_proxy_mirror_sent_total": "Mirror records written to the shadow socket, by route.",
}
COUNTERS: dict[str, tuple[str, ...]] = {
    "banyan_proxy_requests_total": ("route", "served_by", "status"),
    "banyan_proxy_decisions_total": ("route", "reason"),
    "banyan_proxy_upstream_errors_total": ("upstream", "kind"),
    "banyan_proxy_client_errors_total": ("kind",),
    "banyan_proxy_retries_total": ("upstream",),
    "banyan_proxy_mirror_enqueued_total": ("route",),
    "banyan_proxy_mirror_skipped_total": ("route", "reason"),
    "banyan_proxy_mirror_sent_total": ("route",),
}
# Upper bounds (seconds) of the latency buckets; +Inf is implicit. Fixed: series stay comparable.
DURATION_BUCKETS: tuple[float, ...] = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
)  # fmt: skip
_DURATION = "banyan_proxy_request_duration_seconds"
HISTOGRAMS: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {
    _DURATION: (("route", "served_by"), DURATION_BUCKETS),
}


class HistogramSeries:
    """One label set's observations: a count per bucket (the last is +Inf) and their sum."""

    __slots__ = ("counts", "total")

    def __init__(self, buckets: int) -> None:
        self.counts = [0] * (buckets + 1)
        self.total = 0.0

    def cumulative(self) -> list[int]:
        out, running = [], 0
        for count in self.counts:
            running += count
            out.append(running)
        return out


class Counters:
    def __init__(self) -> None:
        self._values: Counter[tuple[str, tuple[str, ...]]] = Counter()
        self._histograms: dict[str, dict[tuple[str, ...], HistogramSeries]] = {
            name: {} for name in HISTOGRAMS
        }
        self._durations = self._histograms[_DURATION]

    def inc(self, name: str, *labels: str, by: int = 1) -> None:
        declared = COUNTERS[name]
        if len(labels) != len(declared):
            raise ValueError(f"{name} takes labels {declared}, got {labels}")
        self._values[(name, labels)] += by

    def get(self, name: str, *labels: str) -> int:
        return self._values[(name, labels)]

    def total(self, name: str) -> int:
        return sum(v for (n, _), v in self._values.items() if n == name)

    def snapshot(self) -> dict[tuple[str, tuple[str, ...]], int]:
        return dict(self._values)

    def observe(self, name: str, value: float, *labels: str) -> None:
        """Record one observation (hot path: labels are checked only for a new series)."""
        series = self._histograms[name].get(labels)
        if series is None:
            series = self._new_series(name, labels)
        series.counts[bisect_left(HISTOGRAMS[name][1], value)] += 1
        series.total += value

    def observe_served(self, route: str, served_by: str, seconds: float) -> None:
        """``banyan_proxy_request_duration_seconds``: once per exchange, from ``finish``."""
        series = self._durations.get((route, served_by))
        if series is None:
            series = self._new_series(_DURATION, (route, served_by))
        series.counts[bisect_left(DURATION_BUCKETS, seconds)] += 1
        series.total += seconds

    def _new_series(self, name: str, labels: tuple[str, ...]) -> HistogramSeries:
        declared, bounds = HISTOGRAMS[name]
        if len(labels) != len(declared):
            raise ValueError(f"{name} takes labels {declared}, got {labels}")
        series = self._histograms[name][labels] = HistogramSeries(len(bounds))
        return series

    def histogram(self, name: str) -> dict[tuple[str, ...], HistogramSeries]:
        """The live series of one histogram, by label values (read-only by convention)."""
        return self._histograms[name]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(names: tuple[str, ...], values: tuple[str, ...]) -> str:
    return ",".join(f'{k}="{_escape(v)}"' for k, v in zip(names, values, strict=True))


def render_prometheus(counters: Counters) -> str:
    """The text exposition format (version 0.0.4), every declared counter and histogram."""
    snapshot = counters.snapshot()
    lines: list[str] = []
    for name, label_names in COUNTERS.items():
        lines.append(f"# HELP {name} {HELP[name]}")
        lines.append(f"# TYPE {name} counter")
        for (metric, labels), value in sorted(snapshot.items()):
            if metric != name:
                continue
            pairs = _labels(label_names, labels)
            lines.append(f"{name}{{{pairs}}} {value}")
    for name, (label_names, bounds) in HISTOGRAMS.items():
        lines.append(f"# HELP {name} {HELP[name]}")
        lines.append(f"# TYPE {name} histogram")
        les = [repr(bound) for bound in bounds] + ["+Inf"]
        for labels, series in sorted(counters.histogram(name).items()):
            pairs = _labels(label_names, labels)
            cumulative = series.cumulative()
            for le, count in zip(les, cumulative, strict=True):
                lines.append(f'{name}_bucket{{{pairs},le="{le}"}} {count}')
            lines.append(f"{name}_sum{{{pairs}}} {series.total!r}")
            lines.append(f"{name}_count{{{pairs}}} {cumulative[-1]}")
    return "\n".join(lines) + "\n"

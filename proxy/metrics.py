"""Counters of one proxy process, exposed later as Prometheus text by the admin listener.

A counter is a name (declared below with its label names, so a typo fails loudly) plus label
values. Incrementing is a dict update: cheap enough for the hot path.
"""

from __future__ import annotations

from collections import Counter

__all__ = ["COUNTERS", "Counters", "render_prometheus"]

HELP: dict[str, str] = {
    "banyan_proxy_requests_total": "Requests answered, by route, side that served, and status.",
    "banyan_proxy_decisions_total": "Mode decisions, by route and reason.",
    "banyan_proxy_upstream_errors_total": "Upstream failures, by upstream and kind.",
    "banyan_proxy_client_errors_total": "Requests refused before forwarding, by kind.",
    "banyan_proxy_retries_total": "Requests retried on a fresh connection, by upstream.",
    "banyan_proxy_mirror_enqueued_total": "Exchanges handed to the shadow side, by route.",
    "banyan_proxy_mirror_skipped_total": "Sampled exchanges not mirrored, by route and reason.",
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


class Counters:
    def __init__(self) -> None:
        self._values: Counter[tuple[str, tuple[str, ...]]] = Counter()

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


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def render_prometheus(counters: Counters) -> str:
    """The text exposition format (version 0.0.4), every declared counter listed."""
    snapshot = counters.snapshot()
    lines: list[str] = []
    for name, label_names in COUNTERS.items():
        lines.append(f"# HELP {name} {HELP[name]}")
        lines.append(f"# TYPE {name} counter")
        for (metric, labels), value in sorted(snapshot.items()):
            if metric != name:
                continue
            pairs = ",".join(
                f'{k}="{_escape(v)}"' for k, v in zip(label_names, labels, strict=True)
            )
            lines.append(f"{name}{{{pairs}}} {value}")
    return "\n".join(lines) + "\n"

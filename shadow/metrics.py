"""Counters of the shadow process, rendered as Prometheus text (the style of proxy/metrics.py).

A counter is declared once, with its help text and label names, so a typo or a wrong label
count fails loudly; incrementing is a dict update. The declarations are a constant table
(:data:`SHADOW_COUNTERS`); a component that needs more passes its own :class:`CounterSpec`s to
:class:`Counters` (no import-time registration, STYLE house rule 9)::

    counters = Counters([*SHADOW_COUNTERS, CounterSpec("banyan_shadow_widgets_total",
                                                       "Widgets, by colour.",
                                                       ("colour",))])
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["SHADOW_COUNTERS", "CounterSpec", "Counters", "render_prometheus"]


@dataclass(frozen=True, slots=True)
class CounterSpec:
    name: str
    help: str
    labels: tuple[str, ...]


SHADOW_COUNTERS: tuple[CounterSpec, ...] = (
    CounterSpec(
        "banyan_shadow_received_total", "Mirror records read from the socket, by route.",
        ("route",),
    ),
    CounterSpec(
        "banyan_shadow_dropped_total",
        "Mirror records not compared, by route and reason (shadow_backlog, timeout, "
        "connect_error, replay_error, ws_unsupported, noise_failed, bad_frame).",
        ("route", "reason"),
    ),
    CounterSpec(
        "banyan_shadow_outcomes_total",
        "Compared requests, by route and outcome (matched, ignored, mismatched, "
        "candidate_error).",
        ("route", "outcome"),
    ),
    CounterSpec(
        "banyan_shadow_candidate_errors_total",
        "Candidate errors, by route and kind (timeout, connect_error, reset, server_error, "
        "garbage).",
        ("route", "kind"),
    ),
    CounterSpec(
        "banyan_shadow_diff_fields_total",
        "Mismatched requests, by route and field path (50 fields a route, then \"other\").",
        ("route", "field"),
    ),
    CounterSpec(
        "banyan_shadow_ignored_total", "Differences ignored, by route and rule.",
        ("route", "rule"),
    ),
)  # fmt: skip


class Counters:
    """One process's counters; ``specs`` declares every name it accepts."""

    def __init__(self, specs: Iterable[CounterSpec] = SHADOW_COUNTERS) -> None:
        self._specs: dict[str, CounterSpec] = {}
        for spec in specs:
            if spec.name in self._specs:
                raise ValueError(f"counter {spec.name} declared twice")
            self._specs[spec.name] = spec
        self._values: Counter[tuple[str, tuple[str, ...]]] = Counter()

    @property
    def specs(self) -> tuple[CounterSpec, ...]:
        return tuple(self._specs.values())

    def inc(self, name: str, *labels: str, by: int = 1) -> None:
        declared = self._specs[name].labels
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
    by_name: dict[str, list[tuple[tuple[str, ...], int]]] = {}
    for (name, labels), value in sorted(counters.snapshot().items()):
        by_name.setdefault(name, []).append((labels, value))
    lines: list[str] = []
    for spec in counters.specs:
        lines.append(f"# HELP {spec.name} {spec.help}")
        lines.append(f"# TYPE {spec.name} counter")
        for labels, value in by_name.get(spec.name, ()):
            pairs = ",".join(
                f'{k}="{_escape(v)}"' for k, v in zip(spec.labels, labels, strict=True)
            )
            lines.append(f"{spec.name}{{{pairs}}} {value}")
    return "\n".join(lines) + "\n"

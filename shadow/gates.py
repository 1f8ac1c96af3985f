"""Promotion gates: may a route move up from shadow or canary, judged on its report (rfcs/0005 §8).

Pure functions of one route's entry of the report JSON (``shadow/report.py``), so the rule is
the same wherever it runs — the admin API's promote, the CLI, a test — and a refusal can say
exactly which number was short. Settings come from the ``evidence.gates`` block of banyan.yaml::

    evidence:
      gates: {window: 1h, min_compared: 100, min_parity: 0.99, p99_ratio: 1.2,
              p99_floor_ms: 2, billing_tolerance: 0.005, error_rate_epsilon: 0.01}

The p99 gate fails only when the candidate is slower by the ratio *and* by more than
``p99_floor_ms``: on a route answering in a millisecond or two, a ratio alone would refuse a
promotion for a difference no customer can see.

Only promotions *out of* shadow or canary are gated (shadow → canary, canary → larger canary,
canary → candidate): legacy → shadow risks nothing (customers still get legacy's answer) and a
rollback must never wait for evidence.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

__all__ = [
    "GateFailure",
    "GateSettings",
    "check_gates",
    "describe_window",
    "is_gated",
    "parse_gates",
    "parse_window",
]

_WINDOW = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")
_UNIT_S = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_GATED_FROM = ("shadow", "canary")


@dataclass(frozen=True, slots=True)
class GateSettings:
    window_s: float = 3600.0
    min_compared: int = 100
    min_parity: float = 0.99
    p99_ratio: float = 1.2
    p99_floor_ms: float = 2.0
    billing_tolerance: float = 0.005
    error_rate_epsilon: float = 0.01

    def view(self) -> dict[str, Any]:
        return {**asdict(self), "window": describe_window(self.window_s)}


@dataclass(frozen=True, slots=True)
class GateFailure:
    """One gate that did not pass; ``message`` carries the numbers a person needs to act."""

    gate: str
    message: str


def parse_window(raw: object, field: str = "evidence.gates.window") -> float:
    """``30m`` / ``1h`` / ``90s`` / ``1d`` (or a number of seconds) → seconds."""
    if isinstance(raw, bool):
        raise ValueError(f"{field}: expected a duration like 30m or 1h, not {raw!r}")
    if isinstance(raw, int | float):
        seconds = float(raw)
    elif isinstance(raw, str) and (found := _WINDOW.match(raw)):
        seconds = float(found.group(1)) * _UNIT_S[found.group(2)]
    else:
        raise ValueError(f"{field}: expected a duration like 30m or 1h, not {raw!r}")
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"{field}: must be a positive duration, not {raw!r}")
    return seconds


def describe_window(seconds: float) -> str:
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("m", 60.0)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def _number(raw: Mapping[str, Any], name: str, default: float, *, low: float, high: float) -> float:
    value = raw.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"evidence.gates.{name}: expected a number, not {value!r}")
    if not (math.isfinite(value) and low <= value <= high):
        raise ValueError(
            f"evidence.gates.{name}: must be between {low:g} and {high:g}, not {value}"
        )
    return float(value)


def parse_gates(raw: Mapping[str, Any] | None) -> GateSettings:
    """The ``evidence.gates`` block, checked; a bad field is named in the ValueError."""
    raw = raw or {}
    if not isinstance(raw, Mapping):
        raise ValueError(f"evidence.gates: expected a mapping, not {raw!r}")
    defaults = GateSettings()
    known = {"window", "min_compared", "min_parity", "p99_ratio", "p99_floor_ms",
             "billing_tolerance", "error_rate_epsilon"}  # fmt: skip
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ValueError(
            f"evidence.gates.{unknown[0]}: unknown field (known: {', '.join(sorted(known))})"
        )
    min_compared = raw.get("min_compared", defaults.min_compared)
    if isinstance(min_compared, bool) or not isinstance(min_compared, int) or min_compared < 0:
        raise ValueError(
            f"evidence.gates.min_compared: expected a whole number ≥ 0, not {min_compared!r}"
        )
    return GateSettings(
        window_s=parse_window(raw["window"]) if "window" in raw else defaults.window_s,
        min_compared=min_compared,
        min_parity=_number(raw, "min_parity", defaults.min_parity, low=0, high=1),
        p99_ratio=_number(raw, "p99_ratio", defaults.p99_ratio, low=0, high=math.inf),
        p99_floor_ms=_number(raw, "p99_floor_ms", defaults.p99_floor_ms, low=0, high=math.inf),
        billing_tolerance=_number(
            raw, "billing_tolerance", defaults.billing_tolerance, low=0, high=math.inf
        ),
        error_rate_epsilon=_number(
            raw, "error_rate_epsilon", defaults.error_rate_epsilon, low=0, high=1
        ),
    )


def is_gated(
    from_mode: str, to_mode: str, from_percent: float = 0.0, to_percent: float = 0.0
) -> bool:
    """Whether moving a route between these states needs evidence: only a move *up* out of
    shadow or canary. (The proxy applies the same rule in ``proxy.route_state.needs_evidence``;
    it cannot import this module.)"""
    if from_mode not in _GATED_FROM:
        return False
    if from_mode == "shadow":
        return to_mode in ("canary", "candidate")
    return to_mode == "candidate" or (to_mode == "canary" and to_percent > from_percent)


def _get(entry: Mapping[str, Any], *path: str) -> Any:
    node: Any = entry
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def check_gates(route_report: Mapping[str, Any], settings: GateSettings) -> list[GateFailure]:
    """Every gate the route fails over the window, in a fixed order; empty when it may move."""
    window = f"over {describe_window(settings.window_s)}"
    failures: list[GateFailure] = []
    compared = int(_num(route_report.get("compared")) or 0)
    agreed = int(
        (_num(route_report.get("matched")) or 0) + (_num(route_report.get("ignored")) or 0)
    )

    if compared < settings.min_compared:
        failures.append(GateFailure(
            "compared", f"compared {compared} < {settings.min_compared} {window}",
        ))  # fmt: skip

    parity = _num(route_report.get("parity"))
    if parity is None:
        failures.append(GateFailure("parity", f"parity unknown: nothing compared {window}"))
    elif parity < settings.min_parity:
        failures.append(GateFailure(
            "parity",
            f"parity {parity:.3f} < {settings.min_parity:.3f} {window} "
            f"({agreed} of {compared} compared matched)",
        ))  # fmt: skip

    legacy_p99 = _num(_get(route_report, "latency_ms", "legacy", "p99"))
    candidate_p99 = _num(_get(route_report, "latency_ms", "candidate", "p99"))
    if legacy_p99 is None or candidate_p99 is None:
        failures.append(GateFailure("p99", f"p99 latency unknown for one side {window}"))
    elif (
        candidate_p99 > settings.p99_ratio * legacy_p99
        and candidate_p99 - legacy_p99 > settings.p99_floor_ms
    ):
        failures.append(GateFailure(
            "p99",
            f"candidate p99 {candidate_p99:.1f} ms > {settings.p99_ratio:g} x legacy p99 "
            f"{legacy_p99:.1f} ms = {settings.p99_ratio * legacy_p99:.1f} ms {window} "
            f"(and slower by more than {settings.p99_floor_ms:g} ms)",
        ))  # fmt: skip

    failures.extend(_billing(route_report, compared, settings, window))

    legacy_rate = _num(_get(route_report, "error_rate", "legacy"))
    candidate_rate = _num(_get(route_report, "error_rate", "candidate"))
    errors = int(_num(route_report.get("candidate_errors")) or 0)
    if compared and (legacy_rate is None or candidate_rate is None):
        failures.append(GateFailure("error_rate", f"error rates unknown {window}"))
    elif candidate_rate is not None and legacy_rate is not None:
        limit = legacy_rate + settings.error_rate_epsilon
        if candidate_rate > limit + 1e-12:
            failures.append(GateFailure(
                "error_rate",
                f"candidate error rate {candidate_rate:.3f} > legacy {legacy_rate:.3f} + "
                f"{settings.error_rate_epsilon:.3f} = {limit:.3f} {window} "
                f"({errors} of {compared} compared failed)",
            ))  # fmt: skip
    return failures


def _billing(
    entry: Mapping[str, Any], compared: int, settings: GateSettings, window: str
) -> list[GateFailure]:
    """The billing gate. The joiner writes a row for every compared request that either side
    billed (a row is also how a side that billed alone shows up: ``missing``), and none for
    requests neither side billed, such as ``/v1/models``: no rows means nothing was billed, so
    there is no delta to refuse."""
    billing = entry.get("billing")
    requests = int(_num(_get(entry, "billing", "requests")) or 0)
    if not isinstance(billing, Mapping) or (requests == 0 and not billing.get("missing")):
        return []
    failures = []
    missing = int(_num(billing.get("missing")) or 0)
    if missing > 0:
        failures.append(GateFailure(
            "billing",
            f"billing rows missing for {missing} of {requests} requests {window} "
            "(one side billed, the other did not)",
        ))  # fmt: skip
    ratio = _num(billing.get("delta_ratio"))
    legacy = _num(billing.get("legacy_credits")) or 0.0
    candidate = _num(billing.get("candidate_credits")) or 0.0
    if ratio is None and legacy == 0.0 and candidate != 0.0:
        failures.append(GateFailure(
            "billing",
            f"candidate billed {candidate:.4f} credits where legacy billed 0 {window}",
        ))  # fmt: skip
    elif ratio is not None and abs(ratio) > settings.billing_tolerance:
        delta = _num(billing.get("delta_credits"))
        failures.append(GateFailure(
            "billing",
            f"billing delta {ratio:+.4f} beyond ±{settings.billing_tolerance:.4f} {window} "
            f"(candidate {candidate:.4f} vs legacy {legacy:.4f} credits"
            + (f", delta {delta:+.4f})" if delta is not None else ")"),
        ))  # fmt: skip
    return failures

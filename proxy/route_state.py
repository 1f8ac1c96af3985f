"""The live part of a route — mode, canary percent, shadow sample — and how it may change.

The YAML baseline says what a route *is* (path, upstreams, limits); the live state says how it
is served right now. Only these three fields change at run time, so a flip can never turn a
route into something the reviewed baseline did not describe.

Promotion walks one ladder (brief §1): legacy → shadow → canary 1% → 10% → 50% → candidate;
rollback walks it down. Everything here is pure: the store and the audit log are adapters
elsewhere (``route_store.py``, ``audit.py``).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass

from proxy._types import MODES, Mode
from proxy.config import RouteConfig
from proxy.routing import RouteTable

__all__ = [
    "LADDER",
    "ChangeRefused",
    "InvalidState",
    "RouteState",
    "apply_states",
    "needs_evidence",
    "promoted",
    "rolled_back",
    "state_of",
    "validated",
]

CANARY_STEPS = (1.0, 10.0, 50.0)


class ChangeRefused(ValueError):
    """A change that cannot be made now; the message says why and what would work."""


class InvalidState(ChangeRefused):
    """A state no proxy could serve (a bad mode, percent or sample)."""


@dataclass(frozen=True, slots=True)
class RouteState:
    mode: Mode
    canary_percent: float = 0.0
    shadow_sample: float = 1.0

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, raw: str | bytes) -> RouteState:
        data = json.loads(raw)
        return validated(
            cls(
                mode=data["mode"],
                canary_percent=float(data.get("canary_percent", 0.0)),
                shadow_sample=float(data.get("shadow_sample", 1.0)),
            )
        )

    def describe(self) -> str:
        if self.mode == "canary":
            return f"canary {self.canary_percent:g}%"
        return self.mode


# The promotion ladder, bottom to top.
LADDER: tuple[RouteState, ...] = (
    RouteState("legacy"),
    RouteState("shadow"),
    *(RouteState("canary", canary_percent=p) for p in CANARY_STEPS),
    RouteState("candidate"),
)


def _rank(state: RouteState) -> float:
    """Position on the ladder; a canary between steps sits between them."""
    order = {"legacy": 0.0, "shadow": 1.0, "candidate": 100.0}
    if state.mode == "canary":
        return 2.0 + state.canary_percent / 100.0
    return order[state.mode]


def validated(state: RouteState) -> RouteState:
    """Refuse states no proxy could serve; return the state otherwise."""
    if state.mode not in MODES:
        raise InvalidState(f"mode must be one of {', '.join(MODES)}, not {state.mode!r}")
    percent, sample = state.canary_percent, state.shadow_sample
    if not (math.isfinite(percent) and 0.0 <= percent <= 100.0):
        raise InvalidState(f"canary percent must be between 0 and 100, not {percent}")
    if not (math.isfinite(sample) and 0.0 <= sample <= 1.0):
        raise InvalidState(f"shadow sample must be between 0 and 1, not {sample}")
    if state.mode == "canary" and percent == 0.0:
        raise InvalidState("a canary needs a percent above 0 (e.g. --percent 1)")
    if state.mode != "canary" and percent != 0.0:
        raise InvalidState(f"a percent only applies to canary mode, not {state.mode}")
    return state


def promoted(current: RouteState) -> RouteState:
    """The next step up the ladder, keeping the shadow sample."""
    for step in LADDER:
        if _rank(step) > _rank(current):
            return dataclasses.replace(step, shadow_sample=current.shadow_sample)
    raise ChangeRefused("the route is already served by the candidate; nothing to promote to")


def rolled_back(current: RouteState, to: Mode | None = None) -> RouteState:
    """One step down the ladder, or straight to ``to`` (which must be below the current)."""
    if to is not None:
        target = {
            "legacy": LADDER[0],
            "shadow": LADDER[1],
            "canary": LADDER[2],
            "candidate": LADDER[-1],
        }[to]
        if _rank(target) >= _rank(current):
            raise ChangeRefused(
                f"rollback goes down: {to} is not below {current.describe()}; use set instead"
            )
        return dataclasses.replace(target, shadow_sample=current.shadow_sample)
    for step in reversed(LADDER):
        if _rank(step) < _rank(current):
            return dataclasses.replace(step, shadow_sample=current.shadow_sample)
    raise ChangeRefused("the route is already on legacy; nothing to roll back to")


def needs_evidence(before: RouteState, after: RouteState) -> bool:
    """Whether a change must pass the promotion gates: a move *up* out of shadow or canary
    (shadow → canary, canary → larger canary, either → candidate), whatever verb made it.
    Legacy → shadow risks no customer answer; a rollback never waits for evidence. (Same rule
    as ``shadow.gates.is_gated``, which the proxy cannot import.)"""
    return before.mode in ("shadow", "canary") and _rank(after) > _rank(before)


def state_of(route: RouteConfig) -> RouteState:
    return RouteState(route.mode, route.canary_percent, route.shadow.sample)


def apply_states(baseline: RouteTable, states: Mapping[str, RouteState]) -> RouteTable:
    """The baseline with live states laid over it; states for unknown routes are ignored
    (a route removed from the YAML stays removed)."""
    table = baseline
    for name, state in states.items():
        route = baseline.get(name)
        if route is None:
            continue
        shadow = dataclasses.replace(route.shadow, sample=state.shadow_sample)
        table = table.replace(
            dataclasses.replace(
                route, mode=state.mode, canary_percent=state.canary_percent, shadow=shadow
            )
        )
    return table

from __future__ import annotations

import pytest

from proxy.config import parse_config
from proxy.route_state import (
    LADDER,
    ChangeRefused,
    InvalidState,
    RouteState,
    apply_states,
    promoted,
    rolled_back,
    state_of,
    validated,
)
from proxy.routing import RouteTable


def test_promotion_walks_the_whole_ladder_then_stops() -> None:
    state = RouteState("legacy", shadow_sample=0.25)
    seen = [state.describe()]
    while state.mode != "candidate":
        state = promoted(state)
        seen.append(state.describe())
        assert state.shadow_sample == 0.25  # sampling survives a promotion
    assert seen == ["legacy", "shadow", "canary 1%", "canary 10%", "canary 50%", "candidate"]
    with pytest.raises(ChangeRefused, match="nothing to promote"):
        promoted(state)


def test_rollback_walks_down_one_step_or_to_a_named_mode() -> None:
    assert rolled_back(RouteState("candidate")) == RouteState("canary", 50.0)
    assert rolled_back(RouteState("canary", 1.0)) == RouteState("shadow")
    assert rolled_back(RouteState("shadow")) == RouteState("legacy")
    assert rolled_back(RouteState("candidate"), to="shadow") == RouteState("shadow")
    assert rolled_back(RouteState("canary", 10.0), to="legacy") == RouteState("legacy")
    with pytest.raises(ChangeRefused, match="nothing to roll back"):
        rolled_back(RouteState("legacy"))
    with pytest.raises(ChangeRefused, match="rollback goes down"):
        rolled_back(RouteState("shadow"), to="candidate")


def test_a_canary_between_steps_moves_to_the_neighbouring_steps() -> None:
    assert promoted(RouteState("canary", 5.0)) == RouteState("canary", 10.0)
    assert rolled_back(RouteState("canary", 5.0)) == RouteState("canary", 1.0)
    assert promoted(RouteState("canary", 75.0)) == RouteState("candidate")


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (RouteState("canary", 0.0), "needs a percent above 0"),
        (RouteState("canary", 101.0), "between 0 and 100"),
        (RouteState("shadow", 5.0), "only applies to canary"),
        (RouteState("shadow", shadow_sample=1.5), "between 0 and 1"),
        (RouteState("canary", float("nan")), "between 0 and 100"),
        (RouteState("sideways"), "mode must be one of"),  # type: ignore[arg-type]
    ],
)
def test_states_no_proxy_could_serve_are_refused(state: RouteState, message: str) -> None:
    with pytest.raises(InvalidState, match=message):
        validated(state)


def test_json_round_trip_and_the_ladder_is_valid() -> None:
    for step in LADDER:
        assert RouteState.from_json(validated(step).to_json()) == step


def test_live_states_overlay_the_baseline_without_touching_it() -> None:
    config = parse_config(
        "upstreams:\n  legacy: {url: http://127.0.0.1:1}\n  candidate: {url: http://127.0.0.1:2}\n"
        "routes:\n"
        "  - {name: a, match: {path: /a}, mode: legacy, shadow: {sample: 0.5, timeout_ms: 99}}\n"
        "  - {name: b, match: {path: /b}, mode: legacy}\n"
    )
    baseline = RouteTable.from_config(config)
    live = apply_states(
        baseline, {"a": RouteState("canary", 10.0, 0.2), "gone": RouteState("shadow")}
    )
    a = live.get("a")
    assert a is not None
    assert (a.mode, a.canary_percent, a.shadow.sample, a.shadow.timeout_ms) == (
        "canary",
        10.0,
        0.2,
        99,
    )
    assert state_of(live.get("b")) == RouteState("legacy")
    assert state_of(baseline.get("a")) == RouteState("legacy", 0.0, 0.5)
    assert live.get("gone") is None

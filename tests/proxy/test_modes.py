from __future__ import annotations

import random as stdlib_random
import re
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proxy._types import MODES, Mode
from proxy.config import RouteConfig, ShadowSettings
from proxy.modes import Decision, canary_bucket, choose_mode, upstream_for

ALICE = b"sk_test_alice"  # bucket 4078
BOB = b"sk_test_bob"  # bucket 5146


def test_public_surface_is_pinned() -> None:
    import proxy.modes

    assert set(proxy.modes.__all__) == {"Decision", "canary_bucket", "choose_mode", "upstream_for"}


def route(
    mode: Mode,
    *,
    sample: float = 1.0,
    percent: float = 0.0,
    reverse: bool = False,
    legacy: str = "legacy",
    candidate: str = "candidate",
) -> RouteConfig:
    return RouteConfig(
        name="translate",
        path="/translate",
        methods=None,
        websocket=False,
        mode=mode,
        shadow=ShadowSettings(sample=sample, reverse=reverse),
        canary_percent=percent,
        legacy=legacy,
        candidate=candidate,
    )


def fixed(value: float) -> Callable[[], float]:
    return lambda: value


def never() -> float:
    raise AssertionError("the random source must not be consulted here")


def test_canary_buckets_are_pinned_across_releases() -> None:
    # Changing the hash would move live customers between legacy and candidate.
    assert canary_bucket(ALICE) == 4078
    assert canary_bucket(BOB) == 5146
    assert canary_bucket(b"") == canary_bucket(b"")


@given(key=st.binary(max_size=64))
def test_canary_bucket_is_in_range(key: bytes) -> None:
    assert 0 <= canary_bucket(key) < 10_000


def test_unmatched_goes_to_legacy_without_mirror_or_sampling() -> None:
    assert choose_mode(None, api_key=ALICE, random=never) == Decision("legacy", False, "unmatched")


def test_legacy_mode_never_mirrors() -> None:
    decision = choose_mode(route("legacy", sample=1.0), api_key=ALICE, random=never)
    assert decision == Decision("legacy", False, "legacy")


@pytest.mark.parametrize(
    ("sample", "draw", "expected"),
    [
        (0.5, 0.3, Decision("legacy", True, "shadow_sampled")),
        (0.25, 0.3, Decision("legacy", False, "shadow_sampled_out")),
        (0.3, 0.3, Decision("legacy", False, "shadow_sampled_out")),
        (1.0, 0.999999, Decision("legacy", True, "shadow_sampled")),
        (0.0, 0.0, Decision("legacy", False, "shadow_sampled_out")),
    ],
)
def test_shadow_mode_samples_the_mirror(sample: float, draw: float, expected: Decision) -> None:
    assert choose_mode(route("shadow", sample=sample), api_key=None, random=fixed(draw)) == expected


def test_canary_key_below_the_percentage_is_served_by_the_candidate() -> None:
    canary = route("canary", percent=40.79, sample=1.0)  # buckets 0..4078
    decision = choose_mode(canary, api_key=ALICE, random=never)
    assert decision == Decision("candidate", False, "canary_candidate")


@pytest.mark.parametrize(
    ("draw", "expected"),
    [
        (0.3, Decision("legacy", True, "canary_legacy_sampled")),
        (0.7, Decision("legacy", False, "canary_legacy_sampled_out")),
    ],
)
def test_canary_key_above_the_percentage_stays_on_legacy_and_is_sampled(
    draw: float, expected: Decision
) -> None:
    canary = route("canary", percent=40.78, sample=0.5)  # buckets 0..4077: ALICE is just out
    assert choose_mode(canary, api_key=ALICE, random=fixed(draw)) == expected


@pytest.mark.parametrize(
    ("percent", "key", "serve"),
    [
        (0.0, ALICE, "legacy"),
        (100.0, ALICE, "candidate"),
        (100.0, BOB, "candidate"),
        (50.0, ALICE, "candidate"),
        (50.0, BOB, "legacy"),
    ],
)
def test_canary_percentage_edges(percent: float, key: bytes, serve: str) -> None:
    decision = choose_mode(route("canary", percent=percent), api_key=key, random=fixed(0.5))
    assert decision.serve == serve


@pytest.mark.parametrize("key", [None, b""])
def test_canary_without_a_key_stays_on_legacy_unmirrored(key: bytes | None) -> None:
    canary = route("canary", percent=100.0, sample=1.0)
    assert choose_mode(canary, api_key=key, random=never) == Decision(
        "legacy", False, "canary_no_key"
    )


def test_candidate_mode_without_reverse_never_mirrors() -> None:
    candidate = route("candidate", sample=1.0, reverse=False)
    assert choose_mode(candidate, api_key=None, random=never) == Decision(
        "candidate", False, "candidate"
    )


@pytest.mark.parametrize(
    ("draw", "expected"),
    [
        (0.3, Decision("candidate", True, "candidate_reverse_sampled")),
        (0.6, Decision("candidate", False, "candidate_reverse_sampled_out")),
    ],
)
def test_candidate_mode_reverse_shadow_is_sampled(draw: float, expected: Decision) -> None:
    candidate = route("candidate", sample=0.5, reverse=True)
    assert choose_mode(candidate, api_key=ALICE, random=fixed(draw)) == expected


def test_decisions_are_shared_not_allocated_per_request() -> None:
    shadow = route("shadow", sample=0.5)
    first = choose_mode(shadow, api_key=None, random=fixed(0.1))
    assert choose_mode(shadow, api_key=None, random=fixed(0.2)) is first


def test_every_reason_is_a_distinct_snake_case_label() -> None:
    seen: set[str] = set()
    for mode in MODES:
        for percent in (0.0, 100.0):
            for reverse in (False, True):
                for key in (None, ALICE):
                    for draw in (0.1, 0.9):
                        r = route(mode, sample=0.5, percent=percent, reverse=reverse)
                        seen.add(choose_mode(r, api_key=key, random=fixed(draw)).reason)
    seen.add(choose_mode(None, api_key=None, random=never).reason)
    assert seen == {
        "unmatched",
        "legacy",
        "shadow_sampled",
        "shadow_sampled_out",
        "canary_candidate",
        "canary_legacy_sampled",
        "canary_legacy_sampled_out",
        "canary_no_key",
        "candidate",
        "candidate_reverse_sampled",
        "candidate_reverse_sampled_out",
    }
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", reason) for reason in seen)


PERCENT = st.floats(min_value=0.0, max_value=100.0, allow_nan=False)


@given(key=st.binary(min_size=1, max_size=64), p=PERCENT, p_later=PERCENT)
def test_canary_is_sticky_as_the_percentage_grows(key: bytes, p: float, p_later: float) -> None:
    low, high = sorted((p, p_later))
    at_low = choose_mode(route("canary", percent=low), api_key=key, random=fixed(0.5))
    at_high = choose_mode(route("canary", percent=high), api_key=key, random=fixed(0.5))
    if at_low.serve == "candidate":
        assert at_high.serve == "candidate"
    if at_high.serve == "legacy":
        assert at_low.serve == "legacy"


def test_canary_share_is_about_the_percentage() -> None:
    source = stdlib_random.Random(20240601)
    canary = route("canary", percent=10.0, sample=0.0)
    keys = [source.randbytes(24) for _ in range(10_000)]
    on_candidate = sum(
        choose_mode(canary, api_key=key, random=fixed(0.5)).serve == "candidate" for key in keys
    )
    assert 900 <= on_candidate <= 1100


def test_canary_resolution_is_a_hundredth_of_a_percent() -> None:
    # 0.07 * 100 is 7.000000000000001; the key in bucket 7 must not be in a 0.07 % canary.
    key = next(
        bytes([a, b]) for a in range(256) for b in range(256) if canary_bucket(bytes([a, b])) == 7
    )
    assert (
        choose_mode(route("canary", percent=0.07), api_key=key, random=fixed(0.5)).serve == "legacy"
    )
    assert (
        choose_mode(route("canary", percent=0.08), api_key=key, random=fixed(0.5)).serve
        == "candidate"
    )


def test_upstream_for_names_the_route_upstreams() -> None:
    custom = route("canary", legacy="legacy-eu", candidate="candidate-eu")
    assert upstream_for(custom, "legacy") == "legacy-eu"
    assert upstream_for(custom, "candidate") == "candidate-eu"


@pytest.mark.parametrize("side", ["legacy", "candidate"])
def test_upstream_for_an_unmatched_request_is_always_legacy(side: str) -> None:
    assert upstream_for(None, side) == "legacy"  # type: ignore[arg-type]

"""Choosing, per request, which side serves a route and whether the other side sees a mirror.

This is the ``choose_mode`` step of the request pipeline (STYLE house rule 4). It is a pure
function of the matched route, the caller's API key and an injected random source (house rule
9), so every branch is testable without I/O and a test can pin the sampling. The outcome is one
of a few precomputed :class:`Decision` values whose ``reason`` is a metrics label.

Canary is sticky per API key: a key's bucket is a stable hash, and a key is on the candidate
when its bucket is below the route's percentage (in hundredths of a percent). Raising the
percentage only adds keys, so a customer moved to the candidate stays there as a canary widens;
a request without a key cannot be made sticky and stays on legacy.

What it deliberately doesn't do: find the API key in headers, enforce mirror limits (body size,
queue capacity, timeouts; the mirror does), or send anything anywhere.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from proxy._types import Side
from proxy.config import RouteConfig

__all__ = ["Decision", "canary_bucket", "choose_mode", "upstream_for"]

# Buckets per 100 %: a canary percentage has a resolution of 0.01 %.
_BUCKETS = 10_000


@dataclass(frozen=True, slots=True)
class Decision:
    """Who serves this request, whether the other side gets a mirrored copy, and why.

    ``reason`` is a short snake_case label, stable across releases, for metrics.
    """

    serve: Side
    mirror: bool
    reason: str


# Every decision there is, built once: choosing allocates nothing per request.
_UNMATCHED = Decision("legacy", mirror=False, reason="unmatched")
_LEGACY = Decision("legacy", mirror=False, reason="legacy")
_SHADOW_SAMPLED = Decision("legacy", mirror=True, reason="shadow_sampled")
_SHADOW_SAMPLED_OUT = Decision("legacy", mirror=False, reason="shadow_sampled_out")
_CANARY_CANDIDATE = Decision("candidate", mirror=False, reason="canary_candidate")
_CANARY_LEGACY_SAMPLED = Decision("legacy", mirror=True, reason="canary_legacy_sampled")
_CANARY_LEGACY_SAMPLED_OUT = Decision("legacy", mirror=False, reason="canary_legacy_sampled_out")
_CANARY_NO_KEY = Decision("legacy", mirror=False, reason="canary_no_key")
_CANDIDATE = Decision("candidate", mirror=False, reason="candidate")
_CANDIDATE_REVERSE_SAMPLED = Decision("candidate", mirror=True, reason="candidate_reverse_sampled")
_CANDIDATE_REVERSE_SAMPLED_OUT = Decision(
    "candidate", mirror=False, reason="candidate_reverse_sampled_out"
)


def canary_bucket(api_key: bytes) -> int:
    """The key's canary bucket in ``[0, 10000)``: the same key always gets the same bucket,
    in every process and release (blake2b, not ``hash()``, which is salted per process)."""
    digest = hashlib.blake2b(api_key, digest_size=8).digest()
    return int.from_bytes(digest, "big") % _BUCKETS


def choose_mode(
    route: RouteConfig | None, *, api_key: bytes | None, random: Callable[[], float]
) -> Decision:
    """Decide for one request; ``random`` returns a float in ``[0, 1)`` and is called at most
    once, only when the route's mode samples mirroring.

    An unmatched request always goes to legacy, never mirrored. An empty API key counts as
    none.
    """
    if route is None:
        return _UNMATCHED
    if route.mode == "shadow":
        return _SHADOW_SAMPLED if random() < route.shadow.sample else _SHADOW_SAMPLED_OUT
    if route.mode == "canary":
        return _choose_canary(route, api_key, random)
    if route.mode == "candidate":
        if not route.shadow.reverse:
            return _CANDIDATE
        if random() < route.shadow.sample:
            return _CANDIDATE_REVERSE_SAMPLED
        return _CANDIDATE_REVERSE_SAMPLED_OUT
    return _LEGACY


def _choose_canary(
    route: RouteConfig, api_key: bytes | None, random: Callable[[], float]
) -> Decision:
    if not api_key:
        return _CANARY_NO_KEY
    # Rounded to whole buckets: 0.07 * 100 is 7.000000000000001 and 0.29 * 100 is
    # 28.999999999999996, one bucket too many or too few if compared raw or truncated.
    # round() is monotonic in the percentage, which is what keeps the canary sticky.
    if canary_bucket(api_key) < round(route.canary_percent * (_BUCKETS // 100)):
        return _CANARY_CANDIDATE
    if random() < route.shadow.sample:
        return _CANARY_LEGACY_SAMPLED
    return _CANARY_LEGACY_SAMPLED_OUT


def upstream_for(route: RouteConfig | None, side: Side) -> str:
    """The name of the upstream serving ``side`` of ``route``.

    Without a route the answer is always the legacy upstream, whatever ``side`` says: an
    unmatched request is never sent to the candidate.
    """
    if route is None:
        return "legacy"
    return route.legacy if side == "legacy" else route.candidate

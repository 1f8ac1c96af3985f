"""Latency profiles: how long a model call takes, so load tests behave like inference does.

A call takes ``fixed_ms + per_unit_ms * units + jitter``, the jitter drawn from a seed derived
from the call's input, so the same call always takes the same time (runs are reproducible)
while different calls spread out like a real model's do.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

__all__ = ["LatencyProfile"]


@dataclass(frozen=True, slots=True)
class LatencyProfile:
    fixed_ms: float = 0.0
    per_unit_ms: float = 0.0
    jitter_ms: float = 0.0

    def delay_s(self, units: float, seed: bytes) -> float:
        """Seconds this call should take in total; deterministic for ``seed``."""
        digest = hashlib.blake2b(seed, digest_size=8).digest()
        fraction = int.from_bytes(digest, "big") / 2**64  # uniform in [0, 1)
        return max(0.0, self.fixed_ms + self.per_unit_ms * units + self.jitter_ms * fraction) / 1000

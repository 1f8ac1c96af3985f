"""Latency profiles: how long a model call takes, so load tests behave like inference does.

A call takes ``fixed_ms + per_unit_ms * units + jitter``, the jitter drawn from a seed derived
from the call's input, so the same call always takes the same time (runs are reproducible)
while different calls spread out like a real model's do.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

__all__ = ["LatencyProfile", "StreamProfile"]


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


@dataclass(frozen=True, slots=True)
class StreamProfile:
    """A token stream's timing: time to first token (fixed + per prompt token + jitter), then
    each token (per token + jitter). Like ``LatencyProfile``, the jitter comes from the call's
    seed — and, per token, its index — so a replayed call streams with the same rhythm."""

    first_token_ms: float = 0.0
    per_prompt_token_ms: float = 0.0
    per_token_ms: float = 0.0
    jitter_ms: float = 0.0

    def first_token_s(self, prompt_tokens: int, seed: bytes) -> float:
        delay = self.first_token_ms + self.per_prompt_token_ms * prompt_tokens
        return max(0.0, delay + self.jitter_ms * _fraction(seed + b"|first")) / 1000

    def tokens_s(self, tokens: int, index: int, seed: bytes) -> float:
        """Seconds the ``index``-th piece of the stream takes, ``tokens`` tokens long."""
        jitter = self.jitter_ms * _fraction(seed + b"|" + str(index).encode())
        return max(0.0, self.per_token_ms * tokens + jitter) / 1000


def _fraction(seed: bytes) -> float:
    """Uniform in [0, 1), a pure function of ``seed``."""
    return int.from_bytes(hashlib.blake2b(seed, digest_size=8).digest(), "big") / 2**64

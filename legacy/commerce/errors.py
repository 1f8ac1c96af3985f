"""Errors of the commercial layer; each maps to one status and envelope code.

CommerceError
├── InvalidApiKey        403 (sarvam-style routes) / 401 (OpenAI-style and internal API)
├── InsufficientQuota    402 insufficient_quota_error
├── RateLimited          429 rate_limit_exceeded_error, with Retry-After
├── InvalidUsage         400 (unknown price, unit mismatch, negative quantity)
├── UnknownReservation   404
└── ReservationClosed    409 (released or expired; settled ones replay instead)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from legacy.commerce.ratelimit import RateDecision

__all__ = [
    "CommerceError",
    "InsufficientQuota",
    "InvalidApiKey",
    "InvalidUsage",
    "RateLimited",
    "ReservationClosed",
    "UnknownReservation",
]


class CommerceError(Exception):
    status = 500


class InvalidApiKey(CommerceError):
    status = 403


class InsufficientQuota(CommerceError):
    status = 402


class RateLimited(CommerceError):
    status = 429

    def __init__(self, message: str, decision: RateDecision) -> None:
        super().__init__(message)
        self.decision = decision


class InvalidUsage(CommerceError):
    status = 400


class UnknownReservation(CommerceError):
    status = 404


class ReservationClosed(CommerceError):
    status = 409

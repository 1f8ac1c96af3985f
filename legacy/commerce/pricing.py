"""Metering arithmetic: how many credits a quantity of units costs.

The rule, documented once and used everywhere (internal API, settlement, the Go candidate's
expectations): a request's charge is ``quantity * credits_per_unit`` computed exactly in
``Decimal`` and rounded **half-up to 4 decimal places** (0.0001 credit), once per request.
Consequently N small charges may differ from one charge for their total by at most
N * 0.00005 credits; that is the only drift there is (property-tested). Never float.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Final, Literal

__all__ = ["CREDIT_QUANTUM", "UNITS", "Unit", "charge", "to_credits"]

Unit = Literal["characters", "audio_seconds", "tokens_in", "tokens_out", "pages", "requests"]
UNITS: Final[tuple[Unit, ...]] = (
    "characters", "audio_seconds", "tokens_in", "tokens_out", "pages", "requests",
)  # fmt: skip
CREDIT_QUANTUM: Final = Decimal("0.0001")


def to_credits(value: Decimal) -> Decimal:
    """Round to the credit quantum, half up (0.00005 → 0.0001)."""
    return value.quantize(CREDIT_QUANTUM, rounding=ROUND_HALF_UP)


def charge(quantity: Decimal, credits_per_unit: Decimal) -> Decimal:
    """The credits one request owes for ``quantity`` units."""
    if quantity < 0:
        raise ValueError(f"a quantity cannot be negative ({quantity})")
    return to_credits(quantity * credits_per_unit)

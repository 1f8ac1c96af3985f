from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from legacy.commerce.pricing import CREDIT_QUANTUM, charge, to_credits

PRICES = st.decimals(min_value=Decimal(0), max_value=Decimal(5), places=8)
QUANTITIES = st.decimals(min_value=Decimal(0), max_value=Decimal(100_000), places=4)


@given(price=PRICES, parts=st.lists(QUANTITIES, min_size=1, max_size=200))
def test_many_small_charges_drift_from_one_big_by_at_most_half_a_quantum_each(price, parts) -> None:
    many = sum((charge(q, price) for q in parts), Decimal(0))
    one = charge(sum(parts, Decimal(0)), price)
    assert abs(many - one) <= len(parts) * CREDIT_QUANTUM / 2 + CREDIT_QUANTUM / 2


@given(price=PRICES, quantity=QUANTITIES)
def test_a_charge_is_exact_to_the_quantum_and_never_negative(price, quantity) -> None:
    credits = charge(quantity, price)
    assert credits >= 0
    assert credits == credits.quantize(CREDIT_QUANTUM)
    assert abs(credits - quantity * price) <= CREDIT_QUANTUM / 2


def test_half_a_quantum_rounds_up_and_floats_never_enter() -> None:
    assert to_credits(Decimal("0.00005")) == Decimal("0.0001")
    assert to_credits(Decimal("0.000049")) == Decimal("0.0000")
    assert charge(Decimal(118), Decimal("0.001")) == Decimal("0.1180")
    with pytest.raises(ValueError, match="negative"):
        charge(Decimal(-1), Decimal(1))

"""A pool on the test's fresh database, and the billing service on it."""

from __future__ import annotations

import pytest

from legacy.commerce.billing import Billing


@pytest.fixture
async def billing(pool) -> Billing:
    return Billing(pool)

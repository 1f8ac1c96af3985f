"""A pool on the test's fresh database, and the billing service on it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from legacy.commerce.billing import Billing


@pytest.fixture
async def pool(database_url) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(database_url, min_size=2, max_size=20)
    yield pool
    await pool.close()


@pytest.fixture
async def billing(pool) -> Billing:
    return Billing(pool)

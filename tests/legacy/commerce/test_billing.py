"""Wallets and ledgers against real PostgreSQL (and Redis for the rate limiter)."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import asyncpg
import pytest
from redis.asyncio import Redis

from legacy.commerce.billing import Billing
from legacy.commerce.errors import (
    InsufficientQuota,
    InvalidApiKey,
    InvalidUsage,
    RateLimited,
    ReservationClosed,
    UnknownReservation,
)
from legacy.commerce.ratelimit import RateLimiter
from legacy.commerce.tenants import add_key, create_tenant, show_tenant, top_up

pytestmark = pytest.mark.anyio

ONE_CREDIT_OF_TEXT = Decimal(500)  # translate costs 0.002 credits per character


async def tenant(pool, name: str = "acme", credits: str = "50", **kwargs) -> str:
    async with pool.acquire() as conn:
        _, key = await create_tenant(conn, name, Decimal(credits), **kwargs)
    return key


async def wallet(pool, name: str = "acme"):
    async with pool.acquire() as conn:
        return await show_tenant(conn, name)


async def bill(billing: Billing, key: str, request_id: str, chars: Decimal = ONE_CREDIT_OF_TEXT):
    auth = await billing.authorize(
        api_key=key, route="translate", unit="characters", quantity=chars, request_id=request_id
    )
    return await billing.settle(auth.reservation_id, unit="characters", quantity=chars)


async def test_500_concurrent_requests_on_a_wallet_for_exactly_50(pool, billing) -> None:
    key = await tenant(pool, credits="50")
    results = await asyncio.gather(
        *(bill(billing, key, f"r-{i}") for i in range(500)), return_exceptions=True
    )
    settled = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, InsufficientQuota)]
    assert len(settled) == 50
    assert len(refused) == 450
    summary = await wallet(pool)
    assert summary.balance == Decimal("0.0000")
    assert summary.reserved == Decimal("0.0000")
    assert summary.live_requests == 50
    assert summary.live_credits == Decimal("50.0000") == sum(s.credits for s in settled)


async def test_a_settle_replayed_ten_times_writes_one_row(pool, billing) -> None:
    key = await tenant(pool)
    auth = await billing.authorize(
        api_key=key, route="translate", unit="characters", quantity=Decimal(118), request_id="once"
    )
    replies = [
        await billing.settle(auth.reservation_id, unit="characters", quantity=Decimal(118))
        for _ in range(10)
    ]
    assert {r.ledger_id for r in replies} == {replies[0].ledger_id}
    assert [r.replayed for r in replies] == [False] + [True] * 9
    assert replies[0].credits == Decimal("0.2360")
    summary = await wallet(pool)
    assert (summary.live_requests, summary.balance) == (1, Decimal("49.7640"))


async def test_concurrent_settles_of_one_reservation_charge_once(pool, billing) -> None:
    key = await tenant(pool)
    auth = await billing.authorize(
        api_key=key, route="translate", unit="characters", quantity=Decimal(500), request_id="race"
    )
    replies = await asyncio.gather(
        *(
            billing.settle(auth.reservation_id, unit="characters", quantity=Decimal(500))
            for _ in range(10)
        )
    )
    assert sum(not r.replayed for r in replies) == 1
    assert (await wallet(pool)).balance == Decimal("49.0000")


async def test_one_request_id_through_two_reservations_is_charged_once(pool, billing) -> None:
    key = await tenant(pool)
    first = await bill(billing, key, "dup")
    second = await bill(billing, key, "dup")
    assert second.replayed
    assert second.ledger_id == first.ledger_id
    summary = await wallet(pool)
    assert (summary.balance, summary.reserved, summary.live_requests) == (Decimal("49.0000"), 0, 1)


async def test_a_crashed_requests_hold_expires_and_is_released(pool) -> None:
    billing = Billing(pool, reservation_ttl_s=0.2)
    key = await tenant(pool)
    auth = await billing.authorize(
        api_key=key,
        route="translate",
        unit="characters",
        quantity=Decimal(5000),
        request_id="crash",
    )
    assert (await wallet(pool)).reserved == Decimal("10.0000")
    assert await billing.release_expired() == 0  # not yet
    await asyncio.sleep(0.3)
    assert await billing.release_expired() == 1
    summary = await wallet(pool)
    assert (summary.reserved, summary.balance) == (Decimal("0.0000"), Decimal("50.0000"))
    with pytest.raises(ReservationClosed, match="expired"):
        await billing.settle(auth.reservation_id, unit="characters", quantity=Decimal(10))


async def test_a_shadow_request_touches_only_the_shadow_ledger(pool, redis_url) -> None:
    redis = Redis.from_url(redis_url)
    billing = Billing(pool, limiter=RateLimiter(redis))
    key = await tenant(pool, requests_per_minute=100)
    before = await wallet(pool)
    auth = await billing.authorize(
        api_key=key, route="translate", unit="characters", quantity=Decimal(500), request_id="s-1",
        shadow=True,
    )  # fmt: skip
    settled = await billing.settle(auth.reservation_id, unit="characters", quantity=Decimal(490))
    after = await wallet(pool)
    assert (settled.ledger, settled.credits) == ("shadow", Decimal("0.9800"))
    assert (after.balance, after.reserved) == (before.balance, before.reserved)
    assert after.live_requests == 0
    assert (after.shadow_requests, after.shadow_credits) == (1, Decimal("0.9800"))
    assert await redis.dbsize() == 0  # no rate-limit counter was touched
    await redis.aclose()


async def test_the_rate_limit_refuses_with_a_retry_after(pool, redis_url) -> None:
    redis = Redis.from_url(redis_url)
    billing = Billing(pool, limiter=RateLimiter(redis))
    key = await tenant(pool, requests_per_minute=3)
    for i in range(3):
        await bill(billing, key, f"ok-{i}", Decimal(10))
    with pytest.raises(RateLimited) as refused:
        await bill(billing, key, "too-many", Decimal(10))
    assert 1 <= refused.value.decision.retry_after <= 60
    assert (await wallet(pool)).reserved == 0  # refused before holding anything
    await redis.aclose()


async def test_a_settle_beyond_the_hold_is_capped_at_what_the_wallet_can_pay(pool, billing) -> None:
    key = await tenant(pool, credits="2")
    auth = await billing.authorize(
        api_key=key, route="translate", unit="characters", quantity=Decimal(500), request_id="over"
    )
    settled = await billing.settle(auth.reservation_id, unit="characters", quantity=Decimal(5000))
    assert settled.credits == Decimal("2.0000")  # 10 credits due, 2 in the wallet
    assert (await wallet(pool)).balance == Decimal("0.0000")


async def test_streams_extend_their_hold_while_the_wallet_allows(pool, billing) -> None:
    key = await tenant(pool, credits="3")
    auth = await billing.authorize(
        api_key=key,
        route="translate",
        unit="characters",
        quantity=Decimal(500),
        request_id="stream",
    )
    assert await billing.extend(auth.reservation_id, Decimal(500)) == Decimal("2.0000")
    with pytest.raises(InsufficientQuota):
        await billing.extend(auth.reservation_id, Decimal(1000))
    settled = await billing.settle(auth.reservation_id, unit="characters", quantity=Decimal(800))
    assert settled.credits == Decimal("1.6000")
    summary = await wallet(pool)
    assert (summary.balance, summary.reserved) == (Decimal("1.4000"), Decimal("0.0000"))


async def test_refusals_name_what_is_wrong(pool, billing) -> None:
    key = await tenant(pool)
    with pytest.raises(InvalidApiKey, match="api-subscription-key"):
        await billing.tenant_for_key(None)
    with pytest.raises(InvalidApiKey, match="not valid"):
        await billing.tenant_for_key("sk_nope")
    with pytest.raises(InvalidUsage, match="no price"):
        await billing.authorize(
            api_key=key, route="nope", unit="characters", quantity=Decimal(1), request_id="x"
        )
    with pytest.raises(InvalidUsage, match="unit must be one of"):
        await billing.authorize(
            api_key=key, route="translate", unit="bytes", quantity=Decimal(1), request_id="x"
        )
    with pytest.raises(InvalidUsage, match="non-negative"):
        await billing.authorize(
            api_key=key, route="translate", unit="characters", quantity=Decimal(-1), request_id="x"
        )
    auth = await billing.authorize(
        api_key=key, route="translate", unit="characters", quantity=Decimal(1), request_id="u"
    )
    with pytest.raises(InvalidUsage, match="meters characters"):
        await billing.settle(auth.reservation_id, unit="tokens_in", quantity=Decimal(1))
    with pytest.raises(UnknownReservation):
        await billing.settle(uuid.uuid4(), unit="characters", quantity=Decimal(1))


async def test_an_empty_wallet_refuses_until_topped_up(pool, billing) -> None:
    key = await tenant(pool, credits="0")
    with pytest.raises(InsufficientQuota, match="top it up"):
        await bill(billing, key, "broke")
    async with pool.acquire() as conn:
        assert await top_up(conn, "acme", Decimal("1")) == Decimal("1.0000")
        extra = await add_key(conn, "acme")
    await bill(billing, extra, "paid")  # a second key bills the same wallet
    assert (await wallet(pool)).balance == Decimal("0.0000")


async def test_ledgers_are_append_only(pool, billing) -> None:
    key = await tenant(pool)
    await bill(billing, key, "kept")
    async with pool.acquire() as conn:
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await conn.execute("UPDATE legacy.ledger SET credits = 0")
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await conn.execute("DELETE FROM legacy.ledger")
        for table in ("legacy.ledger", "legacy.shadow_ledger"):
            with pytest.raises(asyncpg.RaiseError, match="append-only"):
                await conn.execute(f"TRUNCATE {table} CASCADE")


async def test_every_priced_route_has_a_rate_limit_class(pool) -> None:
    """A route missing from ROUTE_CLASSES would be limited on a bucket of its own (found:
    speech-to-text-translate-ws was, while the other speech routes shared one)."""
    from legacy.commerce.billing import ROUTE_CLASSES

    priced = {r["route"] for r in await pool.fetch("SELECT DISTINCT route FROM legacy.prices")}
    assert priced - set(ROUTE_CLASSES) == set()

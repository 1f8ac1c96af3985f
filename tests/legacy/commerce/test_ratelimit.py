"""The rate limiter against a real Redis: exactness under concurrency, across processes, and
as the window slides."""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from legacy.commerce import ratelimit
from legacy.commerce.ratelimit import RateDecision, RateLimiter, RateLimits, rate_limit_headers

pytestmark = pytest.mark.anyio

PROJECT_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    # Room for every concurrent check to be in flight at once (redis-py's default is 100).
    client = Redis.from_url(redis_url, max_connections=256)
    try:
        yield client
    finally:
        await client.aclose()


def test_exports_are_pinned() -> None:
    assert set(ratelimit.__all__) == {
        "RateDecision",
        "RateLimiter",
        "RateLimits",
        "rate_limit_headers",
    }


async def test_exactly_the_limit_of_concurrent_checks_is_admitted(redis: Redis) -> None:
    limiter = RateLimiter(redis)
    now = time.time()
    decisions = await asyncio.gather(
        *(limiter.check("k1", "text", RateLimits(50)) for _ in range(200))
    )
    admitted = [d for d in decisions if d.allowed]
    refused = [d for d in decisions if not d.allowed]
    assert len(admitted) == 50
    assert sorted(d.remaining for d in admitted) == list(range(50))
    assert all(d.retry_after == 0 and d.exceeded is None for d in admitted)
    for decision in refused:
        assert decision.exceeded == "requests"
        assert 1 <= decision.retry_after <= 60
        assert decision.reset_at > now
        assert decision.remaining == 0
        assert decision.limit == 50


async def test_units_limit_refuses_without_consuming(redis: Redis) -> None:
    limiter = RateLimiter(redis)
    limits = RateLimits(requests_per_minute=10, units_per_minute=100)
    assert (await limiter.check("k1", "speech", limits, units=70)).allowed
    refused = await limiter.check("k1", "speech", limits, units=40)
    assert not refused.allowed
    assert refused.exceeded == "units"
    assert 1 <= refused.retry_after <= 60
    assert refused.remaining == 9  # requests still fit; units don't
    # The refusal consumed nothing: 30 units and 9 requests are still there.
    fits = await limiter.check("k1", "speech", limits, units=30)
    assert fits.allowed
    assert fits.remaining == 8
    assert not (await limiter.check("k1", "speech", limits, units=1)).allowed


async def test_a_request_larger_than_the_unit_budget_never_fits(redis: Redis) -> None:
    limiter = RateLimiter(redis)
    decision = await limiter.check("k1", "text", RateLimits(0, 10), units=11)
    assert (decision.allowed, decision.exceeded, decision.retry_after) == (False, "units", 60)


async def test_keys_and_route_classes_have_separate_budgets(redis: Redis) -> None:
    limiter = RateLimiter(redis)
    limits = RateLimits(1)
    assert (await limiter.check("k1", "text", limits)).allowed
    assert not (await limiter.check("k1", "text", limits)).allowed
    assert (await limiter.check("k2", "text", limits)).allowed
    assert (await limiter.check("k1", "chat", limits)).allowed


async def test_unlimited_always_admits(redis: Redis) -> None:
    limiter = RateLimiter(redis)
    for _ in range(100):
        decision = await limiter.check("k1", "chat", RateLimits(0), units=10_000)
        assert decision.allowed
        assert (decision.limit, decision.remaining, decision.exceeded) == (0, 0, None)
    # Nothing worth remembering was written for a key without limits.
    assert await redis.keys("banyan:rl:*") == []


async def test_peek_does_not_consume(redis: Redis) -> None:
    limiter = RateLimiter(redis)
    limits = RateLimits(2)
    for _ in range(3):
        assert (await limiter.peek("k1", "text", limits)).remaining == 2
    await limiter.check("k1", "text", limits)
    await limiter.check("k1", "text", limits)
    state = await limiter.peek("k1", "text", limits)
    assert (state.allowed, state.remaining, state.exceeded) == (False, 0, "requests")
    assert 1 <= state.retry_after <= 60


async def test_the_window_slides(redis: Redis) -> None:
    limiter = RateLimiter(redis, window_s=2)
    limits = RateLimits(2)
    assert (await limiter.check("k1", "text", limits)).allowed
    await anyio.sleep(1.05)
    assert (await limiter.check("k1", "text", limits)).allowed
    refused = await limiter.check("k1", "text", limits)
    assert not refused.allowed
    assert refused.retry_after == 1  # the first entry is about a second from sliding out
    await anyio.sleep(1.05)
    # Only the first request has slid out: a fixed window would have reset both.
    assert (await limiter.check("k1", "text", limits)).allowed
    assert not (await limiter.check("k1", "text", limits)).allowed


async def test_a_one_second_window_comes_back(redis: Redis) -> None:
    limiter = RateLimiter(redis, window_s=1)
    limits = RateLimits(3, 10)
    assert (await limiter.check("k1", "text", limits, units=10)).allowed
    refused = await limiter.check("k1", "text", limits, units=1)
    assert (refused.allowed, refused.retry_after) == (False, 1)
    await anyio.sleep(1.1)
    assert (await limiter.check("k1", "text", limits, units=10)).allowed


_CHILD = """
import asyncio, sys
from redis.asyncio import Redis
from legacy.commerce.ratelimit import RateLimiter, RateLimits

async def main():
    redis, waiter = Redis.from_url(sys.argv[1]), Redis.from_url(sys.argv[1])
    limiter = RateLimiter(redis, window_s=60)
    limits = RateLimits(50)
    await limiter.peek("shared", "text", limits)  # script loaded, a connection open
    # A barrier, so the two processes' checks really interleave: the last one in releases both.
    if await waiter.incr("test:ready") == 2:
        await waiter.rpush("test:go", 1, 1)
    await waiter.blpop(["test:go"], timeout=20)
    admitted = 0
    for _ in range(40):
        admitted += (await limiter.check("shared", "text", limits)).allowed
    await redis.aclose()
    await waiter.aclose()
    print(admitted)

asyncio.run(main())
"""


async def test_two_processes_share_one_budget(redis_url: str) -> None:
    admitted: list[int] = []

    async def child() -> None:
        result = await anyio.run_process(
            [sys.executable, "-c", _CHILD, redis_url], cwd=PROJECT_ROOT
        )
        admitted.append(int(result.stdout))

    with anyio.fail_after(30):
        async with anyio.create_task_group() as group:
            group.start_soon(child)
            group.start_soon(child)
    assert sum(admitted) == 50


def test_headers_when_admitted() -> None:
    decision = RateDecision(True, 50, 49, 1_700_000_060, 0, None)
    assert rate_limit_headers(decision) == {
        "X-RateLimit-Limit": "50",
        "X-RateLimit-Remaining": "49",
        "X-RateLimit-Reset": "1700000060",
    }


def test_headers_when_refused() -> None:
    decision = RateDecision(False, 50, 0, 1_700_000_060, 7, "requests")
    headers = rate_limit_headers(decision)
    assert headers["Retry-After"] == "7"
    assert headers["X-RateLimit-Remaining"] == "0"


async def test_reset_header_is_an_absolute_epoch(redis: Redis) -> None:
    decision = await RateLimiter(redis).check("k1", "text", RateLimits(5))
    reset = int(rate_limit_headers(decision)["X-RateLimit-Reset"])
    assert time.time() + 55 < reset <= time.time() + 62
    assert "Retry-After" not in rate_limit_headers(decision)


def test_bad_inputs_are_refused_loudly() -> None:
    with pytest.raises(ValueError, match="rate limits"):
        RateLimits(-1)


async def test_bad_route_class_and_units_are_refused(redis: Redis) -> None:
    limiter = RateLimiter(redis)
    with pytest.raises(ValueError, match="route class"):
        await limiter.check("k1", "te{x}t", RateLimits(1))
    with pytest.raises(ValueError, match="units"):
        await limiter.check("k1", "text", RateLimits(1), units=-1)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    amounts=st.lists(st.integers(0, 40), max_size=25),
    units_limit=st.integers(1, 100),
    requests_limit=st.integers(0, 15),
)
async def test_admitted_units_never_exceed_the_limit(
    redis_url: str, amounts: list[int], units_limit: int, requests_limit: int
) -> None:
    limits = RateLimits(requests_limit, units_limit)
    key = uuid.uuid4().hex  # examples share one Redis; each gets its own budget
    client = Redis.from_url(redis_url)
    try:
        limiter = RateLimiter(client)
        used = count = 0
        for amount in amounts:
            decision = await limiter.check(key, "text", limits, units=amount)
            # Within one window the limiter is exactly a greedy counter over both limits.
            fits_requests = requests_limit == 0 or count < requests_limit
            fits_units = used + amount <= units_limit
            assert decision.allowed == (fits_requests and fits_units)
            if decision.allowed:
                used += amount
                count += 1
            else:
                assert decision.exceeded == ("units" if fits_requests else "requests")
            assert used <= units_limit
    finally:
        await client.aclose()

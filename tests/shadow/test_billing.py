"""The billing joiner against legacy in-process and real PostgreSQL: both sides bill through
legacy's internal API (the live side normally, the shadow side with X-Banyan-Shadow: 1, as the
candidate does), the joiner reads the ledgers over HTTP and writes shadow.billing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import pytest

from legacy.app import create_app
from legacy.commerce.tenants import create_tenant
from shadow.billing import BillingJoiner, Ledgers, LedgerSide, join_ledgers

pytestmark = pytest.mark.anyio
TOKEN = "internal-secret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@dataclass
class FakeClock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class World:
    legacy: httpx.AsyncClient  # legacy's app, with the internal token
    pool: asyncpg.Pool
    key: str
    tenant_id: str
    clock: FakeClock = field(default_factory=FakeClock)
    lookups: list[int] = field(default_factory=list)  # ids per ledger call

    def joiner(self, **options: Any) -> BillingJoiner:
        return BillingJoiner(self.legacy, self.pool, clock=self.clock, **options)

    async def bill(
        self, request_id: str, usage: dict[str, str], *, shadow: bool = False,
        route: str = "translate",
    ) -> None:  # fmt: skip
        lines = [{"unit": unit, "quantity": quantity} for unit, quantity in usage.items()]
        headers = {"X-Request-ID": request_id, **({"X-Banyan-Shadow": "1"} if shadow else {})}
        held = await self.legacy.post(
            "/internal/v1/authorize",
            json={"api_key": self.key, "route": route, "estimate": lines},
            headers=headers,
        )
        assert held.status_code == 200, held.text
        settle = {"reservation_id": held.json()["reservation_id"], "usage": lines}
        done = await self.legacy.post("/internal/v1/settle", json=settle)
        assert done.json()["ledger"] == ("shadow" if shadow else "live"), done.text

    async def rows(self) -> dict[str, asyncpg.Record]:
        found = await self.pool.fetch("SELECT * FROM shadow.billing")
        return {row["request_id"]: row for row in found}


@pytest.fixture
async def world(database_url, redis_url) -> AsyncIterator[World]:
    conn = await asyncpg.connect(database_url)
    try:
        tenant, key = await create_tenant(conn, "acme", Decimal(1000))
    finally:
        await conn.close()
    app = create_app(database_url=database_url, redis_url=redis_url, internal_token=TOKEN)
    lookups: list[int] = []

    async def count(request: httpx.Request) -> None:
        if request.url.path == "/internal/v1/ledger":
            lookups.append(len(request.url.params.get_list("request_id")))

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with (
            httpx.AsyncClient(
                transport=transport, base_url="http://legacy", headers=AUTH,
                event_hooks={"request": [count]},
            ) as client,
            asyncpg.create_pool(database_url, min_size=1, max_size=4) as pool,
        ):  # fmt: skip
            yield World(client, pool, key, str(tenant), lookups=lookups)


async def test_equal_bills_join_with_equal_credits(world) -> None:
    rid = f"req-{uuid4().hex}"
    await world.bill(rid, {"characters": "118"})
    await world.bill(rid, {"characters": "118"}, shadow=True)
    joiner = world.joiner(delay_s=2.0)
    joiner.schedule(rid, "translate", "legacy")
    assert await joiner.run_due() == 0  # not due before the delay
    world.clock.now += 2.0
    assert await joiner.run_due() == 1
    row = (await world.rows())[rid]
    assert row["state"] == "joined"
    assert (row["legacy_credits"], row["candidate_credits"]) == (Decimal("0.2360"),) * 2
    assert str(row["tenant_id"]) == world.tenant_id
    assert row["route"] == "translate"
    assert row["legacy_units"] == row["candidate_units"] == '{"characters": "118.0000"}'
    assert joiner.stats() == {"scheduled": 1, "joined": 1, "pending": 0}


async def test_a_two_percent_overcharge_shows_as_a_two_percent_delta(world) -> None:
    joiner = world.joiner(delay_s=0.0)
    for i in range(10):
        rid = f"over-{i}"
        await world.bill(rid, {"characters": str(1000 + i)})
        await world.bill(rid, {"characters": str((1000 + i) * Decimal("1.02"))}, shadow=True)
        joiner.schedule(rid, "translate", "legacy")
    assert await joiner.run_due() == 10
    totals = await world.pool.fetchrow(
        "SELECT sum(legacy_credits) AS legacy, sum(candidate_credits) AS candidate,"
        " count(*) FILTER (WHERE state = 'joined') AS joined FROM shadow.billing"
    )
    assert totals["joined"] == 10
    ratio = (totals["candidate"] - totals["legacy"]) / totals["legacy"]
    assert abs(ratio - Decimal("0.02")) < Decimal("0.0001"), ratio


async def test_a_chat_served_by_the_candidate_reads_the_ledgers_the_other_way_round(world) -> None:
    # Canary or candidate mode with legacy shadowed in reverse: the candidate billed live.
    await world.bill("chat-1", {"tokens_in": "90", "tokens_out": "250"}, route="chat-completions")
    await world.bill(
        "chat-1", {"tokens_in": "90", "tokens_out": "200"}, route="chat-completions", shadow=True
    )
    joiner = world.joiner(delay_s=0.0)
    joiner.schedule("chat-1", "chat", "candidate")
    await joiner.run_due()
    row = (await world.rows())["chat-1"]
    assert row["state"] == "joined"
    assert row["route"] == "chat"  # the proxy's route name, which the report groups by
    assert row["candidate_credits"] == Decimal("0.3360")  # the live rows: 0.0360 + 0.3000
    assert row["legacy_credits"] == Decimal("0.2760")  # the shadow rows: 0.0360 + 0.2400
    assert row["candidate_units"] == '{"tokens_in": "90.0000", "tokens_out": "250.0000"}'


async def test_a_missing_side_is_a_finding_only_after_the_retry(world) -> None:
    await world.bill("late", {"characters": "10"})
    await world.bill("never", {"characters": "10"})
    await world.bill("only-candidate", {"characters": "10"}, shadow=True)
    joiner = world.joiner(delay_s=2.0, retry_s=30.0)
    for rid in ("late", "never", "only-candidate"):
        joiner.schedule(rid, "translate", "legacy")
    world.clock.now += 2.0
    assert await joiner.run_due() == 3
    assert await world.rows() == {}
    assert joiner.stats()["pending"] == 3
    await world.bill("late", {"characters": "10"}, shadow=True)  # the candidate settles late
    world.clock.now += 29.0
    assert await joiner.run_due() == 0
    world.clock.now += 1.0
    assert await joiner.run_due() == 3
    states = {rid: row["state"] for rid, row in (await world.rows()).items()}
    assert states == {
        "late": "joined",
        "never": "candidate_missing",
        "only-candidate": "legacy_missing",
    }
    never = (await world.rows())["never"]
    assert (never["legacy_credits"], never["candidate_credits"]) == (Decimal("0.0200"), None)
    assert never["candidate_units"] == "{}"
    assert joiner.stats()["retried"] == 3


async def test_a_live_row_for_a_noise_call_is_reported(world) -> None:
    await world.bill("n-1", {"characters": "50"})
    await world.bill("n-1", {"characters": "50"}, shadow=True)
    await world.bill("n-1.noise", {"characters": "50"})  # ignored X-Banyan-Shadow: a live row
    joiner = world.joiner(delay_s=0.0)
    joiner.schedule("n-1", "translate", "legacy")
    await joiner.run_due()
    row = (await world.rows())["n-1"]
    assert row["state"] == "live_row_for_shadow"
    assert row["legacy_credits"] == row["candidate_credits"] == Decimal("0.1000")


async def test_a_request_nobody_billed_leaves_no_row(world) -> None:
    joiner = world.joiner(delay_s=0.0, retry_s=0.0)
    joiner.schedule("models-1", "models", "legacy")
    assert await joiner.run_due() == 1
    assert await joiner.run_due() == 0  # not retried either
    assert await world.rows() == {}
    assert joiner.stats() == {"scheduled": 1, "unbilled": 1, "pending": 0}


async def test_batches_stay_within_the_endpoints_limit(world) -> None:
    joiner = world.joiner(delay_s=0.0, batch=100)
    for i in range(120):
        joiner.schedule(f"b-{i}", "translate", "legacy")
    while await joiner.run_due():
        pass
    # Each request is asked with its <id>.noise: 50 requests per call.
    assert world.lookups == [100, 100, 40]
    assert joiner.stats()["unbilled"] == 120


async def test_schedule_never_blocks_and_counts_overflow(world) -> None:
    joiner = world.joiner(capacity=3)
    for i in range(5):
        joiner.schedule(f"o-{i}", "translate", "legacy")
    assert joiner.stats() == {"scheduled": 3, "overflow": 2, "pending": 3}


async def test_a_failing_lookup_is_retried_once_then_counted(world) -> None:
    world.legacy.headers["Authorization"] = "Bearer wrong"
    joiner = world.joiner(delay_s=0.0, retry_s=5.0)
    joiner.schedule("f-1", "translate", "legacy")
    await joiner.run_due()
    assert joiner.stats() == {"scheduled": 1, "retried": 1, "pending": 1}
    world.clock.now += 5.0
    await joiner.run_due()
    assert joiner.stats() == {"scheduled": 1, "retried": 1, "lookup_failed": 1, "pending": 0}


async def test_the_run_task_writes_rows_as_requests_come_due(world) -> None:
    await world.bill("t-1", {"characters": "7"})
    await world.bill("t-1", {"characters": "7"}, shadow=True)
    joiner = BillingJoiner(world.legacy, world.pool, delay_s=0.05, retry_s=0.1)
    task = asyncio.create_task(joiner.run())
    try:
        await asyncio.sleep(0.02)  # the task is idle, waiting for work
        joiner.schedule("t-1", "translate", "legacy")
        for _ in range(200):
            if await world.rows():
                break
            await asyncio.sleep(0.01)
        assert (await world.rows())["t-1"]["state"] == "joined"
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


SIDE = LedgerSide(Decimal("1.0000"), {"characters": "500.0000"})


@pytest.mark.parametrize(
    ("live", "shadow", "noise_live", "final", "state"),
    [
        (SIDE, SIDE, False, False, "joined"),
        (SIDE, None, False, False, None),  # look again at the retry
        (SIDE, None, False, True, "candidate_missing"),
        (None, SIDE, False, True, "legacy_missing"),
        (None, None, False, True, None),
        (None, None, True, False, "live_row_for_shadow"),
        (SIDE, SIDE, True, False, "live_row_for_shadow"),
    ],
)
def test_join_states(live, shadow, noise_live, final, state) -> None:
    noise = Ledgers(None, SIDE if noise_live else None, None)
    row = join_ledgers("r", "translate", "legacy", Ledgers(None, live, shadow), noise, final=final)
    assert (row.state if row else None) == state


async def test_run_asks_once_for_requests_that_fall_due_one_by_one(world) -> None:
    """Compared requests fall due a few ms apart; asking as each fell due made one ledger call
    per request (at 400/s, most of the shadow process's CPU). ``run`` lingers past the oldest
    one's due time and asks for all that are due by then in one call."""
    joiner = BillingJoiner(
        world.legacy, world.pool, delay_s=0.1, linger_s=0.3, clock=time.monotonic
    )
    task = asyncio.create_task(joiner.run())
    try:
        for i in range(10):
            joiner.schedule(f"unbilled-{i}", "translate", "legacy")
            await asyncio.sleep(0.01)
        for _ in range(300):
            if joiner.stats().get("unbilled", 0) == 10:
                break
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
    assert joiner.stats()["unbilled"] == 10
    assert world.lookups == [20]  # ten requests and their <id>.noise, one call

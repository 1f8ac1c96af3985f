"""Live route control against real Redis and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator, Callable

import asyncpg
import pytest
from redis.asyncio import Redis

from banyan.launcher import EmbeddedRedis
from proxy.audit import AuditLog
from proxy.config import parse_config
from proxy.control import LiveControlUnavailable, RouteControl, UnknownRoute
from proxy.route_state import ChangeRefused, RouteState, state_of
from proxy.route_store import RouteStore
from proxy.server import build_core

pytestmark = pytest.mark.anyio

CONFIG = """
fleet: {fleet}
upstreams:
  legacy: {{url: http://127.0.0.1:1}}
  candidate: {{url: http://127.0.0.1:2}}
routes:
  - {{name: translate, match: {{path: /translate}}, mode: legacy}}
  - {{name: tts, match: {{path: /text-to-speech}}, mode: shadow, shadow: {{sample: 0.5}}}}
"""


@pytest.fixture
async def instances(database_url, redis_url) -> AsyncIterator[Callable]:
    """Make proxy instances (a core plus its control), following changes like a process does."""
    made: list[tuple[RouteControl, asyncio.Task, Redis, asyncpg.Pool]] = []

    async def make(
        fleet: str = "prod", redis: str = redis_url, follow: bool = True
    ) -> RouteControl:
        core = build_core(parse_config(CONFIG.format(fleet=fleet)))
        client = Redis.from_url(redis, socket_connect_timeout=0.5)
        pool = await asyncpg.create_pool(database_url, min_size=0, max_size=4)
        control = RouteControl(core, core.table, fleet, RouteStore(client, fleet), AuditLog(pool))
        await control.refresh()
        task = asyncio.create_task(control.follow() if follow else asyncio.sleep(0))
        made.append((control, task, client, pool))
        return control

    yield make
    for _, task, client, pool in made:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await client.aclose()
        await pool.close()


async def eventually(predicate: Callable[[], bool], within: float = 1.0) -> float:
    loop = asyncio.get_running_loop()
    started = loop.time()
    while not predicate():
        assert loop.time() - started < within, "not within the deadline"
        await asyncio.sleep(0.005)
    return loop.time() - started


def mode(control: RouteControl, name: str = "translate") -> str:
    return control.core.table.get(name).mode


async def test_a_change_is_audited_stored_and_applied_at_once(instances, database_url) -> None:
    control = await instances()
    change = await control.change(
        "translate", "set", actor="alice@ops", reason="parity 99.9% for a week",
        target=RouteState("canary", 5.0, 0.2),
    )  # fmt: skip
    assert (change.from_state, change.to_state) == (
        RouteState("legacy"),
        RouteState("canary", 5.0, 0.2),
    )
    assert state_of(control.core.table.get("translate")) == RouteState("canary", 5.0, 0.2)
    assert control.source("translate") == "live"
    assert await control.store.get("translate") == RouteState("canary", 5.0, 0.2)
    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow("SELECT * FROM proxy.route_changes")
    finally:
        await conn.close()
    assert (row["fleet"], row["route"], row["action"], row["actor"]) == (
        "prod",
        "translate",
        "set",
        "alice@ops",
    )
    assert row["reason"] == "parity 99.9% for a week"


async def test_promote_and_rollback_walk_the_ladder_with_history(instances) -> None:
    control = await instances()
    for _ in range(5):
        await control.change("translate", "promote", actor="a", reason="step")
    assert mode(control) == "candidate"
    with pytest.raises(ChangeRefused, match="nothing to promote"):
        await control.change("translate", "promote", actor="a", reason="again")
    await control.change("translate", "rollback", actor="b", reason="p99 regression", to="shadow")
    assert mode(control) == "shadow"
    history = await control.history("translate", limit=10)
    assert [c.action for c in history] == ["rollback", *["promote"] * 5]
    assert history[0].to_state == RouteState("shadow")
    assert history[0].reason == "p99 regression"


async def test_a_second_instance_sees_a_flip_within_a_second(instances) -> None:
    a = await instances()
    b = await instances()
    await eventually(lambda: b.connected)
    await a.change("translate", "set", actor="a", reason="go", target=RouteState("candidate"))
    took = await eventually(lambda: mode(b) == "candidate", within=1.0)
    assert took < 1.0


async def test_fleets_sharing_a_redis_do_not_see_each_other(instances) -> None:
    prod = await instances("prod")
    staging = await instances("staging")
    await eventually(lambda: staging.connected)
    await prod.change("translate", "set", actor="a", reason="go", target=RouteState("candidate"))
    await asyncio.sleep(0.2)
    assert mode(staging) == "legacy"
    await staging.change("translate", "promote", actor="a", reason="staging first")
    assert mode(staging) == "shadow"
    assert mode(prod) == "candidate"


async def test_concurrent_promotions_are_serialised(instances) -> None:
    controls = [await instances(follow=False) for _ in range(4)]
    attempts = [
        controls[i % 4].change("translate", "promote", actor=f"op{i}", reason="race")
        for i in range(10)
    ]
    results = await asyncio.gather(*attempts, return_exceptions=True)
    done = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, ChangeRefused)]
    assert len(done) == 5  # legacy -> shadow -> 1% -> 10% -> 50% -> candidate
    assert len(refused) == 5
    # Every change started where the previous one ended: no lost update.
    steps = sorted((c.from_state.describe(), c.to_state.describe()) for c in done)
    assert len({before for before, _ in steps}) == 5
    await controls[0].refresh()
    assert mode(controls[0]) == "candidate"


async def test_refusals_say_what_to_fix(instances) -> None:
    control = await instances()
    with pytest.raises(UnknownRoute):
        await control.change("nope", "promote", actor="a", reason="x")
    with pytest.raises(ChangeRefused, match="a reason is required"):
        await control.change("translate", "promote", actor="a", reason="  ")
    with pytest.raises(ChangeRefused, match="already legacy"):
        await control.change("translate", "set", actor="a", reason="x", target=RouteState("legacy"))
    assert await control.history("translate", 10) == []


async def test_without_stores_routing_works_and_changes_are_refused() -> None:
    core = build_core(parse_config(CONFIG.format(fleet="x")))
    control = RouteControl(core, core.table, "x")
    assert not control.is_live
    with pytest.raises(LiveControlUnavailable, match="REDIS_URL"):
        await control.change("translate", "promote", actor="a", reason="x")


async def test_redis_dying_keeps_the_last_table_and_refuses_changes(instances, tmp_path) -> None:
    server = EmbeddedRedis(data_dir=None, log_path=tmp_path / "redis.log")
    await server.start()
    try:
        control = await instances(redis=server.url())
        await eventually(lambda: control.connected)
        await control.change(
            "translate", "set", actor="a", reason="go", target=RouteState("candidate")
        )
        os.kill(server.child.pid, signal.SIGKILL)  # dies hard, as in a crash
        await eventually(lambda: not control.connected, within=5)
        assert mode(control) == "candidate"  # the last known table stands
        with pytest.raises(LiveControlUnavailable, match="unchanged"):
            await control.change("translate", "rollback", actor="a", reason="x")
        assert [c.action for c in await control.history("translate", 10)] == [
            "set"
        ]  # no phantom row
    finally:
        await server.stop()

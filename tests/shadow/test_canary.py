"""The canary guard against a real proxy with live route control (Redis, PostgreSQL): a
candidate that fails or slows down in canary is rolled back to shadow, audited with its
reason; a healthy one is left alone."""

from __future__ import annotations

import asyncio
import contextlib
import math
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import asyncpg
import httpx
import pytest
from redis.asyncio import Redis

from proxy.admin import create_admin_app
from proxy.audit import AuditLog
from proxy.config import parse_config
from proxy.control import RouteControl
from proxy.metrics import Counters, render_prometheus
from proxy.route_store import RouteStore
from proxy.server import ProxyServer, build_core
from shadow.canary import (
    ACTOR,
    CanaryGuard,
    CanarySettings,
    ScrapeFailed,
    evaluate,
    parse_canary,
)
from shadow.promtext import PromTextError, parse_prometheus

pytestmark = pytest.mark.anyio
TOKEN = "admin-token"


@dataclass
class Behaviour:
    status: int = 200
    delay_s: float = 0.0
    served: int = 0


async def start_upstream(behaviour: Behaviour) -> tuple[asyncio.Server, str]:
    """A keep-alive HTTP/1.1 server answering every GET as ``behaviour`` says."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                await reader.readuntil(b"\r\n\r\n")  # GETs only: no body to read
                if behaviour.delay_s:
                    await asyncio.sleep(behaviour.delay_s)
                behaviour.served += 1
                body = b'{"ok": true}'
                writer.write(
                    b"HTTP/1.1 %d X\r\ncontent-type: application/json\r\ncontent-length: %d"
                    b"\r\n\r\n%b" % (behaviour.status, len(body), body)
                )
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    return server, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"


@dataclass
class CanaryLab:
    proxy: httpx.AsyncClient
    admin: httpx.AsyncClient
    legacy: Behaviour
    candidate: Behaviour
    control: RouteControl
    keys: list[str] = field(default_factory=lambda: [f"sk_{i:03d}" for i in range(60)])

    def guard(self, **settings: float) -> CanaryGuard:
        values = {"window_s": 60.0, "interval_s": 10.0, "min_requests": 20, **settings}
        return CanaryGuard(
            "http://admin",
            TOKEN,
            CanarySettings(**values),
            self.admin,  # type: ignore[arg-type]
        )

    async def traffic(self, rounds: int = 1, concurrency: int = 20) -> None:
        """Every key once per round, ``concurrency`` at a time: half of them land on the
        candidate. Bounded concurrency keeps the harness's own latency out of the p99s."""
        for _ in range(rounds):
            for at in range(0, len(self.keys), concurrency):
                answers = await asyncio.gather(
                    *(
                        self.proxy.get("/tts", headers={"api-subscription-key": key})
                        for key in self.keys[at : at + concurrency]
                    )
                )
                assert {a.status_code for a in answers} <= {200, 500}

    async def history(self) -> list[dict]:
        answer = await self.admin.get(
            "/routes/tts/history", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        return answer.json()["changes"]


@pytest.fixture
async def lab(database_url, redis_url) -> AsyncIterator[CanaryLab]:
    legacy, candidate = Behaviour(), Behaviour()
    legacy_server, legacy_url = await start_upstream(legacy)
    candidate_server, candidate_url = await start_upstream(candidate)
    fleet = f"f{uuid.uuid4().hex[:12]}"
    config = parse_config(
        f"fleet: {fleet}\nupstreams:\n  legacy: {{url: {legacy_url}}}\n"
        f"  candidate: {{url: {candidate_url}}}\nroutes:\n"
        "  - {name: tts, match: {path: /tts}, mode: canary, canary: {percent: 50},"
        " shadow: {sample: 0}}\n"
    )
    core = build_core(config)
    redis = Redis.from_url(redis_url, socket_connect_timeout=0.5)
    pool = await asyncpg.create_pool(database_url, min_size=0, max_size=4)
    control = RouteControl(core, core.table, fleet, RouteStore(redis, fleet), AuditLog(pool))
    await control.refresh()
    proxy = await ProxyServer.start(core)
    app = create_admin_app(core, token=TOKEN, control=control)
    try:
        async with (
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{proxy.port}", timeout=10) as client,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://admin"
            ) as admin,
        ):
            yield CanaryLab(client, admin, legacy, candidate, control)
    finally:
        await proxy.aclose(grace=1)
        for server in (legacy_server, candidate_server):
            server.close()
        await redis.aclose()
        await pool.close()


async def test_a_failing_candidate_is_rolled_back_to_shadow_and_audited(lab) -> None:
    guard = lab.guard()
    assert await guard.check() == []  # the first scrape is the window's baseline
    await lab.traffic(rounds=2)  # legacy fine
    lab.candidate.status = 500
    await lab.traffic(rounds=1)
    (evaluation,) = await guard.check()
    assert evaluation.gate == "error_rate", evaluation
    assert evaluation.candidate.requests >= 40
    assert evaluation.candidate.errors == lab.candidate.served // 3  # the last round's
    assert evaluation.legacy.errors == 0
    assert lab.control.core.table.get("tts").mode == "shadow"
    change = (await lab.history())[0]
    assert (change["action"], change["actor"]) == ("rollback", ACTOR)
    assert change["reason"].startswith("auto-rollback: error_rate candidate 0.3")
    assert "> legacy 0.0000 + 0.02" in change["reason"]
    assert guard.counts.rollbacks == 1
    # In shadow, the route is no longer the guard's business.
    await lab.traffic()
    assert await guard.check() == []
    assert guard.counts.rollbacks == 1


async def test_a_slow_candidate_is_rolled_back_on_p99(lab) -> None:
    guard = lab.guard(p99_ratio=1.5)
    await guard.check()
    lab.candidate.delay_s = 0.6  # p99 in (0.5, 1]: far above 1.5 x legacy's, even on a busy box
    await lab.traffic(concurrency=60)
    (evaluation,) = await guard.check()
    assert evaluation.gate == "p99", evaluation
    assert evaluation.candidate.p99_s is not None
    assert evaluation.candidate.p99_s > 0.5
    assert evaluation.legacy.p99_s is not None
    assert evaluation.candidate.p99_s > 1.5 * evaluation.legacy.p99_s
    assert lab.control.core.table.get("tts").mode == "shadow"
    change = (await lab.history())[0]
    assert change["actor"] == ACTOR
    assert change["reason"].startswith("auto-rollback: p99 candidate ")


async def test_a_healthy_candidate_stays(lab) -> None:
    # Both sides take 120 ms: their p99s share the (0.1, 0.25] bucket with room for the
    # harness's own jitter, so the p99 gate is judged on equal sides rather than on noise.
    lab.legacy.delay_s = lab.candidate.delay_s = 0.12
    guard = lab.guard()
    await guard.check()
    await lab.traffic(rounds=2)
    (evaluation,) = await guard.check()
    assert evaluation.judged
    assert evaluation.gate is None
    assert evaluation.candidate.requests >= 40
    assert evaluation.candidate.errors == 0
    assert lab.control.core.table.get("tts").mode == "canary"
    assert await lab.history() == []


async def test_too_few_candidate_requests_are_not_judged(lab) -> None:
    guard = lab.guard(min_requests=1000)
    await guard.check()
    lab.candidate.status = 500
    await lab.traffic()
    (evaluation,) = await guard.check()
    assert not evaluation.judged
    assert evaluation.candidate.errors > 0
    assert lab.control.core.table.get("tts").mode == "canary"


async def test_an_unreachable_admin_is_a_counted_scrape_failure(lab) -> None:
    guard = CanaryGuard("http://admin", "wrong-token", CanarySettings(), lab.admin)
    with pytest.raises(ScrapeFailed):
        await guard.check()
    assert guard.counts.scrape_failed == 1


async def test_the_window_forgets_old_failures(lab) -> None:
    clock = [0.0]
    guard = CanaryGuard(
        "http://admin", TOKEN,
        CanarySettings(window_s=20, interval_s=10, min_requests=20, p99_ratio=100),
        lab.admin, clock=lambda: clock[0],
    )  # fmt: skip
    await guard.check()
    lab.candidate.status = 500
    await lab.traffic()
    lab.candidate.status = 200
    for at in (30.0, 40.0):  # the failing round is older than the window by now
        clock[0] = at
        await guard.check()
    clock[0] = 50.0
    await lab.traffic(rounds=2)
    (evaluation,) = await guard.check()
    assert evaluation.judged
    assert evaluation.gate is None
    assert evaluation.candidate.errors == 0


def counters_with(route: str, side: str, statuses: dict[str, int], seconds: float) -> Counters:
    counters = Counters()
    for status, n in statuses.items():
        counters.inc("banyan_proxy_requests_total", route, side, status, by=n)
        for _ in range(n):
            counters.observe_served(route, side, seconds)
    return counters


def test_p99_is_interpolated_within_its_bucket() -> None:
    counters = Counters()
    for i in range(100):
        counters.inc("banyan_proxy_requests_total", "r", "candidate", "200")
        counters.inc("banyan_proxy_requests_total", "r", "legacy", "200")
        counters.observe_served("r", "candidate", 0.3 if i < 99 else 0.4)  # 0.25 < x <= 0.5
        counters.observe_served("r", "legacy", 0.02)  # 0.01 < x <= 0.025
    samples = parse_prometheus(render_prometheus(counters))
    evaluation = evaluate("r", samples, None, CanarySettings(min_requests=10))
    assert evaluation.candidate.p99_s == pytest.approx(0.25 + 0.25 * (99 - 0) / 100)
    assert evaluation.legacy.p99_s == pytest.approx(0.01 + 0.015 * 0.99)
    assert evaluation.gate == "p99"


def test_a_p99_slower_only_by_a_bucket_width_is_not_a_breach() -> None:
    """1.8 ms against 0.9 ms is twice as slow and still invisible to a customer: the ratio
    alone would roll back a candidate for the width of the proxy's first buckets."""
    counters = Counters()
    for _ in range(100):
        counters.inc("banyan_proxy_requests_total", "r", "candidate", "200")
        counters.inc("banyan_proxy_requests_total", "r", "legacy", "200")
        counters.observe_served("r", "candidate", 0.0018)  # in (1 ms, 2.5 ms]
        counters.observe_served("r", "legacy", 0.0009)  # in (0, 1 ms]
    samples = parse_prometheus(render_prometheus(counters))
    lenient = evaluate("r", samples, None, CanarySettings(min_requests=10))
    assert lenient.candidate.p99_s is not None
    assert lenient.legacy.p99_s is not None
    assert lenient.candidate.p99_s > 1.5 * lenient.legacy.p99_s
    assert lenient.judged
    assert lenient.gate is None
    strict = evaluate("r", samples, None, CanarySettings(min_requests=10, p99_floor_ms=0))
    assert strict.gate == "p99"


def test_a_counter_reset_counts_from_zero() -> None:
    before = parse_prometheus(render_prometheus(counters_with("r", "candidate", {"500": 90}, 0.01)))
    after = parse_prometheus(render_prometheus(counters_with("r", "candidate", {"200": 30}, 0.01)))
    evaluation = evaluate("r", after, before, CanarySettings(min_requests=10))
    assert (evaluation.candidate.requests, evaluation.candidate.errors) == (30, 0)


def test_prometheus_text_is_parsed_with_escapes() -> None:
    text = (
        "# HELP m x\n# TYPE m counter\n"
        'm{b="q\\"u\\\\o\\nte",a="1"} 3 1700000000\n'
        'h_bucket{le="+Inf"} +Inf\nplain 2.5e3\n'
    )
    samples = parse_prometheus(text)
    assert samples[("m", (("a", "1"), ("b", 'q"u\\o\nte')))] == 3
    assert math.isinf(samples[("h_bucket", (("le", "+Inf"),))])
    assert samples[("plain", ())] == 2500
    for bad in ('m{a="1" 3', "m", "m{a=1} 2", "m one"):
        with pytest.raises(PromTextError):
            parse_prometheus(bad)


def test_parse_canary_defaults_and_errors() -> None:
    assert parse_canary({}) == CanarySettings(60, 10, 50, 1.5, 0.02, 5.0)
    assert parse_canary({"p99_floor_ms": 0}).p99_floor_ms == 0
    assert parse_canary({"window_s": 120, "min_requests": 5}).window_s == 120
    for raw, field_name in [
        ({"window_s": "1m"}, "evidence.canary.window_s"),
        ({"window_s": 5}, "evidence.canary.window_s"),
        ({"interval_s": 0}, "evidence.canary.interval_s"),
        ({"min_requests": 0}, "evidence.canary.min_requests"),
        ({"p99_floor_ms": -1}, "evidence.canary.p99_floor_ms"),
        ({"min_requests": 2.5}, "evidence.canary.min_requests"),
        ({"p99_ratio": 0.5}, "evidence.canary.p99_ratio"),
        ({"error_rate_epsilon": True}, "evidence.canary.error_rate_epsilon"),
        ({"error_rate_epsilon": 1.5}, "evidence.canary.error_rate_epsilon"),
        ({"windw_s": 60}, "evidence.canary.windw_s"),
    ]:
        with pytest.raises(ValueError, match=field_name.replace(".", r"\.")):
            parse_canary(raw)

"""Shared fixtures: real PostgreSQL and Redis, never mocks (rfcs/0001 §6).

One server of each per test session — that is, per xdist worker, since each worker is its own
session — started by our launcher, or the servers named by ``DATABASE_URL`` / ``REDIS_URL``.
Each test that asks for ``database_url`` gets a fresh database cloned from a template that has
every migration applied; ``redis_url`` is flushed before each test.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import uuid
from collections.abc import AsyncIterator, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from redis import Redis

from banyan.launcher import (
    ChildProcess,
    EmbeddedPostgres,
    EmbeddedRedis,
    ProcessSpec,
    claim_port,
    http_probe,
    wait_until_ready,
)
from banyan.migrations import apply_migrations, discover_migrations

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _worker_number() -> int:
    match = re.search(r"\d+", WORKER)
    return int(match.group()) if match else 0


def with_database(url: str, database: str) -> str:
    """``url`` pointing at another database on the same server."""
    base, _, query = url.partition("?")
    base = base.rsplit("/", 1)[0]
    return f"{base}/{database}" + (f"?{query}" if query else "")


async def _execute(url: str, *statements: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a server's maintenance database (``postgres``), alive for the session."""
    external = os.environ.get("DATABASE_URL")
    if external:
        yield external
        return
    pg = EmbeddedPostgres(data_dir=None, log_path=tmp_path_factory.mktemp("pg") / "postgres.log")
    asyncio.run(pg.start())
    try:
        yield pg.url()
    finally:
        asyncio.run(pg.stop())


@pytest.fixture(scope="session")
def template_database(postgres_server: str) -> Iterator[str]:
    """Name of a database with every migration applied; tests clone it."""
    name = f"banyan_tpl_{WORKER}_{uuid.uuid4().hex[:8]}"
    asyncio.run(_execute(postgres_server, f'CREATE DATABASE "{name}"'))

    async def migrate() -> None:
        conn = await asyncpg.connect(with_database(postgres_server, name))
        try:
            await apply_migrations(conn, discover_migrations())
        finally:
            await conn.close()

    asyncio.run(migrate())
    yield name
    asyncio.run(_execute(postgres_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def database_url(postgres_server: str, template_database: str) -> Iterator[str]:
    """A fresh, migrated database for this test only."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    asyncio.run(
        _execute(postgres_server, f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
    )
    yield with_database(postgres_server, name)
    asyncio.run(_execute(postgres_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on the test's own fresh database (cloned from the migrated template)."""
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=20)
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a Redis for the session; an external one gets a database index per worker."""
    external = os.environ.get("REDIS_URL")
    if external:
        base = external.rstrip("/")
        base = re.sub(r"/\d+$", "", base)
        yield f"{base}/{1 + _worker_number()}"
        return
    server = EmbeddedRedis(data_dir=None, log_path=tmp_path_factory.mktemp("redis") / "redis.log")
    asyncio.run(server.start())
    try:
        yield server.url()
    finally:
        asyncio.run(server.stop())


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """The session's Redis, emptied for this test."""
    client = Redis.from_url(redis_server)
    try:
        client.flushdb()
    finally:
        client.close()
    return redis_server


@dataclass(frozen=True)
class Platform:
    """legacy running alone, and the proxy in front of it (legacy mode for every route)."""

    direct_url: str
    proxied_url: str
    admin_url: str
    admin_token: str
    database_url: str
    log_dir: Path  # inference.log, legacy.log, worker.log, proxy.log
    inference_url: str
    internal_token: str  # legacy's internal billing API (the Go candidate bills through it)

    def log_of(self, service: str) -> str:
        return (self.log_dir / f"{service}.log").read_text(errors="replace")

    def make_tenant(self, credits: str = "100", **plan: int) -> str:
        """A tenant of its own (name unique per call); returns its API key."""
        from decimal import Decimal

        from legacy.commerce.tenants import create_tenant

        async def make() -> str:
            conn = await asyncpg.connect(self.database_url)
            try:
                name = f"t{uuid.uuid4().hex[:12]}"
                _, key = await create_tenant(conn, name, Decimal(credits), **plan)
            finally:
                await conn.close()
            return key

        return asyncio.run(make())

    def ledger_rows(self, route: str) -> list[tuple[str, object]]:
        """(unit, quantity) of every live ledger row of a route, oldest first."""

        async def fetch() -> list[tuple[str, object]]:
            conn = await asyncpg.connect(self.database_url)
            try:
                rows = await conn.fetch(
                    "SELECT unit, quantity FROM legacy.ledger WHERE route = $1 ORDER BY id", route
                )
            finally:
                await conn.close()
            return [(r["unit"], r["quantity"]) for r in rows]

        return asyncio.run(fetch())


def _start_child(
    name: str, argv: list[str], log_dir: Path, health_url: str, env: dict[str, str] | None = None
) -> ChildProcess:
    log_path = log_dir / f"{name}.log"
    child = ChildProcess(ProcessSpec(name=name, argv=argv, log_path=log_path, env=env))
    child.start()
    asyncio.run(wait_until_ready(child, http_probe(health_url), within=60))
    return child


@pytest.fixture(scope="module")
def platform(
    postgres_server: str,
    template_database: str,
    redis_server: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Platform]:
    """The platform as customers reach it, directly and through the proxy, for tests that
    must hold either way (the SDK tests of every model API run against both URLs)."""
    work = tmp_path_factory.mktemp("platform")
    database = f"p_{uuid.uuid4().hex[:16]}"
    asyncio.run(
        _execute(postgres_server, f'CREATE DATABASE "{database}" TEMPLATE "{template_database}"')
    )
    legacy_port, proxy_port, admin_port, inference_port, worker_port = (
        claim_port("test", "127.0.0.1", 0, hint="") for _ in range(5)
    )
    direct = f"http://127.0.0.1:{legacy_port}"
    config = work / "banyan.yaml"
    # A fleet of its own: live route states in the shared Redis never leak between modules.
    config.write_text(
        f"fleet: t{uuid.uuid4().hex[:12]}\nupstreams:\n  legacy: {{url: {direct}}}\n"
        "  candidate: {url: http://127.0.0.1:1}\n"
        "routes:\n  - {name: health, match: {methods: [GET], path: /healthz}, mode: legacy}\n"
    )
    token, internal_token = uuid.uuid4().hex, uuid.uuid4().hex
    python = [sys.executable, "-m", "banyan"]
    children = []
    inference = f"http://127.0.0.1:{inference_port}"
    # legacy hands out signed links to objects the worker reads and writes: one root, one key.
    jobs_env = {
        "BANYAN_INFERENCE_URL": inference,
        "BANYAN_OBJECT_ROOT": str(work / "objects"),
        "BANYAN_STORAGE_SECRET": uuid.uuid4().hex,
    }
    try:
        children.append(
            _start_child(
                "inference", [*python, "inference", "--port", str(inference_port)],
                work, f"{inference}/healthz",
            )
        )  # fmt: skip
        children.append(
            _start_child(
                "legacy",
                [*python, "legacy", "--port", str(legacy_port), "--redis-url", redis_server,
                 "--database-url", with_database(postgres_server, database)],
                work, f"{direct}/healthz",
                env={**os.environ, **jobs_env, "BANYAN_INTERNAL_TOKEN": internal_token},
            )
        )  # fmt: skip
        children.append(
            _start_child(
                "worker",
                [*python, "worker", "--port", str(worker_port),
                 "--database-url", with_database(postgres_server, database)],
                work, f"http://127.0.0.1:{worker_port}/healthz", env={**os.environ, **jobs_env},
            )
        )  # fmt: skip
        children.append(
            _start_child(
                "proxy",
                [*python, "proxy", "--config", str(config), "--port", str(proxy_port),
                 "--admin-port", str(admin_port), "--state-dir", str(work),
                 "--database-url", with_database(postgres_server, database),
                 "--redis-url", redis_server],
                work, f"http://127.0.0.1:{admin_port}/healthz",
                env={**os.environ, "BANYAN_ADMIN_TOKEN": token},
            )
        )  # fmt: skip
        yield Platform(
            direct, f"http://127.0.0.1:{proxy_port}", f"http://127.0.0.1:{admin_port}", token,
            with_database(postgres_server, database), work, inference, internal_token,
        )  # fmt: skip
    finally:
        for child in reversed(children):
            asyncio.run(child.stop(grace=10))
        asyncio.run(_execute(postgres_server, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def candidate_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Go candidate, built once per session (``make test`` ran ``go test`` first, so the
    packages are in Go's build cache and this is mostly a link)."""
    from banyan.gobuild import build_candidate

    return build_candidate(tmp_path_factory.mktemp("go-bin"))


@pytest.fixture(scope="module")
def candidate_url(platform: Platform, candidate_binary: Path) -> Iterator[str]:
    """The Go candidate beside the platform's legacy: same inference server, billing through
    legacy's internal API (so its ledger rows are legacy's)."""
    port = claim_port("test", "127.0.0.1", 0, hint="")
    url = f"http://127.0.0.1:{port}"
    child = _start_child(
        "candidate",
        [str(candidate_binary), "--host", "127.0.0.1", "--port", str(port),
         "--legacy-url", platform.direct_url, "--inference-url", platform.inference_url],
        platform.log_dir, f"{url}/healthz",
        env={**os.environ, "BANYAN_INTERNAL_TOKEN": platform.internal_token},
    )  # fmt: skip
    try:
        yield url
    finally:
        asyncio.run(child.stop(grace=10))


@pytest.fixture(params=["direct", "proxied", "candidate"])
def ported_base_url(request: pytest.FixtureRequest, platform: Platform) -> str:
    """For routes the Go candidate has ported: legacy direct, through the proxy, and the
    candidate itself (issue 7: the same SDK tests pass against both implementations)."""
    if request.param == "candidate":
        return str(request.getfixturevalue("candidate_url"))
    return platform.direct_url if request.param == "direct" else platform.proxied_url


@pytest.fixture(params=["legacy", "candidate"])
def side_url(request: pytest.FixtureRequest, platform: Platform) -> str:
    """Legacy direct, or the Go candidate, for tests of ported routes that need no proxy run."""
    if request.param == "candidate":
        return str(request.getfixturevalue("candidate_url"))
    return platform.direct_url


@pytest.fixture(params=["direct", "proxied"])
def base_url(request: pytest.FixtureRequest, platform: Platform) -> str:
    """The platform's base URL, once direct and once through the proxy."""
    return platform.direct_url if request.param == "direct" else platform.proxied_url


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed test that ran on the platform carries the tail of each service's log in its
    report: CI keeps only its output, and a failure across processes (a request that hung
    between proxy, legacy and the inference server) cannot be read from the test alone."""
    report = yield
    platform = getattr(item, "funcargs", {}).get("platform")
    if report.failed and isinstance(platform, Platform):
        for path in sorted(platform.log_dir.glob("*.log")):
            tail = path.read_text(errors="replace").splitlines()[-40:]
            report.sections.append((f"{path.name} (last 40 lines)", "\n".join(tail)))
    return report

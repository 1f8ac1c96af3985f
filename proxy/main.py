"""One proxy process: the forwarding core on the public port, the admin API on its own.

uvicorn serves the admin app and owns the process lifecycle (signals, graceful shutdown); the
public listener is started in the admin app's lifespan and drained in its shutdown, so one
SIGTERM stops both in the right order: stop accepting, finish in-flight exchanges, close.
Both run on the same uvloop event loop. Mirror records leave the process through the shadow
feed (rfcs/0005 §2), which outlives the public listener so in-flight exchanges' records still go.

With ``REDIS_URL`` and ``DATABASE_URL`` the process follows the fleet's live route states and
accepts audited changes; without them, or while they are down, it routes by the table it has
(brief §5) and answers change requests with 503.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import uvicorn
from fastapi import FastAPI
from redis.asyncio import Redis
from redis.exceptions import RedisError

from banyan.logs import get_logger
from banyan.migrations import apply_migrations, discover_migrations
from proxy.admin import create_admin_app
from proxy.audit import AuditLog
from proxy.config import ProxyConfig
from proxy.control import RouteControl
from proxy.evidence import EvidenceFactory
from proxy.limits import Limits
from proxy.route_store import RouteStore
from proxy.server import ProxyServer, build_core
from proxy.shadow_feed import ShadowFeed

__all__ = ["run_proxy"]

_log = get_logger(__name__)
_FIRST_LOAD_TIMEOUT_S = 1.0


def run_proxy(
    config: ProxyConfig,
    *,
    host: str,
    port: int,
    admin_host: str,
    admin_port: int,
    admin_token: str,
    database_url: str | None = None,
    redis_url: str | None = None,
    limits: Limits | None = None,
    reuse_port: bool = False,
    shadow_socket: Path | None = None,
    evidence: EvidenceFactory | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM. Blocks. Mirror records go to ``shadow_socket`` (the shadow
    process's unix socket); with None they are drained and counted ``shadow_unavailable``.
    ``evidence`` builds the store that gates promotions and feeds the dashboard; without it
    promotions are ungated (audited so) and the dashboard shows modes only."""
    core = build_core(config, limits=limits)
    control = RouteControl(core, core.table, config.fleet)
    store = evidence(lambda: {r.name: r.mode for r in core.table.routes}) if evidence else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        feed = ShadowFeed(core.mirror, core.counters, shadow_socket)
        async with _live_control(control, database_url, redis_url), feed:
            server = await ProxyServer.start(core, host, port, reuse_port=reuse_port)
            _log.info("proxy listening", url=f"http://{host}:{server.port}", fleet=config.fleet,
                      routes=len(config.routes), live_control=control.is_live)  # fmt: skip
            try:
                yield
            finally:
                await server.aclose(grace=10.0)
                if store is not None:
                    await store.aclose()
                _log.info("proxy stopped")

    app = create_admin_app(core, token=admin_token, control=control, lifespan=lifespan,
                           evidence=store, reports=store)  # fmt: skip
    uvicorn.run(app, host=admin_host, port=admin_port, loop="uvloop", log_config=None,
                access_log=False)  # fmt: skip


@asynccontextmanager
async def _live_control(
    control: RouteControl, database_url: str | None, redis_url: str | None
) -> AsyncIterator[None]:
    if not database_url or not redis_url:
        _log.warning("no REDIS_URL/DATABASE_URL: routing by the YAML baseline, changes refused")
        yield
        return
    # min_size=0: no connection up front, so a database that is down now does not stop routing.
    pool = await asyncpg.create_pool(database_url, min_size=0, max_size=4)
    redis = Redis.from_url(redis_url, socket_connect_timeout=1.0, health_check_interval=5)
    control.attach(RouteStore(redis, control.fleet), AuditLog(pool))
    await _migrate(pool)
    try:
        async with asyncio.timeout(_FIRST_LOAD_TIMEOUT_S):
            await control.refresh()
    except (RedisError, OSError, TimeoutError) as exc:
        _log.warning(
            "live route states unreachable at start; routing by the baseline", error=str(exc)
        )
    follower = asyncio.create_task(control.follow())
    try:
        yield
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower
        await redis.aclose()
        await pool.close()


async def _migrate(pool: asyncpg.Pool) -> None:
    try:
        async with pool.acquire() as conn:
            await apply_migrations(conn, discover_migrations(["proxy"]))
    except (OSError, asyncpg.PostgresError) as exc:
        _log.warning("audit log unreachable at start; changes will be refused", error=str(exc))

"""The legacy FastAPI application: its lifespan (stores), middleware and routes.

The app owns one asyncpg pool and one Redis client for its lifetime; routes reach them through
``request.app.state``. Model-API and commercial routes arrive with their issues; this module
only wires them in.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError

from banyan.logs import get_logger
from banyan.migrations import apply_migrations, discover_migrations
from legacy.chat_api import chat_router
from legacy.commerce.billing import Billing
from legacy.commerce.ratelimit import RateLimiter
from legacy.doc_ai_api import doc_ai_router
from legacy.errors import install_error_handlers
from legacy.internal_api import internal_router
from legacy.jobs.queue import JobQueue, QueueLimits
from legacy.jobs.starting import install_job_errors
from legacy.metering import install_commerce
from legacy.request_id import RequestIdMiddleware
from legacy.storage import LocalDiskStore, UrlSigner
from legacy.storage_api import storage_router
from legacy.stt_api import stt_router
from legacy.stt_jobs_api import stt_jobs_router
from legacy.stt_ws import stt_ws_router
from legacy.text.lid import LanguageIdentifier
from legacy.text_api import text_router
from legacy.translate_api import translate_router
from legacy.tts_api import tts_router
from legacy.tts_stream_api import tts_stream_router
from legacy.tts_ws_api import tts_ws_router

__all__ = ["create_app"]

_log = get_logger(__name__)
_HEALTH_TIMEOUT_S = 2.0


def create_app(
    *,
    database_url: str,
    redis_url: str,
    internal_token: str | None = None,
    inference_url: str | None = None,
    object_root: Path | None = None,
    storage_secret: str | None = None,
    queue_limits: QueueLimits | None = None,
) -> FastAPI:
    """The platform. Without ``internal_token`` the internal billing API is not mounted;
    without ``inference_url`` the model routes that need the inference server answer 503.
    Job objects live under ``object_root`` (a temporary directory when None), their links
    signed with ``storage_secret`` (a random one when None: links die with the process)."""
    objects = LocalDiskStore(object_root or Path(tempfile.mkdtemp(prefix="banyan-objects-")))
    if storage_secret is None:
        _log.warning("no storage secret set: job links will not survive a restart")
    signer = UrlSigner(storage_secret or secrets.token_urlsafe(32))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(database_url, min_size=1, max_size=20)
        async with pool.acquire() as conn:
            await apply_migrations(conn, discover_migrations(["legacy"]))
        # Blocking pool: under a burst, wait for a connection instead of failing the request.
        # from_pool: the client owns the pool, so aclose() closes its connections too.
        redis = Redis.from_pool(BlockingConnectionPool.from_url(redis_url, max_connections=128))
        app.state.db = pool
        app.state.redis = redis
        app.state.billing = Billing(pool, limiter=RateLimiter(redis))
        app.state.inference_url = inference_url.rstrip("/") if inference_url else None
        app.state.inference = httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=5.0))
        app.state.lid = LanguageIdentifier(app.state.inference, app.state.inference_url)
        app.state.jobs = JobQueue(pool, limits=queue_limits)
        app.state.objects = objects
        app.state.signer = signer
        sweeper = asyncio.create_task(_release_expired_forever(app.state.billing))
        _log.info("legacy started", internal_api=internal_token is not None)
        try:
            yield
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            await app.state.inference.aclose()
            await redis.aclose()
            await pool.close()

    app = FastAPI(title="Legacy model-API platform", lifespan=lifespan)
    install_error_handlers(app)
    install_commerce(app)
    install_job_errors(app)
    app.add_middleware(RequestIdMiddleware)
    app.add_api_route("/healthz", healthz, methods=["GET"], include_in_schema=False)
    app.include_router(text_router)
    app.include_router(translate_router)
    app.include_router(tts_router)
    app.include_router(tts_stream_router)
    app.include_router(tts_ws_router)
    app.include_router(stt_router)
    app.include_router(stt_ws_router)
    app.include_router(chat_router())
    app.include_router(stt_jobs_router())
    app.include_router(doc_ai_router)
    app.include_router(storage_router)
    if internal_token:
        app.include_router(internal_router(internal_token), include_in_schema=False)
    return app


async def _release_expired_forever(billing: Billing, every_s: float = 30.0) -> None:
    """Give back the holds of requests that died without settling (issue 4)."""
    while True:
        try:
            released = await billing.release_expired()
            if released:
                _log.warning("expired reservations released", count=released)
        except (OSError, asyncpg.PostgresError) as exc:
            _log.warning("could not release expired reservations", error=str(exc))
        await asyncio.sleep(every_s)


async def healthz(request: Request) -> JSONResponse:
    """200 when PostgreSQL and Redis both answer; 503 naming the one that does not."""
    checks = {
        "postgres": _check_postgres(request.app.state.db),
        "redis": _check_redis(request.app.state.redis),
    }
    results = dict(zip(checks, await asyncio.gather(*checks.values()), strict=True))
    healthy = all(r == "ok" for r in results.values())
    return JSONResponse(
        {"status": "ok" if healthy else "degraded", **results}, status_code=200 if healthy else 503
    )


async def _check_postgres(pool: asyncpg.Pool) -> str:
    try:
        async with asyncio.timeout(_HEALTH_TIMEOUT_S):
            await pool.fetchval("SELECT 1")
    except (OSError, asyncpg.PostgresError, TimeoutError, asyncpg.InterfaceError) as exc:
        _log.warning("postgres unhealthy", error=str(exc))
        return "unreachable"
    return "ok"


async def _check_redis(redis: Redis) -> str:
    try:
        async with asyncio.timeout(_HEALTH_TIMEOUT_S):
            await redis.ping()
    except (OSError, TimeoutError, RedisError) as exc:
        _log.warning("redis unhealthy", error=str(exc))
        return "unreachable"
    return "ok"

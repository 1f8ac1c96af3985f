"""The ``banyan shadow`` process: intake socket → engine → store, billing joiner, canary guard.

rfcs/0005 §2. One process per lab, fed by every proxy worker over a unix socket. Everything it
needs is checked before it listens: the route baseline's ``compare:`` blocks and the
``evidence:`` block (noise, canary) fail fast with the field named, so a typo is an error at
start, not a comparison silently done with defaults.

Its own small HTTP listener answers ``/healthz`` (ready once the socket accepts and the store
writes) and ``/metrics``: the counters of intake, replayer and engine, and per route the
report's gauges over the last :data:`METRICS_WINDOW` (parity, latency quantiles per side,
error rates, billing delta), so Prometheus sees the deltas without a report being asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import socket
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Final, Literal

import asyncpg
import httpx
import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse

from banyan.logs import get_logger
from banyan.migrations import apply_migrations, load_migrations
from proxy.config import ProxyConfig
from shadow.billing import BillingJoiner
from shadow.canary import CanaryGuard, CanarySettings, parse_canary
from shadow.compare.config import CompareConfig, CompareConfigError, parse_compare
from shadow.engine import ShadowEngine, skip_recorder
from shadow.intake import Intake
from shadow.metrics import Counters, render_prometheus
from shadow.noise import NoiseLearner, NoiseSettings, parse_noise
from shadow.replay import Replayer
from shadow.report import build_report
from shadow.rules import load_live_rules
from shadow.store import ResultStore
from shadow.ws_fork import fork_session

__all__ = [
    "METRICS_WINDOW",
    "CpuPriority",
    "ShadowPlan",
    "ShadowSetupError",
    "plan_shadow",
    "run_shadow",
    "yield_cpu",
]

_log = get_logger(__name__)
MIGRATIONS: Final = Path(__file__).parent / "migrations"
METRICS_WINDOW: Final = timedelta(minutes=15)
_RULES_RELOAD_S: Final = 5.0


class ShadowSetupError(ValueError):
    """The configuration cannot run a shadow process; the message names the field."""


@dataclass(frozen=True, slots=True)
class ShadowPlan:
    """Everything checked out of the baseline before anything starts."""

    config: ProxyConfig
    compare: Mapping[str, CompareConfig]
    noise: NoiseSettings
    canary: CanarySettings
    upstream_urls: Mapping[str, str]
    legacy_url: str


def plan_shadow(config: ProxyConfig) -> ShadowPlan:
    """Check the ``compare:`` and ``evidence:`` blocks; ShadowSetupError names what is wrong."""
    compare: dict[str, CompareConfig] = {}
    for route in config.routes:
        try:
            compare[route.name] = parse_compare(route.compare, route=route.name)
        except CompareConfigError as exc:
            raise ShadowSetupError(str(exc)) from None
    evidence = config.evidence
    known = {"noise", "gates", "canary"}
    for key in evidence:
        if key not in known:
            listed = ", ".join(sorted(known))
            raise ShadowSetupError(f"evidence.{key}: unknown block (known: {listed})")
    try:
        noise = parse_noise(evidence.get("noise", {}))
        canary = parse_canary(evidence.get("canary", {}))
    except ValueError as exc:
        raise ShadowSetupError(str(exc)) from None
    legacy_names = {route.legacy for route in config.routes} or {"legacy"}
    legacy_name = "legacy" if "legacy" in legacy_names else sorted(legacy_names)[0]
    if legacy_name not in config.upstreams:
        raise ShadowSetupError(f"upstreams.{legacy_name}: not defined (needed for billing)")
    return ShadowPlan(
        config=config,
        compare=compare,
        noise=noise,
        canary=canary,
        upstream_urls={name: up.url for name, up in config.upstreams.items()},
        legacy_url=config.upstreams[legacy_name].url,
    )


CpuPriority = Literal["idle", "low", "normal"]


def yield_cpu(priority: CpuPriority) -> str:
    """Lower this process's CPU priority; returns what was applied.

    The shadow process shares cores with the proxy in the lab (and often in production), and
    its work is best-effort: a comparison may wait, a live response may not. ``idle``
    (SCHED_IDLE) runs it only on CPU nothing else wants; at 800 req/s on 2 cores the live p99
    with 100% shadowing went from 1.70x to 1.13x legacy mode's with it (docs/benchmarks.md).
    When it falls behind, the intake's bounded queue drops and counts (``shadow_backlog``)."""
    applied = _lower_priority(priority)
    _log.info("cpu priority", asked=priority, applied=applied)
    return applied


def _lower_priority(priority: CpuPriority) -> str:
    if priority == "normal":
        return "normal"
    if priority == "idle" and hasattr(os, "sched_setscheduler"):
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
            return "SCHED_IDLE"
        except OSError:
            pass  # not permitted here: fall back to niceness
    niceness = 19 if priority == "idle" else 10
    current = os.nice(0)
    if current < niceness:
        os.nice(niceness - current)
    return f"nice {max(current, niceness)}"


def run_shadow(
    plan: ShadowPlan,
    *,
    host: str,
    port: int,
    socket_path: Path,
    database_url: str,
    internal_token: str,
    admin_url: str | None,
    admin_token: str | None,
) -> None:
    """Serve until SIGINT/SIGTERM. Blocks."""
    app = create_shadow_app(
        plan, socket_path=socket_path, database_url=database_url, internal_token=internal_token,
        admin_url=admin_url, admin_token=admin_token,
    )  # fmt: skip
    uvicorn.run(app, host=host, port=port, loop="uvloop", log_config=None, access_log=False)


def create_shadow_app(
    plan: ShadowPlan,
    *,
    socket_path: Path,
    database_url: str,
    internal_token: str,
    admin_url: str | None = None,
    admin_token: str | None = None,
) -> FastAPI:
    """The process as an ASGI app: its lifespan runs the pipeline (tests serve it in-process)."""
    state: dict[str, Any] = {}
    routes = {route.name: route for route in plan.config.routes}
    modes = {route.name: route.mode for route in plan.config.routes}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with _pipeline(
            plan, routes, socket_path=socket_path, database_url=database_url,
            internal_token=internal_token, admin_url=admin_url, admin_token=admin_token,
        ) as parts:  # fmt: skip
            state.update(parts)
            yield
        state.clear()

    app = FastAPI(title="banyan shadow", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)  # fmt: skip

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        intake: Intake | None = state.get("intake")
        store: ResultStore | None = state.get("store")
        if intake is None or store is None:
            return JSONResponse({"status": "starting"}, status_code=503)
        stats = store.stats
        return JSONResponse({
            "status": "ok",
            "connections": intake.connections,
            "queued": intake.qsize(),
            "store": {"written": stats.written, "dropped": stats.dropped,
                      "failed": stats.failed},
        })  # fmt: skip

    @app.get("/metrics")
    async def metrics() -> PlainTextResponse:
        counters: Counters | None = state.get("counters")
        pool: asyncpg.Pool | None = state.get("pool")
        if counters is None or pool is None:
            return PlainTextResponse("", status_code=503)
        text = render_prometheus(counters) + _render_store(state["store"])
        try:
            report = await build_report(pool, route=None, since=METRICS_WINDOW, modes=modes)
        except (OSError, asyncpg.PostgresError) as exc:
            _log.warning("report gauges unavailable", error=repr(exc))
        else:
            text += render_report_gauges(report)
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4")

    return app


@asynccontextmanager
async def _pipeline(
    plan: ShadowPlan,
    routes: Mapping[str, Any],
    *,
    socket_path: Path,
    database_url: str,
    internal_token: str,
    admin_url: str | None,
    admin_token: str | None,
) -> AsyncIterator[dict[str, Any]]:
    counters = Counters()
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=8)
    tasks: list[asyncio.Task[None]] = []
    try:
        async with pool.acquire() as conn:
            await apply_migrations(conn, load_migrations("shadow", MIGRATIONS))
        store = ResultStore(pool, f"{socket.gethostname()}-{os.getpid()}")
        await store.start()
        live_rules: dict[str, tuple[Any, ...]] = await load_live_rules(pool)
        noise = NoiseLearner(plan.noise)
        legacy = httpx.AsyncClient(
            base_url=plan.legacy_url, trust_env=False, timeout=10.0,
            headers={"Authorization": f"Bearer {internal_token}"},
        )  # fmt: skip
        billing = BillingJoiner(legacy, pool)
        replayer = Replayer(
            plan.upstream_urls, counters, ws_replay=fork_session, on_drop=skip_recorder(store)
        )
        engine = ShadowEngine(
            routes=routes, compare_configs=plan.compare, replayer=replayer, store=store,
            noise=noise, counters=counters, billing=billing, live_rules=lambda: live_rules,
        )  # fmt: skip
        intake = Intake(socket_path, counters)
        await intake.start()
        tasks.append(asyncio.create_task(engine.consume(intake.get), name="shadow-engine"))
        tasks.append(asyncio.create_task(billing.run(), name="shadow-billing"))
        tasks.append(asyncio.create_task(_reload_rules(pool, live_rules), name="shadow-rules"))
        admin = None
        if admin_url and admin_token:
            admin = httpx.AsyncClient(trust_env=False, timeout=5.0)
            guard = CanaryGuard(admin_url, admin_token, plan.canary, admin)
            tasks.append(asyncio.create_task(guard.run(), name="shadow-canary-guard"))
        _log.info("shadow listening", socket=str(socket_path), routes=len(routes),
                  canary_guard=admin is not None)  # fmt: skip
        try:
            yield {"intake": intake, "store": store, "counters": counters, "pool": pool,
                   "engine": engine, "noise": noise}  # fmt: skip
        finally:
            await intake.aclose()  # no new records; then finish those in hand
            tasks[0].cancel()
            await engine.drain()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            with contextlib.suppress(Exception):
                await billing.run_due()  # what is due now; the rest is not worth the wait
            await replayer.aclose()
            await store.aclose()
            await legacy.aclose()
            if admin is not None:
                await admin.aclose()
    finally:
        for task in tasks:
            task.cancel()
        await pool.close()


async def _reload_rules(pool: asyncpg.Pool, into: dict[str, tuple[Any, ...]]) -> None:
    """Ignore rules added with ``banyan shadow-ignore`` apply within a few seconds."""
    while True:
        await asyncio.sleep(_RULES_RELOAD_S)
        try:
            fresh = await load_live_rules(pool)
        except (OSError, asyncpg.PostgresError) as exc:
            _log.warning("ignore rules not reloaded", error=repr(exc))
            continue
        into.clear()
        into.update(fresh)


_GAUGES: Final[tuple[tuple[str, str, tuple[str, ...]], ...]] = (
    ("banyan_shadow_parity", "Matched or ignored over compared, by route.", ("route",)),
    ("banyan_shadow_compared", "Compared requests in the window, by route.", ("route",)),
    ("banyan_shadow_latency_ms", "Latency quantiles, by route, side and quantile.",
     ("route", "side", "quantile")),
    ("banyan_shadow_error_rate", "Error rate, by route and side.", ("route", "side")),
    ("banyan_shadow_billing_credits", "Credits billed, by route and side.", ("route", "side")),
    ("banyan_shadow_billing_delta_ratio",
     "Candidate minus legacy credits over legacy credits, by route.", ("route",)),
)  # fmt: skip


def render_report_gauges(report: Mapping[str, Any]) -> str:
    """The report's numbers as Prometheus gauges (window :data:`METRICS_WINDOW`); a number the
    report does not have (no traffic yet) is left out rather than exported as 0."""
    samples: dict[str, list[tuple[tuple[str, ...], float]]] = {name: [] for name, _, _ in _GAUGES}

    def put(name: str, labels: tuple[str, ...], value: object) -> None:
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            samples[name].append((labels, float(value)))

    for route in report.get("routes", ()):
        name = str(route["route"])
        put("banyan_shadow_parity", (name,), route.get("parity"))
        put("banyan_shadow_compared", (name,), route.get("compared"))
        for side, quantiles in (route.get("latency_ms") or {}).items():
            for quantile, value in (quantiles or {}).items():
                put("banyan_shadow_latency_ms", (name, side, quantile), value)
        for side, value in (route.get("error_rate") or {}).items():
            put("banyan_shadow_error_rate", (name, side), value)
        billing = route.get("billing") or {}
        put("banyan_shadow_billing_credits", (name, "legacy"), billing.get("legacy_credits"))
        put("banyan_shadow_billing_credits", (name, "candidate"),
            billing.get("candidate_credits"))  # fmt: skip
        put("banyan_shadow_billing_delta_ratio", (name,), billing.get("delta_ratio"))
    lines: list[str] = []
    for metric, help_text, label_names in _GAUGES:
        lines.append(f"# HELP {metric} {help_text}")
        lines.append(f"# TYPE {metric} gauge")
        for labels, value in samples[metric]:
            pairs = ",".join(
                f'{k}="{_escape(v)}"' for k, v in zip(label_names, labels, strict=True)
            )
            lines.append(f"{metric}{{{pairs}}} {value:g}")
    return "\n".join(lines) + "\n"


def _render_store(store: ResultStore) -> str:
    stats = store.stats
    return (
        "# HELP banyan_shadow_store_rows_total Comparison rows, by fate (written, dropped when"
        " the buffer was full, failed to write).\n# TYPE banyan_shadow_store_rows_total counter\n"
        f'banyan_shadow_store_rows_total{{fate="written"}} {stats.written}\n'
        f'banyan_shadow_store_rows_total{{fate="dropped"}} {stats.dropped}\n'
        f'banyan_shadow_store_rows_total{{fate="failed"}} {stats.failed}\n'
        "# HELP banyan_shadow_store_queued Comparison rows waiting to be written.\n"
        f"# TYPE banyan_shadow_store_queued gauge\nbanyan_shadow_store_queued {stats.queued}\n"
    )


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')

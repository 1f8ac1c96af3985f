"""The lab: PostgreSQL, Redis and every service that exists, started in order on one machine.

Start order is stores → migrations → services (each waited for by its health probe); stop
order is the reverse. When ``DATABASE_URL`` / ``REDIS_URL`` are set those servers are used and
no embedded one is started. Once everything is ready the lab writes ``lab.json``
(``banyan.labfile``); :meth:`Lab.watch` then returns when a stop is requested or a child dies.

What it does not do: restart a dead child (the lab stops and says which died), or daemonise.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg

from banyan.gobuild import build_candidate
from banyan.labfile import live_lab_pid, load_or_create_secrets, write_lab_file
from banyan.launcher import (
    ChildProcess,
    EmbeddedPostgres,
    EmbeddedRedis,
    LabAlreadyRunningError,
    ProcessSpec,
    claim_port,
    http_probe,
    wait_until_ready,
)
from banyan.logs import get_logger
from banyan.migrations import apply_migrations, discover_migrations
from banyan.settings import Settings

__all__ = ["LAB_DATABASE", "Lab", "ServiceSpec"]

LAB_DATABASE = "banyan"
DEMO_TENANT = "demo"
DEMO_CREDITS = Decimal(1000)
_log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ExtraPort:
    """A second listener of a service: its flag, the port asked for, its lab.json key."""

    flag: str
    port: int
    url_key: str


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """One of our own services, run as ``banyan <name> --host H --port P [extra ports]``.

    Readiness is ``GET health_path`` on the main port, or on the extra port named by
    ``health_on`` (the proxy answers health on its admin listener, not its public one)."""

    name: str
    port: int
    extra_ports: tuple[ExtraPort, ...] = ()
    # Services whose URL this one is told (`--upstream NAME=URL`), started before it.
    upstreams: tuple[str, ...] = ()
    health_path: str = "/healthz"
    health_on: str | None = None
    start_timeout: float = 60.0
    # Told the proxy's admin URL (`--admin-url`), started after the proxy.
    wants_admin_url: bool = False
    # A Go service (candidate/): run as its built binary with `--legacy-url`/`--inference-url`
    # instead of `banyan <name>`.
    go: bool = False


def lab_services(settings: Settings) -> list[ServiceSpec]:
    """The services that exist so far, in start order (rfcs/0001 §3 has the full plan)."""
    return [
        ServiceSpec("inference", settings.inference_port),
        ServiceSpec("legacy", settings.legacy_port),
        # Works the job queue legacy fills (same database, same object root).
        ServiceSpec("worker", settings.worker_port),
        # Bills through legacy's internal API, so after legacy.
        ServiceSpec("candidate", settings.candidate_port, go=True),
        ServiceSpec(
            "proxy",
            settings.proxy_port,
            extra_ports=(ExtraPort("--admin-port", settings.admin_port, "admin_url"),),
            upstreams=("legacy", "candidate"),
            health_on="--admin-port",
        ),
        # After the proxy: the canary guard needs the admin URL; the proxy's feed reconnects
        # within 2 s, counting what it could not send meanwhile as shadow_unavailable.
        ServiceSpec(
            "shadow",
            settings.shadow_port,
            upstreams=("legacy", "candidate"),
            wants_admin_url=True,
        ),
    ]


class Lab:
    def __init__(self, settings: Settings, *, ephemeral: bool = False) -> None:
        self.settings = settings
        self.ephemeral = ephemeral
        self.state_dir = settings.state_dir.resolve()
        self.log_dir = self.state_dir / "logs"
        self.postgres: EmbeddedPostgres | None = None
        self.redis: EmbeddedRedis | None = None
        self.services: dict[str, tuple[ServiceSpec, ChildProcess, str]] = {}
        self.extra_urls: dict[str, str] = {}
        self.info: dict[str, Any] = {}
        self.go_bin: Path | None = None

    async def __aenter__(self) -> Lab:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> dict[str, Any]:
        """Start everything; on any failure stop what was started and re-raise."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        owner = live_lab_pid(self.state_dir)
        if owner is not None and owner != os.getpid():
            raise LabAlreadyRunningError(owner, str(self.state_dir / "lab.json"))
        try:
            database_url = await self._start_postgres()
            redis_url = await self._start_redis()
            await self._migrate(database_url)
            tokens = self._tokens()
            self.go_bin = await asyncio.to_thread(build_candidate, self.state_dir / "bin")
            for spec in lab_services(self.settings):
                await self._start_service(spec, database_url, redis_url, tokens)
        except BaseException:
            await self.stop()
            raise
        self.info = self._describe(database_url, redis_url)
        write_lab_file(self.state_dir, self.info)
        return self.info

    async def _start_postgres(self) -> str:
        if self.settings.database_url:
            return self.settings.database_url
        self.postgres = EmbeddedPostgres(
            data_dir=None if self.ephemeral else self.state_dir / "pg",
            log_path=self.log_dir / "postgres.log",
            port=self.settings.postgres_port,
            host=self.settings.host,
        )
        await self.postgres.start()
        conn = await asyncpg.connect(self.postgres.url())
        try:
            if not await conn.fetchval(
                "SELECT 1 FROM pg_database WHERE datname = $1", LAB_DATABASE
            ):
                await conn.execute(f'CREATE DATABASE "{LAB_DATABASE}"')
        finally:
            await conn.close()
        return self.postgres.url(LAB_DATABASE)

    async def _start_redis(self) -> str:
        if self.settings.redis_url:
            return self.settings.redis_url
        self.redis = EmbeddedRedis(
            data_dir=None if self.ephemeral else self.state_dir / "redis",
            log_path=self.log_dir / "redis.log",
            port=self.settings.redis_port,
            host=self.settings.host,
        )
        await self.redis.start()
        return self.redis.url()

    async def _migrate(self, database_url: str) -> None:
        """Apply every part's migrations, then make sure the demo tenant exists."""
        from legacy.commerce.tenants import ensure_tenant

        conn = await asyncpg.connect(database_url)
        try:
            await apply_migrations(conn, discover_migrations())
            key = load_or_create_secrets(self.state_dir)["demo_api_key"]
            await ensure_tenant(conn, DEMO_TENANT, DEMO_CREDITS, api_key=key)
        finally:
            await conn.close()

    def _tokens(self) -> dict[str, str]:
        secrets = load_or_create_secrets(self.state_dir)
        return {
            "admin_token": self.settings.admin_token or secrets["admin_token"],
            "internal_token": self.settings.internal_token or secrets["internal_token"],
            "storage_secret": self.settings.storage_secret or secrets["storage_secret"],
        }

    async def _start_service(
        self, spec: ServiceSpec, database_url: str, redis_url: str, tokens: dict[str, str]
    ) -> None:
        host = self.settings.host
        port = claim_port(
            spec.name,
            host,
            spec.port,
            hint=f"set BANYAN_{spec.name.upper()}_PORT or --{spec.name}-port",
        )
        extra_args: list[str] = []
        extra_ports: dict[str, int] = {}
        for extra in spec.extra_ports:
            setting = extra.flag.removeprefix("--").replace("-", "_").upper()
            extra_ports[extra.flag] = claim_port(
                f"{spec.name} {extra.flag}",
                host,
                extra.port,
                hint=f"set BANYAN_{setting} or {extra.flag}",
            )
            extra_args += [extra.flag, str(extra_ports[extra.flag])]
        for name in spec.upstreams:
            extra_args += ["--upstream", f"{name}={self.services[name][2]}"]
        if spec.wants_admin_url:
            extra_args += ["--admin-url", self.extra_urls["admin_url"]]
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "BANYAN_STATE_DIR": str(self.state_dir),
            "BANYAN_ENV": self.settings.env,
            "BANYAN_LOG_LEVEL": self.settings.log_level,
            "BANYAN_LOG_FORMAT": self.settings.log_format,
            "BANYAN_CONFIG": str(self.settings.config.resolve()),
            "BANYAN_ADMIN_TOKEN": tokens["admin_token"],
            "BANYAN_INTERNAL_TOKEN": tokens["internal_token"],
            "BANYAN_STORAGE_SECRET": tokens["storage_secret"],
            "BANYAN_OBJECT_ROOT": str(self.settings.objects_dir.resolve()),
        }
        if "inference" in self.services:
            env["BANYAN_INFERENCE_URL"] = self.services["inference"][2]
        if spec.go:
            command = [str(self.go_bin)]
            extra_args += ["--legacy-url", self.services["legacy"][2]]
            if "inference" in self.services:
                extra_args += ["--inference-url", self.services["inference"][2]]
        else:
            command = [sys.executable, "-m", "banyan", spec.name]
        argv = [*command, "--host", host, "--port", str(port), *extra_args]
        child = ChildProcess(
            ProcessSpec(
                name=spec.name, argv=argv, env=env, log_path=self.log_dir / f"{spec.name}.log"
            )
        )
        url = f"http://{host}:{port}"
        self.services[spec.name] = (spec, child, url)
        for extra in spec.extra_ports:
            self.extra_urls[extra.url_key] = f"http://{host}:{extra_ports[extra.flag]}"
        health_port = extra_ports[spec.health_on] if spec.health_on else port
        child.start()
        await wait_until_ready(
            child,
            http_probe(f"http://{host}:{health_port}{spec.health_path}"),
            within=spec.start_timeout,
        )
        _log.info("service ready", service=spec.name, url=url)

    def _describe(self, database_url: str, redis_url: str) -> dict[str, Any]:
        tokens = self._tokens()
        info: dict[str, Any] = {
            "demo_tenant": DEMO_TENANT,
            "demo_api_key": load_or_create_secrets(self.state_dir)["demo_api_key"],
            "pid": os.getpid(),
            "started_at": datetime.now(UTC).isoformat(),
            "state_dir": str(self.state_dir),
            "log_dir": str(self.log_dir),
            "database_url": database_url,
            "redis_url": redis_url,
            **tokens,
            **self.extra_urls,
            "postgres": _store_info(self.postgres, self.log_dir / "postgres.log"),
            "redis": _store_info(self.redis, self.log_dir / "redis.log"),
            "services": {},
        }
        for name, (_spec, child, url) in self.services.items():
            info[f"{name}_url"] = url
            info["services"][name] = {"url": url, "pid": child.pid, "log": str(child.spec.log_path)}
        return info

    def children(self) -> list[ChildProcess]:
        """Every child in start order."""
        stores = [s.child for s in (self.postgres, self.redis) if s is not None and s.child]
        return [*stores, *(child for _spec, child, _url in self.services.values())]

    async def watch(self, stop: asyncio.Event, interval: float = 0.2) -> str | None:
        """Wait for ``stop`` or a child's death; return the dead child's name, if any."""
        while not stop.is_set():
            for child in self.children():
                if not child.is_running():
                    _log.error("child died", child=child.spec.name, code=child.returncode())
                    return child.spec.name
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)
        return None

    async def stop(self) -> None:
        """Stop services, then Redis, then PostgreSQL; remove lab.json. Idempotent."""
        for _spec, child, _url in reversed(list(self.services.values())):
            await child.stop()
        if self.redis is not None:
            await self.redis.stop()
        if self.postgres is not None:
            await self.postgres.stop()
        lab_file = self.state_dir / "lab.json"
        if live_lab_pid(self.state_dir) in (os.getpid(), None):
            lab_file.unlink(missing_ok=True)


def _store_info(store: EmbeddedPostgres | EmbeddedRedis | None, log: Path) -> dict[str, Any]:
    if store is None:
        return {"embedded": False}
    return {
        "embedded": True,
        "pid": store.child.pid if store.child else None,
        "port": store.port,
        "data_dir": str(store.data_dir),
        "log": str(log),
    }

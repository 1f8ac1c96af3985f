"""The replayer's HTTP/1.1 client, on the proxy's own upstream connections (proxy.upstream).

Why not httpx: at 400 replays/s a profile of the shadow process had 60% of its CPU in httpx,
httpcore and anyio (a readability ``select`` on every pooled connection per request, cancel
scopes, cookie and redirect machinery a replay never uses), and that CPU is taken from the
proxy on the same cores: the live p99 moved 17% (docs/benchmarks.md). The proxy already has a
lean HTTP/1.1 client: :class:`~proxy.upstream.UpstreamPool` and its httptools-parsed
connections. This module adds only the two things a replay needs on top: a sink that collects
one whole response, and one request written from bytes in hand.

One exchange: acquire a pooled connection (or connect), write head and body at once, collect
the response until it ends, return the connection to the pool if it can be reused. A reused
connection that breaks before any byte of a response (the keep-alive race) is retried once on
a fresh one, as the proxy does. Failures become :class:`ReplayFailure` with the kind the
shadow engine records (``connect_error``, ``reset``, ``garbage``); the caller's deadline
(``asyncio.timeout``) makes ``timeout``, and the connection of a cancelled exchange is aborted,
never pooled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from proxy.config import Upstream
from proxy.headers import Headers, encode_request_head
from proxy.upstream import (
    UpstreamBroken,
    UpstreamConnectError,
    UpstreamConnection,
    UpstreamError,
    UpstreamPool,
    UpstreamTimeout,
)
from shadow.model import CandidateErrorKind

__all__ = ["ReplayClient", "ReplayFailure", "ReplayResponse"]

_BODY_METHODS: Final = frozenset({b"POST", b"PUT", b"PATCH"})


@dataclass(frozen=True, slots=True)
class ReplayResponse:
    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes
    # loop time the first body byte arrived (None: the response had no body)
    first_body_at: float | None


class ReplayFailure(Exception):
    """The other side did not give a whole answer; ``kind`` is how the engine records it. What
    arrived before the failure is kept (a stream cut midway is evidence too)."""

    def __init__(
        self, kind: CandidateErrorKind, message: str, partial: ReplayResponse | None = None
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.partial = partial


class _Collector:
    """A :class:`~proxy.upstream.ResponseSink` that keeps one whole response, up to ``cap``."""

    def __init__(self, loop: asyncio.AbstractEventLoop, cap: int) -> None:
        self._loop = loop
        self._cap = cap
        self.done: asyncio.Future[None] = loop.create_future()
        self.status = 0
        self.headers: Headers = []
        self.body = bytearray()
        self.first_body_at: float | None = None
        self.got_head = False

    def response(self) -> ReplayResponse:
        return ReplayResponse(self.status, tuple(self.headers), bytes(self.body),
                              self.first_body_at)  # fmt: skip

    # -- ResponseSink --------------------------------------------------------------------------

    def response_head(self, status: int, headers: Headers, keep_alive: bool) -> None:
        self.status, self.headers, self.got_head = status, headers, True

    def response_body(self, chunk: bytes) -> None:
        if self.done.done():
            return  # over the cap already; the connection is being aborted
        if self.first_body_at is None and chunk:
            self.first_body_at = self._loop.time()
        self.body += chunk
        if len(self.body) > self._cap:
            # far bigger than anything the served side sent: stop reading it
            self.done.set_exception(
                ReplayFailure("garbage", f"answer over {self._cap} bytes", self.response())
            )

    def response_end(self) -> None:
        if not self.done.done():
            self.done.set_result(None)

    def upstream_failed(self, error: UpstreamError) -> None:
        if not self.done.done():
            self.done.set_exception(error)

    def tunnel_data(self, data: bytes) -> None:
        pass  # a 101 to a plain HTTP replay: nothing of it is read

    def upstream_writable(self) -> None:
        pass  # the whole request is written at once


class ReplayClient:
    """Keep-alive pools per base URL; :meth:`send` one request. Close with :meth:`close`."""

    def __init__(self, *, max_idle: int = 64) -> None:
        self._max_idle = max_idle
        self._pools: dict[str, UpstreamPool] = {}

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()

    async def send(
        self, base_url: str, method: bytes, target: bytes, fields: Iterable[tuple[bytes, bytes]],
        body: bytes, *, cap: int,
    ) -> ReplayResponse:  # fmt: skip
        """One exchange; raises :class:`ReplayFailure`, or ``ValueError`` for a base URL that
        is not ``http://host[:port]``. Bound it with the caller's deadline."""
        pool = self._pool(base_url)
        fields = list(fields)
        if not any(name == b"host" for name, _ in fields):
            fields.append((b"host", _host_field(pool.upstream)))
        if body or method in _BODY_METHODS:
            fields.append((b"content-length", b"%d" % len(body)))
        request = encode_request_head(method, target, fields) + body
        head_only = method == b"HEAD"
        for attempt in (1, 2):
            try:
                conn, reused = await pool.acquire()
            except UpstreamConnectError as exc:
                raise ReplayFailure("connect_error", str(exc)) from None
            except UpstreamTimeout as exc:
                raise ReplayFailure("timeout", str(exc)) from None
            try:
                return await self._exchange(pool, conn, request, head_only=head_only, cap=cap)
            except UpstreamBroken as exc:
                if attempt == 1 and reused and exc.before_response:
                    continue  # the keep-alive race: the upstream closed an idle connection
                raise ReplayFailure("reset", str(exc)) from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _exchange(
        self, pool: UpstreamPool, conn: UpstreamConnection, request: bytes, *,
        head_only: bool, cap: int,
    ) -> ReplayResponse:  # fmt: skip
        collector = _Collector(asyncio.get_running_loop(), cap)
        conn.begin(collector, head_only=head_only)
        finished = False
        try:
            conn.write(request)
            await collector.done
            finished = True
        finally:
            if finished:
                pool.release(conn)
            else:  # failed, over the cap or cancelled by the deadline: never reuse it
                conn.abort()
        return collector.response()

    def _pool(self, base_url: str) -> UpstreamPool:
        pool = self._pools.get(base_url)
        if pool is None:
            pool = UpstreamPool(_upstream(base_url), max_idle=self._max_idle)
            self._pools[base_url] = pool
        return pool


def _upstream(base_url: str) -> Upstream:
    parts = urlsplit(base_url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"replays go to http://host[:port] upstreams, not {base_url!r}")
    return Upstream(name=base_url, url=base_url, host=parts.hostname, port=parts.port or 80)


def _host_field(upstream: Upstream) -> bytes:
    host = f"[{upstream.host}]" if ":" in upstream.host else upstream.host
    return f"{host}:{upstream.port}".encode()

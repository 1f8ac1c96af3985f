"""Connections to an upstream (legacy or candidate): one protocol object each, and a pool.

An :class:`UpstreamConnection` carries one exchange at a time (HTTP/1.1, no pipelining to
upstreams). Parser callbacks only record facts and hand them to the exchange through the
:class:`ResponseSink` interface; they never await (STYLE house rule 5). Back pressure both
ways is plain ``pause_reading``/``resume_reading`` on the transports.

The :class:`UpstreamPool` keeps idle keep-alive connections, most recently used first, and
drops one that has been idle longer than ``idle_timeout`` — kept below the upstream's own
keep-alive timeout (uvicorn closes after 5 s), so we rarely reuse a socket being closed. When
that race is lost anyway, the exchange may retry once (see ``exchange.py``).

Exception tree (every one maps to a status in ``exchange.py``)::

    UpstreamError
    ├── UpstreamConnectError   could not connect (502)
    ├── UpstreamTimeout        no answer in time (504)
    └── UpstreamBroken         closed or sent garbage mid-exchange (502)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Protocol, cast

import httptools

from proxy.config import Upstream
from proxy.headers import Headers

__all__ = [
    "ResponseSink",
    "UpstreamBroken",
    "UpstreamConnectError",
    "UpstreamConnection",
    "UpstreamError",
    "UpstreamPool",
    "UpstreamTimeout",
]


class UpstreamError(Exception):
    """Base of every upstream failure."""


class UpstreamConnectError(UpstreamError):
    pass


class UpstreamTimeout(UpstreamError):
    pass


class UpstreamBroken(UpstreamError):
    def __init__(self, message: str, *, before_response: bool) -> None:
        super().__init__(message)
        # Nothing of a response arrived: the request may be retried on a fresh connection.
        self.before_response = before_response


class ResponseSink(Protocol):
    """What receives one response. Calls arrive in order: ``response_head`` once, then
    ``response_body`` zero or more times, then exactly one of ``response_end`` or
    ``upstream_failed``. After a 101, ``tunnel_data`` replaces ``response_body``."""

    def response_head(self, status: int, headers: Headers, keep_alive: bool) -> None: ...
    def response_body(self, chunk: bytes) -> None: ...
    def response_end(self) -> None: ...
    def upstream_failed(self, error: UpstreamError) -> None: ...
    def tunnel_data(self, data: bytes) -> None: ...
    def upstream_writable(self) -> None: ...


class UpstreamConnection(asyncio.Protocol):
    def __init__(self, pool: UpstreamPool) -> None:
        # global
        self.pool = pool
        # per connection
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.write_paused = False
        self.tunnelling = False
        self.idle_since = 0.0
        # per exchange
        self.sink: ResponseSink | None = None
        self._parser: httptools.HttpResponseParser | None = None
        self._headers: Headers = []
        self._head_only = False
        self._head_seen = False
        self._got_bytes = False
        self._complete = False
        self._reusable = False

    # -- asyncio.Protocol --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self.tunnelling:
            if self.sink is not None:
                self.sink.tunnel_data(data)
            return
        if self._parser is None or self._complete:
            # Bytes nobody asked for: the connection is out of sync and must not be reused.
            self._abort("unexpected data from upstream")
            return
        self._got_bytes = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade as upgrade:
            self.tunnelling = True
            rest = data[upgrade.args[0] :]
            if rest and self.sink is not None:
                self.sink.tunnel_data(rest)
        except httptools.HttpParserError as exc:
            self._fail(
                UpstreamBroken(f"invalid response from upstream: {exc}", before_response=False)
            )

    def eof_received(self) -> bool | None:
        if self.tunnelling and self.sink is not None:
            self.sink.tunnel_data(b"")  # half-close: the sink closes its side
            return True
        if self._parser is not None and not self._complete and self._is_close_delimited():
            # A response without length ends when the upstream closes.
            self._parser = None
            self._complete = True
            self._finish_response()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.pool.forget(self)
        if self.sink is not None and not self._complete:
            self._fail(
                UpstreamBroken(
                    "upstream closed the connection", before_response=not self._got_bytes
                )
            )

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        if self.sink is not None:
            self.sink.upstream_writable()

    # -- httptools callbacks (record facts only) ---------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        assert self._parser is not None
        assert self.sink is not None
        status = self._parser.get_status_code()
        if 100 <= status < 200 and status != 101:
            self._headers = []  # interim response (100, 103): not relayed; the final one follows
            return
        keep_alive = self._parser.should_keep_alive()
        self._head_seen = True
        self.sink.response_head(status, self._headers, keep_alive)
        if self._head_only or status in (204, 304):
            # No body follows whatever the headers say; this parser would wait for one.
            self._parser = None
            self._complete = True
            self._reusable = keep_alive
            self._finish_response()

    def on_body(self, body: bytes) -> None:
        if self.sink is not None and not self._complete:
            self.sink.response_body(body)

    def on_message_complete(self) -> None:
        if self._parser is None or self._complete:
            return
        if 100 <= self._parser.get_status_code() < 200 and not self.tunnelling:
            return  # end of an interim response
        self._complete = True
        self._reusable = self._parser.should_keep_alive()
        self._finish_response()

    # -- used by the exchange ----------------------------------------------------------------

    def begin(self, sink: ResponseSink, *, head_only: bool) -> None:
        """Start an exchange: the next bytes from upstream are its response."""
        self.sink = sink
        self._parser = httptools.HttpResponseParser(self)
        self._headers = []
        self._head_only = head_only
        self._head_seen = False
        self._got_bytes = False
        self._complete = False
        self._reusable = False

    def write(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data)

    def pause_reading(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.resume_reading()

    def is_reusable(self) -> bool:
        if self.transport is None or self.transport.is_closing():
            return False  # e.g. the upstream's EOF was seen and connection_lost has not run yet
        return self._complete and self._reusable and not self.closed and not self.tunnelling

    def detach(self) -> None:
        self.sink = None

    def close(self) -> None:
        self.sink = None
        if self.transport is not None and not self.closed:
            self.transport.close()
        self.closed = True

    def abort(self) -> None:
        self.sink = None
        if self.transport is not None and not self.closed:
            self.transport.abort()
        self.closed = True

    # -- internals ---------------------------------------------------------------------------

    def _is_close_delimited(self) -> bool:
        return self._head_seen and not any(
            k in (b"content-length", b"transfer-encoding") for k, _ in self._headers
        )

    def _finish_response(self) -> None:
        if self.sink is not None:
            self.sink.response_end()

    def _fail(self, error: UpstreamError) -> None:
        sink, self.sink = self.sink, None
        self._complete = True
        self._reusable = False
        if self.transport is not None and not self.closed:
            self.transport.abort()
        self.closed = True
        if sink is not None:
            sink.upstream_failed(error)

    def _abort(self, reason: str) -> None:
        self._fail(UpstreamBroken(reason, before_response=False))


class UpstreamPool:
    """Idle keep-alive connections to one upstream, most recently used first."""

    def __init__(
        self,
        upstream: Upstream,
        *,
        connect_timeout: float = 5.0,
        idle_timeout: float = 4.0,
        max_idle: int = 128,
    ) -> None:
        self.upstream = upstream
        self.connect_timeout = connect_timeout
        self.idle_timeout = idle_timeout
        self.max_idle = max_idle
        self._idle: deque[UpstreamConnection] = deque()

    async def acquire(self) -> tuple[UpstreamConnection, bool]:
        """A connection and whether it was reused. Raises UpstreamConnectError/Timeout."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        while self._idle:
            conn = self._idle.pop()
            if conn.is_reusable() and now - conn.idle_since < self.idle_timeout:
                return conn, True
            conn.close()
        return await self.connect(), False

    async def connect(self) -> UpstreamConnection:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.connect_timeout):
                _, conn = await loop.create_connection(
                    lambda: UpstreamConnection(self), self.upstream.host, self.upstream.port
                )
        except TimeoutError as exc:
            raise UpstreamTimeout(
                f"connecting to {self.upstream.name} took over {self.connect_timeout:g}s"
            ) from exc
        except OSError as exc:
            raise UpstreamConnectError(
                f"cannot connect to {self.upstream.name} ({self.upstream.url}): "
                f"{exc.strerror or exc}"
            ) from exc
        return conn

    def release(self, conn: UpstreamConnection) -> None:
        """Return a connection after its exchange; keep it only if it can be reused."""
        conn.detach()
        if not conn.is_reusable() or len(self._idle) >= self.max_idle:
            conn.close()
            return
        conn.idle_since = asyncio.get_running_loop().time()
        # The exchange may have paused reading for a slow client in its last callback. An idle
        # connection must read: to see the upstream close it, and to read the next response.
        conn.resume_reading()
        self._idle.append(conn)

    def forget(self, conn: UpstreamConnection) -> None:
        """Called when a connection closes; an idle one is dropped from the pool."""
        with contextlib.suppress(ValueError):
            self._idle.remove(conn)

    def idle_count(self) -> int:
        return len(self._idle)

    def close(self) -> None:
        while self._idle:
            self._idle.pop().close()

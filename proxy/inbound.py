"""The client side of the proxy: one asyncio protocol per connection, parsing with httptools.

Parser callbacks only record facts (STYLE house rule 5): ``on_headers_complete`` builds an
:class:`~proxy.exchange.Exchange` and starts exactly one tracked task for it; ``on_body``
hands bytes to it. Reading pauses for a set of named reasons (body back pressure, a pipelined
request waiting its turn, a WebSocket tunnel being set up) and resumes only when none is left.

HTTP/1.1 rules held here: pipelined requests are answered in order, one parsed ahead at most;
an idle keep-alive connection closes after ``keepalive_timeout`` and a request head begun and
not finished within ``head_timeout`` gets 408; a malformed request gets 400
and an oversized head 431, both with ``Connection: close``; ``Expect: 100-continue`` is
answered by the proxy itself. After an upgrade the connection becomes a byte tunnel.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import cast

import httptools

from banyan.contract import accept_request_id
from proxy.core import ProxyCore
from proxy.exchange import Exchange, InboundRequest
from proxy.headers import Headers, first
from proxy.responses import error_response

__all__ = ["InboundProtocol"]

_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class _HeadTooLarge(Exception):
    pass


class InboundProtocol(asyncio.Protocol):
    def __init__(self, core: ProxyCore) -> None:
        # global
        self.core = core
        self.loop = asyncio.get_running_loop()
        # per connection
        self.transport: asyncio.Transport | None = None
        self.client_host = ""
        self.parser = httptools.HttpRequestParser(self)
        self.closed = False
        self.write_paused = False
        self._pause_reasons: set[str] = set()
        self._keepalive: asyncio.TimerHandle | None = None
        self._head_timer: asyncio.TimerHandle | None = None
        self.active: Exchange | None = None  # whose response is being written
        self.waiting: deque[Exchange] = deque()  # parsed, answered after the active one
        self.tunnel: Exchange | None = None
        self._early: bytes = b""  # bytes after an upgrade request, before the tunnel exists
        self._deferred_error: bytes | None = None
        # per request being parsed
        self.parsing: Exchange | None = None
        self._url = bytearray()
        self._headers: Headers = []
        self._head_bytes = 0
        self._in_head = False  # a request's first byte arrived, its head is not complete

    # -- asyncio.Protocol --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername")
        self.client_host = str(peer[0]) if peer else ""
        self.core.connections.add(self)
        self._arm_keepalive()

    def data_received(self, data: bytes) -> None:
        if self.tunnel is not None:
            self.tunnel.client_tunnel_data(data)
            return
        self._disarm_keepalive()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as upgrade:
            self._early = data[upgrade.args[0] :]
            self.pause("upgrade")
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__, _HeadTooLarge):
                self._bad_request(431, "request head too large", "head_too_large")
            else:
                raise
        except httptools.HttpParserError as exc:
            reason = exc.args[0] if exc.args else "malformed request"
            self._bad_request(400, f"malformed HTTP request: {reason}", "malformed")
        self._time_head()

    def eof_received(self) -> bool | None:
        if self.tunnel is not None:
            self.tunnel.client_tunnel_data(b"")
            return True
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.core.connections.discard(self)
        self._disarm_keepalive()
        self._in_head = False
        self._time_head()
        for exchange in {self.parsing, self.active, self.tunnel, *self.waiting}:
            if exchange is not None:
                exchange.client_gone()
        self.waiting.clear()

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        exchange = self.tunnel or self.active
        if exchange is not None:
            exchange.client_writable()

    # -- httptools callbacks (record facts only) ---------------------------------------------

    def on_message_begin(self) -> None:
        self._url = bytearray()
        self._headers = []
        self._head_bytes = 0
        self._in_head = True

    def on_url(self, url: bytes) -> None:
        self._url += url
        self._count_head(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.lower(), value))
        self._count_head(len(name) + len(value) + 4)

    def on_headers_complete(self) -> None:
        self._in_head = False
        target = bytes(self._url)
        request = InboundRequest(
            method=self.parser.get_method(),
            target=target,
            path=target.split(b"?", 1)[0].decode("latin-1"),
            headers=self._headers,
            http_version=self.parser.get_http_version(),
            keep_alive=self.parser.should_keep_alive(),
            upgrade=self.parser.should_upgrade(),
            client_host=self.client_host,
        )
        exchange = Exchange(self.core, self, request)
        exchange.prepare()
        self.parsing = exchange
        if self.active is None:
            self._start(exchange)
        else:
            self.waiting.append(exchange)
            self.pause("pipelined")

    def on_body(self, body: bytes) -> None:
        if self.parsing is not None:
            self.parsing.request_body(body)

    def on_message_complete(self) -> None:
        if self.parsing is not None:
            self.parsing.request_end()
        self.parsing = None

    # -- used by exchanges -------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.closed:
            self.transport.write(data)

    def pause(self, reason: str) -> None:
        if not self._pause_reasons and self.transport is not None and not self.closed:
            self.transport.pause_reading()
        self._pause_reasons.add(reason)

    def resume(self, reason: str) -> None:
        if reason not in self._pause_reasons:
            return
        self._pause_reasons.discard(reason)
        if not self._pause_reasons and self.transport is not None and not self.closed:
            self.transport.resume_reading()

    def close(self) -> None:
        """Close after what has been written is flushed."""
        if self.transport is not None and not self.closed:
            self.transport.close()
        self.closed = True

    def abort(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.abort()
        self.closed = True

    def start_tunnel(self, exchange: Exchange) -> None:
        self.tunnel = exchange
        early, self._early = self._early, b""
        if early:
            exchange.client_tunnel_data(early)
        self.resume("upgrade")

    def exchange_done(self, exchange: Exchange, *, keep_alive: bool) -> None:
        """The active exchange's response is complete: answer the next one, or idle, or close."""
        if exchange is not self.active:
            return
        self.active = None
        if self.closed or self.tunnel is exchange:
            return
        if not keep_alive:
            self.close()
            return
        # Back pressure the finished request's body put on reading ended with it (a waiting
        # request's own body pauses again at its next chunk if it must).
        self.resume("upstream")
        self.resume("pending")
        if self.waiting:
            self._start(self.waiting.popleft())
            if not self.waiting:
                self.resume("pipelined")
        elif self._deferred_error is not None:
            self.write(self._deferred_error)
            self.close()
        else:
            self._arm_keepalive()

    # -- internals ---------------------------------------------------------------------------

    def _start(self, exchange: Exchange) -> None:
        self.active = exchange
        headers = exchange.request.headers
        if exchange.rejection is None and exchange.request.http_version == "1.1":
            expect = first(headers, b"expect")
            if expect is not None and expect.lower() == b"100-continue":
                self.write(_CONTINUE)
        self.core.track(self.loop.create_task(exchange.run()))

    def _count_head(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > self.core.limits.max_header_bytes:
            raise _HeadTooLarge

    def _bad_request(self, status: int, message: str, kind: str) -> None:
        self.core.counters.inc("banyan_proxy_client_errors_total", kind)
        response = error_response(status, message, request_id=accept_request_id(None), close=True)
        self.pause("bad_request")
        if self.active is None:
            self.write(response)
            self.close()
        else:
            self._deferred_error = response  # after the responses already owed, in order

    def _time_head(self) -> None:
        """A head under way has a deadline from its first byte; none otherwise."""
        if self._in_head and not self.closed:
            if self._head_timer is None:
                self._head_timer = self.loop.call_later(
                    self.core.limits.head_timeout, self._head_timed_out
                )
        elif self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._pause_reasons:  # we stopped reading (a pipelined turn): not the client's delay
            self._time_head()
            return
        if self._in_head and not self.closed:
            self._in_head = False
            seconds = f"{self.core.limits.head_timeout:g}"
            self._bad_request(
                408, f"the request head did not arrive within {seconds} s of its first byte",
                "head_timeout",
            )  # fmt: skip

    def _arm_keepalive(self) -> None:
        self._disarm_keepalive()
        self._keepalive = self.loop.call_later(self.core.limits.keepalive_timeout, self._idle_close)

    def _disarm_keepalive(self) -> None:
        if self._keepalive is not None:
            self._keepalive.cancel()
            self._keepalive = None

    def close_if_idle(self) -> None:
        if (
            self.active is None
            and self.parsing is None
            and not self.waiting
            and self.tunnel is None
        ):
            self.close()

    def _idle_close(self) -> None:
        self.close_if_idle()

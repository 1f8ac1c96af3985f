"""One request through the proxy: the ordered pipeline of STYLE house rule 4.

    identify → match_route → choose_mode → build_outbound → forward → relay → finish

The first four are plain synchronous steps run when the request head has been parsed
(:meth:`Exchange.prepare`); ``forward`` and ``relay`` are driven by :meth:`Exchange.run` and
by the upstream connection's callbacks, which write response bytes to the client the moment
they arrive (no per-chunk task switch); ``finish`` runs once the live response is complete.
:data:`PIPELINE` names the steps in order and a test asserts that order.

Guarantees: the client gets exactly one response (the upstream's, or one error envelope from
the proxy: 400/413/501 for the request, 502 when the upstream fails, 504 when it is silent too
long); after a response has started, a failure can only abort the connection. A request on a
pooled connection the upstream had just closed is retried once on a fresh one when nothing of
a response arrived and the whole body is still in hand. The mirror record is offered after the
live response is written and never affects it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from banyan.contract import (
    REQUEST_ID_B,
    SERVED_BY_B,
    TRACEPARENT_B,
    accept_request_id,
    accept_traceparent,
)
from proxy import mirror
from proxy._types import Side
from proxy.config import RouteConfig
from proxy.core import ProxyCore
from proxy.headers import (
    Headers,
    api_key_of,
    encode_request_head,
    encode_response_head,
    end_to_end,
    first,
)
from proxy.modes import Decision, choose_mode, upstream_for
from proxy.responses import error_response, status_line
from proxy.upstream import (
    UpstreamBroken,
    UpstreamConnectError,
    UpstreamConnection,
    UpstreamError,
    UpstreamTimeout,
)

if TYPE_CHECKING:
    from proxy.inbound import InboundProtocol

__all__ = ["PIPELINE", "Exchange", "InboundRequest"]

PIPELINE = (
    "identify",
    "match_route",
    "choose_mode",
    "build_outbound",
    "forward",
    "relay",
    "finish",
)

_log = logging.getLogger("banyan.proxy")
Framing = Literal["none", "length", "chunked", "close"]


@dataclass(slots=True)
class InboundRequest:
    method: bytes
    target: bytes
    path: str  # the target up to "?", matched as sent (no percent-decoding: no path confusion)
    headers: Headers
    http_version: str
    keep_alive: bool
    upgrade: bool
    client_host: str


class ClientGone(Exception):
    """The client disconnected; nothing more can be written to it."""


class Exchange:
    def __init__(self, core: ProxyCore, inbound: InboundProtocol, request: InboundRequest) -> None:
        self.core = core
        self.inbound = inbound
        self.request = request
        self.loop = asyncio.get_running_loop()
        self.started_at = self.last_activity = self.first_byte_at = self.loop.time()
        # decided by prepare()
        self.request_id = b""
        self.traceparent = b""
        self.route: RouteConfig | None = None
        self.decision: Decision | None = None
        self.upstream_name = "legacy"
        self.outbound_head = b""
        self.request_framing: Framing = "none"
        self.rejection: bytes | None = None  # an error response instead of forwarding
        # request body
        self.body_received = 0
        self.request_done = False
        self.pending = bytearray()  # framed body bytes waiting for an upstream connection
        self.sent: bytearray | None = bytearray()  # framed body kept for one retry, while small
        self.mirror_request: bytearray | None = None
        self.mirror_cap = 0
        self.mirror_overflow = False
        # a mirrored WebSocket session's bytes each way, from the 101 on (rfcs/0005 §3)
        self.ws_client: list[tuple[float, bytes]] | None = None
        self.ws_server: list[tuple[float, bytes]] | None = None
        self.ws_client_bytes = self.ws_server_bytes = 0
        self.tunnel_at = 0.0
        # upstream
        self.upstream: UpstreamConnection | None = None
        self.upstream_paused = False
        self._head: asyncio.Future[None] = self.loop.create_future()
        self._done: asyncio.Future[None] = self.loop.create_future()
        # response
        self.status = 0
        self.first_body_at = 0.0  # 0.0 until the first response body byte is relayed
        self.response_started = False
        self.response_framing: Framing = "none"
        self.response_headers: Headers = []
        self.mirror_response: bytearray | None = None
        self.client_keep_alive = request.keep_alive
        self.live_failed = False
        self.gone = False

    # -- identify · match_route · choose_mode · build_outbound (sync, at headers-complete) ---

    def prepare(self) -> None:
        """Run the steps before forwarding; a request that cannot be forwarded gets
        ``self.rejection``, written when its turn comes (pipelined responses stay in order)."""
        self.identify()
        self.match_route()
        self.choose_mode()
        self.rejection = self.build_outbound()

    def identify(self) -> None:
        headers = self.request.headers
        self.request_id = accept_request_id(first(headers, REQUEST_ID_B))
        self.traceparent = accept_traceparent(first(headers, TRACEPARENT_B))

    def match_route(self) -> None:
        match = self.core.table.match(
            self.request.method.decode("ascii"), self.request.path, websocket=self.request.upgrade
        )
        self.route = match.route

    def choose_mode(self) -> None:
        decision = choose_mode(
            self.route, api_key=api_key_of(self.request.headers), random=self.core.random
        )
        self.decision = decision
        self.upstream_name = upstream_for(self.route, decision.serve)
        route_name = self.route.name if self.route is not None else "-"
        self.core.counters.inc("banyan_proxy_decisions_total", route_name, decision.reason)
        if decision.mirror and self.route is not None:
            self.mirror_request = bytearray()
            self.mirror_cap = self.route.shadow.max_body_bytes

    def build_outbound(self) -> bytes | None:
        request = self.request
        limits = self.core.limits
        lengths = [v for k, v in request.headers if k == b"content-length"]
        encoding = first(request.headers, b"transfer-encoding")
        if encoding is not None:
            if lengths:
                return self.reject(
                    400, "a request may not carry both Content-Length and Transfer-Encoding"
                )
            if encoding.strip().lower() != b"chunked":
                return self.reject(501, "only Transfer-Encoding: chunked is supported")
            self.request_framing = "chunked"
        elif lengths:
            if len(set(lengths)) > 1 or not lengths[0].strip().isdigit():
                return self.reject(400, "Content-Length must be one non-negative integer")
            length = int(lengths[0])
            if length > limits.max_request_body:
                return self.reject(413, f"request body over {limits.max_request_body} bytes")
            self.request_framing = "length" if length else "none"
        fields = end_to_end(request.headers)
        fields += [
            (REQUEST_ID_B, self.request_id),
            (TRACEPARENT_B, self.traceparent),
            (b"x-forwarded-for", request.client_host.encode()),
            (b"x-forwarded-proto", b"http"),
        ]
        if first(request.headers, b"host") is None:
            fields.append((b"host", self.core.pools[self.upstream_name].upstream.host.encode()))
        if self.request_framing == "length":
            fields.append((b"content-length", lengths[0].strip()))
        elif self.request_framing == "chunked":
            fields.append((b"transfer-encoding", b"chunked"))
        if request.upgrade:
            upgrade = first(request.headers, b"upgrade") or b"websocket"
            fields += [(b"connection", b"upgrade"), (b"upgrade", upgrade)]
        self.outbound_head = encode_request_head(request.method, request.target, fields)
        return None

    def reject(self, status: int, message: str) -> bytes:
        """An error response for a request that will not be forwarded; the connection closes
        after it, because the request's body may not be where we think it is."""
        self.status = status
        self.client_keep_alive = False
        self.core.counters.inc("banyan_proxy_client_errors_total", str(status))
        return error_response(status, message, request_id=self.request_id, close=True)

    # -- request body, fed by the inbound parser -------------------------------------------

    def request_body(self, chunk: bytes) -> None:
        if self.rejection is not None or self.gone:
            return
        self.body_received += len(chunk)
        if self.body_received > self.core.limits.max_request_body:
            self._body_too_large()
            return
        if self.mirror_request is not None:
            self._capture(self.mirror_request, chunk)
        framed = (
            b"%x\r\n%b\r\n" % (len(chunk), chunk) if self.request_framing == "chunked" else chunk
        )
        self._send_body(framed)

    def _capture(self, buffer: bytearray, chunk: bytes) -> None:
        """Copy for the mirror, up to the route's cap; past it, drop the copy (bounded memory)."""
        if len(buffer) + len(chunk) > self.mirror_cap:
            self._drop_mirror_copy()
        else:
            buffer += chunk

    def _drop_mirror_copy(self) -> None:
        self.mirror_overflow = True
        self.mirror_request = self.mirror_response = None
        self.ws_client = self.ws_server = None

    def request_end(self) -> None:
        self.request_done = True
        if self.rejection is not None or self.gone:
            return
        if self.request_framing == "chunked":
            self._send_body(b"0\r\n\r\n")

    def _send_body(self, data: bytes) -> None:
        self.last_activity = self.loop.time()
        if self.sent is not None:
            if len(self.sent) + len(data) <= self.core.limits.replay_bytes:
                self.sent += data
            else:
                self.sent = None  # too big to replay; no retry for this request
        if self.upstream is not None:
            self.upstream.write(data)
            if self.upstream.write_paused:
                self.inbound.pause("upstream")
        else:
            self.pending += data
            if len(self.pending) > self.core.limits.high_water:
                self.inbound.pause("pending")

    def upstream_writable(self) -> None:
        self.inbound.resume("upstream")

    def _body_too_large(self) -> None:
        if self.upstream is not None:
            self.upstream.abort()
        limit = self.core.limits.max_request_body
        if not self.response_started:
            self.response_started = True
            self.inbound.write(self.reject(413, f"request body over {limit} bytes"))
        self.gone = True
        self.live_failed = True
        self.inbound.close()
        self._settle(ClientGone())

    # -- forward · relay ---------------------------------------------------------------------

    async def run(self) -> None:
        try:
            if self.rejection is not None:
                self.response_started = True
                self.inbound.write(self.rejection)
                return
            await self.forward()
            if self.status == 101:
                await self._tunnel()
            elif self.response_started:
                await self._wait(self._done, self.core.limits.idle_timeout)
        except ClientGone:
            pass
        except UpstreamTimeout as exc:
            self._upstream_error(504, "timeout", str(exc))
        except UpstreamConnectError as exc:
            self._upstream_error(502, "connect", str(exc))
        except UpstreamError as exc:
            self._upstream_error(502, "broken", str(exc))
        except Exception:
            _log.exception("proxy exchange failed", extra={"request_id": self.request_id.decode()})
            self._upstream_error(502, "internal", "the proxy could not complete the request")
        finally:
            self.finish()

    async def forward(self) -> None:
        pool = self.core.pools[self.upstream_name]
        for attempt in (1, 2):
            if self.request.upgrade or attempt == 2:  # a retry never takes another pooled one
                conn, reused = await pool.connect(), False
            else:
                conn, reused = await pool.acquire()
            if self.gone:
                pool.release(conn)
                raise ClientGone
            self._attach(conn, replay=attempt == 2)
            try:
                await self._wait(self._head, self.core.limits.response_timeout)
                return
            except UpstreamBroken as exc:
                retry = attempt == 1 and reused and exc.before_response and self._can_replay()
                if not retry:
                    raise
                self.core.counters.inc("banyan_proxy_retries_total", self.upstream_name)
                self.upstream = None
                self._head = self.loop.create_future()
                self._done = self.loop.create_future()

    def _attach(self, conn: UpstreamConnection, *, replay: bool) -> None:
        self.upstream = conn
        conn.begin(self, head_only=self.request.method == b"HEAD")
        body = bytes(self.sent or b"") if replay else bytes(self.pending)
        conn.write(self.outbound_head + body if body else self.outbound_head)
        self.pending.clear()
        self.inbound.resume("pending")
        self.last_activity = self.loop.time()

    def _can_replay(self) -> bool:
        return self.request_done and self.sent is not None

    async def _wait(self, future: Awaitable[None], limit: float) -> None:
        """Wait for ``future``; fail when nothing moved in either direction for ``limit`` s."""
        fut = asyncio.ensure_future(future)
        while not fut.done():
            remaining = self.last_activity + limit - self.loop.time()
            if remaining <= 0:
                raise UpstreamTimeout(f"{self.upstream_name} sent nothing for {limit:g}s")
            await asyncio.wait((fut,), timeout=remaining)
        fut.result()

    # ResponseSink: called by the upstream connection as bytes arrive.

    def response_head(self, status: int, headers: Headers, keep_alive: bool) -> None:
        now = self.loop.time()
        self.status = status
        self.first_byte_at = self.last_activity = now
        self.response_headers = headers
        fields = end_to_end(headers, response=True)
        served_by = self.decision.serve.encode() if self.decision else b"legacy"
        fields += [(REQUEST_ID_B, self.request_id), (SERVED_BY_B, served_by)]
        length = first(headers, b"content-length")
        chunked = first(headers, b"transfer-encoding") is not None
        if status == 101:
            fields += [
                (b"connection", b"upgrade"),
                (b"upgrade", first(headers, b"upgrade") or b"websocket"),
            ]
            self.response_framing = "none"
        elif self.request.method == b"HEAD" or status in (204, 304):
            if length is not None:
                fields.append((b"content-length", length))
            self.response_framing = "none"
        elif length is not None and not chunked:
            fields.append((b"content-length", length))
            self.response_framing = "length"
        elif self.request.http_version == "1.1":
            fields.append((b"transfer-encoding", b"chunked"))
            self.response_framing = "chunked"
        else:
            self.response_framing = "close"
            self.client_keep_alive = False
        if not self.client_keep_alive:
            fields.append((b"connection", b"close"))
        if self.mirror_request is not None:
            self.mirror_response = bytearray()
            if status == 101:
                self.ws_client, self.ws_server, self.tunnel_at = [], [], now
        self.response_started = True
        self.inbound.write(encode_response_head(status_line(status), fields))
        if not self._head.done():
            self._head.set_result(None)

    def response_body(self, chunk: bytes) -> None:
        now = self.last_activity = self.loop.time()
        if not self.first_body_at:
            self.first_body_at = now
        if self.mirror_response is not None:
            self._capture(self.mirror_response, chunk)
        if self.response_framing == "chunked":
            self.inbound.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
        else:
            self.inbound.write(chunk)
        if self.inbound.write_paused and self.upstream is not None and not self.upstream_paused:
            self.upstream_paused = True
            self.upstream.pause_reading()

    def client_writable(self) -> None:
        if self.upstream_paused and self.upstream is not None:
            self.upstream_paused = False
            self.upstream.resume_reading()

    def response_end(self) -> None:
        if self.response_framing == "chunked":
            self.inbound.write(b"0\r\n\r\n")
        elif self.response_framing == "close":
            self.inbound.close()
        self._settle(None)

    def upstream_failed(self, error: UpstreamError) -> None:
        self._settle(error)

    def _settle(self, outcome: BaseException | None) -> None:
        for future in (self._head, self._done):
            if not future.done():
                if outcome is None:
                    future.set_result(None)
                else:
                    future.set_exception(outcome)
                    future.exception()  # retrieved here: an unawaited one must not warn

    def client_gone(self) -> None:
        """The client disconnected: stop the upstream side at once, reuse nothing."""
        self.gone = True
        if self.upstream is not None:
            self.upstream.abort()
        self._settle(ClientGone())

    def _upstream_error(self, status: int, kind: str, message: str) -> None:
        self.live_failed = True
        self.core.counters.inc("banyan_proxy_upstream_errors_total", self.upstream_name, kind)
        if self.upstream is not None:
            self.upstream.abort()
        if self.gone:
            return
        if self.response_started:
            self.inbound.abort()  # a started response cannot turn into an error; cut it short
            return
        self.status = status
        self.response_started = True
        self.client_keep_alive = self.client_keep_alive and self.request_done
        body = error_response(
            status,
            f"upstream {self.upstream_name}: {message}",
            request_id=self.request_id,
            close=not self.client_keep_alive,
        )
        self.inbound.write(body)

    # -- WebSocket (after 101): bytes spliced both ways --------------------------------------

    async def _tunnel(self) -> None:
        self._done = self.loop.create_future()
        self.inbound.start_tunnel(self)
        await self._done  # no idle timeout: a socket may be quiet; either side closing ends it

    def tunnel_data(self, data: bytes) -> None:
        """From the upstream: forward to the client; b"" means the upstream closed."""
        if not data:
            self.inbound.close()
            self._settle(None)
            return
        if self.ws_server is not None:
            self.ws_server_bytes += len(data)
            self._capture_ws(self.ws_server, self.ws_server_bytes, data)
        self.inbound.write(data)
        if self.inbound.write_paused and self.upstream is not None and not self.upstream_paused:
            self.upstream_paused = True
            self.upstream.pause_reading()

    def client_tunnel_data(self, data: bytes) -> None:
        """From the client: forward to the upstream; b"" means the client closed."""
        if self.upstream is None:
            return
        if not data:
            self.upstream.close()
            self._settle(None)
            return
        if self.ws_client is not None:
            self.ws_client_bytes += len(data)
            self._capture_ws(self.ws_client, self.ws_client_bytes, data)
        self.upstream.write(data)
        if self.upstream.write_paused:
            self.inbound.pause("upstream")

    def _capture_ws(self, chunks: list[tuple[float, bytes]], total: int, data: bytes) -> None:
        """Keep a reference to the chunk (bytes are immutable: no copy) with its time since
        the 101; past the cap the whole session's copy is dropped (body_too_large)."""
        if total > mirror.WS_CAPTURE_BYTES:
            self._drop_mirror_copy()
        else:
            chunks.append((self.loop.time() - self.tunnel_at, data))

    # -- finish --------------------------------------------------------------------------------

    def finish(self) -> None:
        """Release the upstream connection, count, offer the mirror record; then let the
        inbound connection move on. Runs exactly once, after the live response; the inbound
        connection moves on even if the bookkeeping fails, or its next request waits forever."""
        try:
            self._account()
        finally:
            keep_alive = self.client_keep_alive and self.request_done and not self.gone
            self.inbound.exchange_done(self, keep_alive=keep_alive)

    def _account(self) -> None:
        conn, self.upstream = self.upstream, None
        if conn is not None:
            if self.request_done and self._done.done() and conn.is_reusable():
                self.core.pools[self.upstream_name].release(conn)
            else:
                conn.close()
        route_name = self.route.name if self.route is not None else "-"
        served_by = self.decision.serve if self.decision is not None else "legacy"
        self.core.counters.inc(
            "banyan_proxy_requests_total", route_name, served_by, str(self.status)
        )
        self.core.counters.observe_served(route_name, served_by, self.loop.time() - self.started_at)
        if self.decision is not None and self.decision.mirror:
            self._offer_mirror(route_name)
        if _log.isEnabledFor(logging.DEBUG):
            _log.debug(
                "%s %s -> %s %d",
                self.request.method.decode(),
                self.request.path,
                served_by,
                self.status,
                extra={"request_id": self.request_id.decode()},
            )

    def _offer_mirror(self, route_name: str) -> None:
        queue = self.core.mirror
        tunnelled = self.status == 101
        if self.rejection is not None:
            queue.skip(route_name, mirror.REJECTED)
        elif self.mirror_overflow:
            queue.skip(route_name, mirror.BODY_TOO_LARGE)
        elif self.gone and not tunnelled:  # a WebSocket session usually ends by the client going
            queue.skip(route_name, mirror.CLIENT_GONE)
        elif self.live_failed or self.mirror_response is None or self.mirror_request is None:
            queue.skip(route_name, mirror.LIVE_FAILED)
        else:
            assert self.decision is not None
            other: Side = "legacy" if self.decision.serve == "candidate" else "candidate"
            finished_at = self.loop.time()
            queue.offer(
                mirror.MirrorRecord(
                    request_id=self.request_id,
                    traceparent=self.traceparent,
                    route=route_name,
                    served_by=self.decision.serve,
                    mirror_to=other,
                    method=self.request.method,
                    target=self.request.target,
                    request_headers=end_to_end(self.request.headers),
                    request_body=bytes(self.mirror_request),
                    status=self.status,
                    response_headers=self.response_headers,
                    response_body=bytes(self.mirror_response),
                    started_at=self.started_at,
                    first_byte_at=self.first_byte_at,
                    finished_at=finished_at,
                    first_body_at=self.first_body_at or finished_at,
                    # An upgrade request is a WebSocket record even when the handshake was
                    # refused (then with no bytes): its replay needs a handshake too.
                    ws_client=tuple(self.ws_client or ()) if self.request.upgrade else None,
                    ws_server=tuple(self.ws_server or ()) if self.request.upgrade else None,
                )
            )

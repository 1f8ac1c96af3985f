"""Keep-alive on both sides when an upstream closes, or a client reads slowly: the next request on
the client connection is answered promptly, never left waiting for the response timeout.

The upstream here is a tiny keep-alive HTTP/1.1 server that can behave like uvicorn's keep-alive
timeout (close a connection idle for ``idle_close`` s) or lose that race outright (close a reused
connection when its next request arrives, unanswered). Clients are raw sockets so each test
controls exactly what is on the wire and when it is read.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httptools
import pytest

from proxy.config import parse_config
from proxy.inbound import InboundProtocol
from proxy.limits import Limits
from proxy.server import ProxyServer, build_core

pytestmark = pytest.mark.anyio

Client = tuple[asyncio.StreamReader, asyncio.StreamWriter]


@dataclass
class Behaviour:
    idle_close: float | None = None  # close a connection idle this long (uvicorn: 5 s)
    drop_reused: bool = False  # close a connection when its second request arrives, unanswered
    connections: int = 0
    requests: int = 0


class _Upstream(asyncio.Protocol):
    """Answers ``/bytes?n=N&delay=S`` with an N-byte body, in one write, after S seconds."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.url = b""
        self.served = 0
        self.idle: asyncio.TimerHandle | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.behaviour.connections += 1

    def connection_lost(self, exc) -> None:
        if self.idle is not None:
            self.idle.cancel()

    def data_received(self, data: bytes) -> None:
        if self.idle is not None:
            self.idle.cancel()
            self.idle = None
        self.parser.feed_data(data)

    def on_url(self, url: bytes) -> None:
        self.url = url

    def on_message_complete(self) -> None:
        self.served += 1
        if self.behaviour.drop_reused and self.served == 2:
            self.transport.close()  # the keep-alive timeout fired as the request came in
            return
        self.behaviour.requests += 1
        query = {k: v[0] for k, v in parse_qs(urlsplit(self.url.decode()).query).items()}
        asyncio.get_running_loop().create_task(
            self.respond(int(query.get("n", "2")), float(query.get("delay", "0")))
        )

    async def respond(self, size: int, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        if self.transport is None or self.transport.is_closing():
            return
        head = b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % size
        self.transport.write(head + b"a" * size)
        if self.behaviour.idle_close is not None:
            self.idle = asyncio.get_running_loop().call_later(
                self.behaviour.idle_close, self.transport.close
            )


@dataclass
class Lab:
    proxy: ProxyServer
    behaviour: Behaviour

    @property
    def pool(self):
        return self.proxy.core.pools["legacy"]


@pytest.fixture
async def make_lab() -> AsyncIterator:
    opened: list[tuple[asyncio.Server, ProxyServer]] = []

    async def make(limits: Limits, *, legacy_port: int | None = None, **behaviour) -> Lab:
        state = Behaviour(**behaviour)
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: _Upstream(state), "127.0.0.1", 0)
        port = legacy_port or server.sockets[0].getsockname()[1]
        config = parse_config(
            f"upstreams:\n  legacy: {{url: http://127.0.0.1:{port}}}\n"
            "  candidate: {url: http://127.0.0.1:1}\nroutes: []\n",
            "test.yaml",
        )
        proxy = await ProxyServer.start(build_core(config, limits=limits))
        opened.append((server, proxy))
        return Lab(proxy, state)

    yield make
    for server, proxy in opened:
        await proxy.aclose(grace=1)
        server.close()


async def connect(lab: Lab, *, rcvbuf: int = 0) -> Client:
    sock = socket.socket()
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", lab.proxy.port))
    return await asyncio.open_connection(sock=sock)


async def read_response(reader: asyncio.StreamReader, within: float = 5) -> tuple[int, bytes]:
    async with asyncio.timeout(within):
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        fields = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        body = await reader.readexactly(int(fields.get("content-length", "0")))
    return int(lines[0].split()[1]), body


async def close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()


async def until(condition, within: float = 3) -> None:
    for _ in range(int(within / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"not within {within}s")


@pytest.mark.parametrize("upstream_closes_idle", [False, True], ids=["kept", "closed-idle"])
async def test_a_connection_paused_for_a_slow_client_is_read_again_once_pooled(
    make_lab, upstream_closes_idle: bool
) -> None:
    """The likely CI hang: a response whose last bytes arrive while the client's transport is
    over its high-water mark pauses reading from the upstream; the exchange ends in that same
    callback and the connection is pooled still paused. The next request on it was written and
    its answer (or the upstream's close) never read: the client waited for the response timeout."""
    idle_close = 0.3 if upstream_closes_idle else None
    lab = await make_lab(Limits(response_timeout=2), idle_close=idle_close)
    reader, writer = await connect(lab, rcvbuf=4096)
    try:
        await until(lambda: lab.proxy.core.connections)
        (inbound,) = lab.proxy.core.connections
        assert isinstance(inbound, InboundProtocol)
        assert inbound.transport is not None
        # A congested client: the kernel takes a few KiB, the rest waits in the proxy's transport,
        # over its high-water mark (lowered, so a response that fits one read goes over it).
        inbound.transport.get_extra_info("socket").setsockopt(
            socket.SOL_SOCKET, socket.SO_SNDBUF, 4096
        )
        inbound.transport.set_write_buffer_limits(high=16384)
        # 64 kB reaches the proxy in one read: pause and end of response in one callback.
        writer.write(b"GET /bytes?n=64000 HTTP/1.1\r\nHost: x\r\n\r\n")
        await until(lambda: lab.pool.idle_count() == 1)  # finished while the client read nothing
        assert await read_response(reader) == (200, b"a" * 64000)
        if upstream_closes_idle:
            await asyncio.sleep(0.5)  # the upstream closed it; the pool still holds it as fresh
        writer.write(b"GET /bytes?n=5 HTTP/1.1\r\nHost: x\r\n\r\n")
        assert await read_response(reader) == (200, b"aaaaa")
    finally:
        await close(writer)
    assert lab.behaviour.connections == (2 if upstream_closes_idle else 1)


async def test_a_retry_after_a_stale_connection_goes_to_a_fresh_one(make_lab) -> None:
    """Two idle connections the upstream has both given up on: the retry must not take the
    second from the pool (a 502), but connect afresh."""
    lab = await make_lab(Limits(response_timeout=2), drop_reused=True)
    clients = [await connect(lab) for _ in range(2)]
    try:
        for _, writer in clients:
            writer.write(b"GET /bytes?n=2&delay=0.1 HTTP/1.1\r\nHost: x\r\n\r\n")
        for reader, _ in clients:
            assert await read_response(reader) == (200, b"aa")
        await until(lambda: lab.pool.idle_count() == 2)
        reader, writer = clients[0]
        writer.write(b"POST /bytes?n=3 HTTP/1.1\r\nHost: x\r\ncontent-length: 4\r\n\r\nbody")
        assert await read_response(reader) == (200, b"aaa")
    finally:
        for _, writer in clients:
            await close(writer)
    assert lab.behaviour.connections == 3
    assert lab.proxy.core.counters.get("banyan_proxy_retries_total", "legacy") == 1


async def test_a_lost_request_that_cannot_be_replayed_is_a_prompt_502(make_lab) -> None:
    """The race lost with a body too big to keep for a retry: a 502 at once, never a wait."""
    lab = await make_lab(Limits(response_timeout=30, replay_bytes=16), drop_reused=True)
    reader, writer = await connect(lab)
    try:
        writer.write(b"GET /bytes?n=2 HTTP/1.1\r\nHost: x\r\n\r\n")
        assert await read_response(reader) == (200, b"aa")
        await until(lambda: lab.pool.idle_count() == 1)
        body = b"b" * 100
        writer.write(b"POST /bytes HTTP/1.1\r\nHost: x\r\ncontent-length: 100\r\n\r\n" + body)
        status, envelope = await read_response(reader, within=2)
    finally:
        await close(writer)
    assert status == 502
    assert json.loads(envelope)["error"]["code"] == "model_call_error"


async def test_back_pressure_from_a_finished_request_does_not_stall_the_next(make_lab) -> None:
    """A body buffered past the high-water mark while connecting pauses reading; when that
    exchange ended without attaching (connect refused: 502, kept alive) reading stayed paused,
    and the next request on the connection went unread until the keep-alive timer closed it."""
    lab = await make_lab(Limits(high_water=1024, keepalive_timeout=1), legacy_port=1)
    reader, writer = await connect(lab)
    try:
        body = b"b" * 4096
        writer.write(b"POST /x HTTP/1.1\r\nHost: x\r\ncontent-length: 4096\r\n\r\n" + body)
        assert (await read_response(reader))[0] == 502
        writer.write(b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
        assert (await read_response(reader, within=0.8))[0] == 502
    finally:
        await close(writer)

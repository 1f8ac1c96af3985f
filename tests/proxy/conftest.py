"""Test upstreams and clients for the proxy: real sockets on loopback, exact bytes.

``ScriptedUpstream`` is a small HTTP/1.1 server (httptools, plus wsproto for WebSockets) whose
paths each behave one way — echo, stream, hang, reset, send garbage — so conformance tests
can put the proxy in front of every upstream behaviour. Everything runs on uvloop, like the
proxy in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import httptools
import pytest
import wsproto
import wsproto.events as ws

from proxy.config import parse_config
from proxy.limits import Limits
from proxy.server import ProxyServer, build_core


@pytest.fixture
def anyio_backend():
    return ("asyncio", {"use_uvloop": True})


@dataclass
class Received:
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class UpstreamStats:
    connections: int = 0
    requests: list[Received] = field(default_factory=list)
    open_connections: int = 0
    # Close a kept-alive connection when its second request arrives, without answering:
    # the race of an upstream's keep-alive timeout firing as the proxy reuses the socket.
    drop_reused: bool = False


class _UpstreamProtocol(asyncio.Protocol):
    def __init__(self, stats: UpstreamStats, name: str) -> None:
        self.stats = stats
        self.name = name
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.ws: wsproto.WSConnection | None = None
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = bytearray()
        self.sha = hashlib.sha256()
        self.length = 0
        self.keep_body = True
        self.served = 0

    def connection_made(self, transport):
        self.transport = transport
        self.stats.connections += 1
        self.stats.open_connections += 1

    def connection_lost(self, exc):
        self.stats.open_connections -= 1

    def data_received(self, data):
        if self.ws is not None:
            self._ws_data(data)
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as upgrade:
            self._ws_upgrade(data[upgrade.args[0] :])

    # httptools callbacks
    def on_message_begin(self):
        self.url, self.headers, self.body = b"", [], bytearray()
        self.sha, self.length = hashlib.sha256(), 0

    def on_url(self, url):
        self.url += url

    def on_header(self, name, value):
        self.headers.append((name.lower(), value))

    def on_headers_complete(self):
        self.keep_body = not self.url.startswith(b"/upload")

    def on_body(self, body):
        self.length += len(body)
        self.sha.update(body)
        if self.keep_body:
            self.body += body

    def on_message_complete(self):
        if self.parser.should_upgrade():
            return
        self.served += 1
        if self.stats.drop_reused and self.served == 2:
            self.transport.close()
            return
        method = self.parser.get_method().decode()
        received = Received(
            method,
            self.url.decode(),
            [(k.decode(), v.decode("latin-1")) for k, v in self.headers],
            bytes(self.body),
        )
        self.stats.requests.append(received)
        asyncio.get_running_loop().create_task(self.respond(received))

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    async def respond(self, req: Received) -> None:
        parts = urlsplit(req.target)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        path = parts.path
        if path == "/echo":
            payload = {
                "upstream": self.name,
                "method": req.method,
                "target": req.target,
                "headers": req.headers,
                "body": req.body.decode("latin-1"),
            }
            self._json(200, payload)
        elif path == "/upload":
            self._json(200, {"length": self.length, "sha256": self.sha.hexdigest()})
        elif path.startswith("/status/"):
            self._json(int(path.rsplit("/", 1)[1]), {"status": path})
        elif path == "/chunked":
            self.write(
                b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-type: text/plain\r\n\r\n"
            )
            for i in range(int(query.get("n", "3"))):
                chunk = f"chunk-{i};".encode()
                self.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
            self.write(b"0\r\n\r\n")
        elif path == "/sse":
            self.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
                b"transfer-encoding: chunked\r\n\r\n"
            )
            for i in range(int(query.get("n", "5"))):
                event = f'data: {{"i": {i}}}\n\n'.encode()
                self.write(b"%x\r\n%b\r\n" % (len(event), event))
                await asyncio.sleep(int(query.get("gap_ms", "100")) / 1000)
            done = b"data: [DONE]\n\n"
            self.write(b"%x\r\n%b\r\n0\r\n\r\n" % (len(done), done))
        elif path == "/big":
            size = int(query.get("bytes", "1048576"))
            self.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % size)
            block = b"x" * 65536
            sent = 0
            while sent < size:
                piece = block[: min(len(block), size - sent)]
                self.write(piece)
                sent += len(piece)
                await asyncio.sleep(0)
        elif path == "/head-len":
            self.write(
                b"HTTP/1.1 200 OK\r\ncontent-length: 1234\r\ncontent-type: text/plain\r\n\r\n"
            )
            if req.method != "HEAD":
                self.write(b"y" * 1234)
        elif path == "/no-length":
            self.write(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nuntil-close")
            self.transport.close()
        elif path == "/interim":
            self.write(b"HTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\n")
            self._json(200, {"after": "interim"})
        elif path == "/hop":
            self.write(
                b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: x-secret, keep-alive\r\n"
                b"x-secret: leak\r\nkeep-alive: timeout=5\r\nx-kept: yes\r\n\r\nok"
            )
        elif path == "/hang":
            await asyncio.sleep(3600)
        elif path == "/hang-body":
            self.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial")
            await asyncio.sleep(3600)
        elif path == "/close":
            self.transport.close()
        elif path == "/reset":
            self.transport.abort()
        elif path == "/reset-mid-body":
            self.write(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n0123456789")
            await asyncio.sleep(0.05)
            self.transport.abort()
        elif path == "/garbage":
            self.write(b"THIS IS NOT HTTP\r\n\r\n")
        else:
            self._json(404, {"error": "no such path"})

    def _json(self, status: int, payload: object) -> None:
        body = json.dumps(payload).encode()
        self.write(
            b"HTTP/1.1 %d X\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%b"
            % (status, len(body), body)
        )

    # WebSocket echo: text and binary echoed; a text "close:<code>" closes with that code.
    def _ws_upgrade(self, rest: bytes) -> None:
        self.ws = wsproto.WSConnection(wsproto.ConnectionType.SERVER)
        head = b"GET %b HTTP/1.1\r\n" % self.url + b"".join(
            k + b": " + v + b"\r\n" for k, v in self.headers
        )
        self.ws.receive_data(head + b"\r\n")
        self._ws_data(rest)

    def _ws_data(self, data: bytes) -> None:
        assert self.ws is not None
        if data:
            self.ws.receive_data(data)
        for event in self.ws.events():
            if isinstance(event, ws.Request):
                self.write(self.ws.send(ws.AcceptConnection()))
            elif isinstance(event, ws.TextMessage):
                if event.data.startswith("close:"):
                    code = int(event.data.split(":", 1)[1])
                    self.write(self.ws.send(ws.CloseConnection(code=code, reason="bye")))
                else:
                    self.write(self.ws.send(ws.Message(data=event.data)))
            elif isinstance(event, ws.BytesMessage):
                self.write(self.ws.send(ws.Message(data=bytes(event.data))))
            elif isinstance(event, ws.CloseConnection):
                self.write(self.ws.send(event.response()))
                self.transport.close()
            elif isinstance(event, ws.Ping):
                self.write(self.ws.send(event.response()))


@dataclass
class ScriptedUpstream:
    name: str
    server: asyncio.Server
    port: int
    stats: UpstreamStats

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


async def start_upstream(name: str) -> ScriptedUpstream:
    stats = UpstreamStats()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _UpstreamProtocol(stats, name), "127.0.0.1", 0)
    return ScriptedUpstream(name, server, server.sockets[0].getsockname()[1], stats)


@dataclass
class Lab:
    """A proxy in front of two scripted upstreams."""

    legacy: ScriptedUpstream
    candidate: ScriptedUpstream
    proxy: ProxyServer

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.proxy.port}"


def lab_yaml(legacy: ScriptedUpstream, candidate: ScriptedUpstream, routes: str = "") -> str:
    return (
        f"upstreams:\n  legacy: {{url: {legacy.url}}}\n  candidate: {{url: {candidate.url}}}\n"
        f"routes:\n{routes or '  []'}\n"
    )


@pytest.fixture
async def make_lab() -> AsyncIterator:
    started: list[tuple[ScriptedUpstream, ScriptedUpstream, ProxyServer]] = []

    async def make(routes: str = "", limits: Limits | None = None, random_source=None) -> Lab:
        legacy = await start_upstream("legacy")
        candidate = await start_upstream("candidate")
        config = parse_config(lab_yaml(legacy, candidate, routes), "test.yaml")
        core = build_core(config, limits=limits)
        if random_source is not None:
            core.random = random_source
        proxy = await ProxyServer.start(core)
        started.append((legacy, candidate, proxy))
        return Lab(legacy, candidate, proxy)

    yield make
    for legacy, candidate, proxy in started:
        await proxy.aclose(grace=1)
        for upstream in (legacy, candidate):
            upstream.server.close()


@pytest.fixture
def send_raw():
    return raw_exchange


async def raw_exchange(
    port: int, data: bytes, *, read_until_close: bool = True, within: float = 5
) -> bytes:
    """Send bytes on a fresh connection and return everything read until the proxy closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        if read_until_close:
            return await asyncio.wait_for(reader.read(-1), within)
        return await asyncio.wait_for(reader.read(65536), within)
    finally:
        await close_writer(writer)


async def close_writer(writer: asyncio.StreamWriter) -> None:
    """Close and wait: a transport left closing when the test's loop ends warns at GC."""
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()

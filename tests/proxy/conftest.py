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

import asyncpg
import httptools
import pytest
import uvicorn
import wsproto
import wsproto.events as ws
from redis.asyncio import Redis

from proxy.admin import create_admin_app
from proxy.audit import AuditLog
from proxy.config import parse_config
from proxy.control import RouteControl
from proxy.limits import Limits
from proxy.route_store import RouteStore
from proxy.server import ProxyServer, build_core
from shadow.evidence import ReportEvidence
from shadow.gates import GateSettings


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


# ---- The admin API with live control (real Redis + PostgreSQL) and planted shadow evidence ----

GATED_CONFIG = """
fleet: prod
upstreams:
  legacy: {url: http://127.0.0.1:1}
  candidate: {url: http://127.0.0.1:2}
routes:
  - {name: translate, match: {path: /translate}, mode: shadow}
  - {name: tts, match: {path: /text-to-speech}, mode: shadow}
  - {name: health, match: {path: /health}, mode: legacy}
"""
ADMIN_TOKEN = "s3cret-admin"


class PlantedReports:
    """A ReportSource (and the report callable of ``ReportEvidence``) over planted route entries
    in the report JSON's shape: the admin API and the gates see real report dicts, not mocks of
    the proxy's own code."""

    def __init__(self) -> None:
        self.routes: dict[str, dict] = {}
        self.examples: dict[tuple[str, str], dict] = {}
        self.asked: list[float] = []
        self.broken: Exception | None = None  # set: the shadow store is down
        self.while_judging = None  # an async callable run while the gates are being judged

    async def report(self, since_s: float) -> dict:
        self.asked.append(since_s)
        return {"since": "-", "until": "-", "routes": list(self.routes.values())}

    async def for_route(self, route: str, since_s: float) -> dict:
        if self.broken is not None:
            raise self.broken
        if self.while_judging is not None:
            await self.while_judging()
        return await self.report(since_s)

    async def example(self, route: str, field: str) -> dict | None:
        return self.examples.get((route, field))


@pytest.fixture
def planted_entry():
    """``route_entry`` for tests (a test module cannot import conftest)."""
    return route_entry


def route_entry(route: str, **changes: object) -> dict:
    """A report entry that passes the default gates; ``changes`` make it fail some."""
    entry: dict = {
        "route": route, "mode": "shadow", "compared": 500, "matched": 497, "ignored": 1,
        "mismatched": 2, "candidate_errors": 0, "candidate_error_kinds": {}, "skipped": {},
        "parity": 0.996,
        "latency_ms": {"legacy": {"p50": 40.0, "p95": 150.0, "p99": 200.0},
                       "candidate": {"p50": 31.5, "p95": 120.0, "p99": 210.0}},
        "ttft_ms": None,
        "error_rate": {"legacy": 0.002, "candidate": 0.0},
        "billing": {"requests": 500, "legacy_credits": 1000.0, "candidate_credits": 1001.0,
                    "delta_credits": 1.0, "delta_ratio": 0.001, "missing": 0, "tenants": []},
        "top_diffs": [{"path": "usage.total_tokens", "kind": "changed", "count": 2, "rate": 0.004,
                       "example_request_id": "req-1"}],
        "noise": [], "ignored_rules": {},
    }  # fmt: skip
    entry.update(changes)
    return entry


@dataclass
class GatedAdmin:
    app: object
    control: object
    reports: PlantedReports
    token: str = ADMIN_TOKEN

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
async def gated_admin(database_url, redis_url) -> AsyncIterator:
    """Make admin apps over one proxy core with live control; ``evidence=False`` leaves the
    gates unconfigured."""
    opened: list = []

    async def make(*, evidence: bool = True, reports: bool = True) -> GatedAdmin:
        core = build_core(parse_config(GATED_CONFIG))
        redis = Redis.from_url(redis_url, socket_connect_timeout=0.5)
        pool = await asyncpg.create_pool(database_url, min_size=0, max_size=4)
        opened.append((redis, pool))
        control = RouteControl(core, core.table, "prod", RouteStore(redis, "prod"), AuditLog(pool))
        await control.refresh()
        planted = PlantedReports()
        judge = ReportEvidence(planted.for_route, GateSettings(window_s=3600)) if evidence else None
        app = create_admin_app(
            core, token=ADMIN_TOKEN, control=control, evidence=judge,
            reports=planted if reports else None,
        )  # fmt: skip
        return GatedAdmin(app, control, planted)

    yield make
    for redis, pool in opened:
        await redis.aclose()
        await pool.close()


@pytest.fixture
async def serve_admin() -> AsyncIterator:
    """Serve an admin app over real HTTP on loopback, on the test's own event loop (the app's
    control uses pools bound to it); returns the base URL."""
    servers: list[tuple[uvicorn.Server, asyncio.Task]] = []

    async def serve(app: object) -> str:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, loop="none", lifespan="off",
                                log_config=None, access_log=False)  # fmt: skip
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        while not server.started:
            assert not task.done(), "the admin server did not start"
            await asyncio.sleep(0.01)
        servers.append((server, task))
        port = server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    yield serve
    for server, task in servers:
        server.should_exit = True
        await asyncio.wait_for(task, 10)

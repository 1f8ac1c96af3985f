"""The replay client against a scripted raw-socket server: what goes on the wire, keep-alive
reuse, the one retry of the keep-alive race, and each way an answer can fail."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest

from shadow.replay_client import ReplayClient, ReplayFailure

pytestmark = pytest.mark.anyio

# (connection number, request number on it, head, body, writer) -> None
Script = Callable[[int, int, bytes, bytes, asyncio.StreamWriter], Awaitable[None]]

OK = b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{"ok":true}'


@dataclass
class Server:
    url: str
    requests: list[tuple[int, bytes, bytes]] = field(default_factory=list)
    connections: int = 0
    closed: int = 0


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Script], Awaitable[Server]]]:
    servers: list[asyncio.Server] = []

    async def start(script: Script) -> Server:
        state = Server(url="")

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            state.connections += 1
            number = state.connections
            try:
                for index in range(100):
                    head = await reader.readuntil(b"\r\n\r\n")
                    length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
                    body = await reader.readexactly(int(length[1])) if length else b""
                    state.requests.append((number, head, body))
                    await script(number, index, head, body, writer)
                    if writer.is_closing():
                        return
                    await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError):
                state.closed += 1
            finally:
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        servers.append(server)
        state.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        return state

    yield start
    for server in servers:
        server.close()


async def answer_ok(_c: int, _i: int, _h: bytes, _b: bytes, writer: asyncio.StreamWriter) -> None:
    writer.write(OK)


async def test_a_request_goes_out_as_sent_and_the_connection_is_kept_alive(serve) -> None:
    server = await serve(answer_ok)
    client = ReplayClient()
    try:
        fields = [(b"content-type", b"application/json"), (b"x-request-id", b"r1")]
        first = await client.send(server.url, b"POST", b"/translate?x=1", fields, b'{"a": 1}',
                                  cap=1024)  # fmt: skip
        second = await client.send(server.url, b"GET", b"/v1/models", [], b"", cap=1024)
    finally:
        client.close()
    assert (first.status, first.body) == (200, b'{"ok":true}')
    assert (b"content-type", b"application/json") in first.headers
    assert first.first_body_at is not None
    assert second.status == 200
    assert server.connections == 1  # the second request reused the first's connection
    (_, head, body), (_, get_head, _) = server.requests
    port = server.url.rsplit(":", 1)[1].encode()
    assert head.startswith(b"POST /translate?x=1 HTTP/1.1\r\n")
    assert b"\r\nx-request-id: r1\r\n" in head
    assert b"\r\nhost: 127.0.0.1:" + port + b"\r\n" in head
    assert b"\r\ncontent-length: 8\r\n" in head
    assert body == b'{"a": 1}'
    assert b"content-length" not in get_head.lower()  # a bodiless GET says nothing of length


async def test_the_records_host_field_is_kept(serve) -> None:
    server = await serve(answer_ok)
    client = ReplayClient()
    try:
        await client.send(server.url, b"GET", b"/", [(b"host", b"api.example")], b"", cap=64)
    finally:
        client.close()
    head = server.requests[0][1]
    assert head.count(b"host:") == 1
    assert b"\r\nhost: api.example\r\n" in head


async def test_a_reused_connection_closed_before_answering_is_retried_once(serve) -> None:
    async def close_second(conn: int, index: int, _h: bytes, _b: bytes, writer) -> None:
        if conn == 1 and index == 1:
            writer.close()  # the keep-alive race: the upstream let the idle connection go
        else:
            writer.write(OK)

    server = await serve(close_second)
    client = ReplayClient()
    try:
        await client.send(server.url, b"GET", b"/a", [], b"", cap=64)
        again = await client.send(server.url, b"GET", b"/b", [], b"", cap=64)
    finally:
        client.close()
    assert again.status == 200
    assert server.connections == 2
    assert [(conn, head.split(b" ")[1]) for conn, head, _ in server.requests] == [
        (1, b"/a"), (1, b"/b"), (2, b"/b"),
    ]  # fmt: skip


async def test_a_fresh_connection_closed_before_answering_is_a_reset(serve) -> None:
    async def close(_c: int, _i: int, _h: bytes, _b: bytes, writer) -> None:
        writer.close()

    server = await serve(close)
    client = ReplayClient()
    try:
        with pytest.raises(ReplayFailure) as failed:
            await client.send(server.url, b"GET", b"/", [], b"", cap=64)
    finally:
        client.close()
    assert failed.value.kind == "reset"
    assert server.connections == 1  # not retried: nothing was reused


async def test_an_answer_cut_midway_is_a_reset_and_keeps_what_arrived(serve) -> None:
    async def cut(_c: int, _i: int, _h: bytes, _b: bytes, writer) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789")
        await writer.drain()
        writer.close()

    server = await serve(cut)
    client = ReplayClient()
    try:
        with pytest.raises(ReplayFailure) as failed:
            await client.send(server.url, b"GET", b"/", [], b"", cap=1024)
    finally:
        client.close()
    assert failed.value.kind == "reset"


async def test_an_answer_over_the_cap_is_garbage_and_its_connection_is_not_reused(serve) -> None:
    async def huge(conn: int, _i: int, _h: bytes, _b: bytes, writer) -> None:
        if conn == 1:
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 5000\r\n\r\n" + b"x" * 5000)
        else:
            writer.write(OK)

    server = await serve(huge)
    client = ReplayClient()
    try:
        with pytest.raises(ReplayFailure) as failed:
            await client.send(server.url, b"GET", b"/", [], b"", cap=1000)
        assert failed.value.kind == "garbage"
        assert failed.value.partial is not None
        assert len(failed.value.partial.body) > 1000
        assert (await client.send(server.url, b"GET", b"/", [], b"", cap=1000)).status == 200
    finally:
        client.close()
    assert server.connections == 2


async def test_a_refused_connection_is_a_connect_error() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    client = ReplayClient()
    with pytest.raises(ReplayFailure) as failed:
        await client.send(f"http://127.0.0.1:{port}", b"GET", b"/", [], b"", cap=64)
    assert failed.value.kind == "connect_error"


async def test_an_exchange_cut_by_the_callers_deadline_never_goes_back_to_the_pool(serve) -> None:
    async def hang_first(conn: int, _i: int, _h: bytes, _b: bytes, writer) -> None:
        if conn == 1:
            await asyncio.sleep(10)
        writer.write(OK)

    server = await serve(hang_first)
    client = ReplayClient()
    try:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await client.send(server.url, b"GET", b"/", [], b"", cap=64)
        assert (await client.send(server.url, b"GET", b"/", [], b"", cap=64)).status == 200
    finally:
        client.close()
    assert server.connections == 2


async def test_a_head_answer_ends_at_its_head(serve) -> None:
    async def head(_c: int, _i: int, _h: bytes, _b: bytes, writer) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\n")

    server = await serve(head)
    client = ReplayClient()
    try:
        answer = await asyncio.wait_for(client.send(server.url, b"HEAD", b"/", [], b"", cap=64), 5)
    finally:
        client.close()
    assert (answer.status, answer.body, answer.first_body_at) == (200, b"", None)


@pytest.mark.parametrize("url", ["https://127.0.0.1:1", "127.0.0.1:80", "http://"])
async def test_an_upstream_url_it_cannot_use_is_refused(url: str) -> None:
    client = ReplayClient()
    with pytest.raises(ValueError, match="http://host"):
        await client.send(url, b"GET", b"/", [], b"", cap=64)

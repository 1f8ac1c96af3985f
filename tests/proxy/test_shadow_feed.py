"""Mirrored traffic leaving the proxy: what the records hold (stream TTFT, WebSocket bytes), the
feeder's drops when the shadow process is absent or slow, and the whole trip to a replay."""

from __future__ import annotations

import asyncio
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import wsproto.events as ws
from wsproto.frame_protocol import FrameProtocol, Opcode

from proxy.mirror import WS_CAPTURE_BYTES, MirrorRecord
from proxy.shadow_feed import ShadowFeed
from shadow.intake import Intake
from shadow.metrics import Counters as ShadowCounters
from shadow.replay import Replayer
from tests.proxy.test_websocket import WsClient

pytestmark = pytest.mark.anyio


def route(mode: str = "shadow", *, path: str = "/echo", websocket: bool = False) -> str:
    match = f"{{path: {path}, websocket: true}}" if websocket else f"{{path: {path}}}"
    return f"""
  - name: r
    match: {match}
    mode: {mode}
    shadow: {{sample: 1.0, noise_sample: 0.0}}
"""


@pytest.fixture
def sock_path() -> Iterator[Path]:
    # AF_UNIX paths are limited to 107 bytes; pytest's tmp_path can be longer.
    directory = tempfile.mkdtemp(prefix="bsf", dir="/tmp")
    yield Path(directory) / "shadow.sock"
    shutil.rmtree(directory, ignore_errors=True)


def mode_of(path: Path) -> int | None:
    """The file's st_mode, or None when it does not exist."""
    try:
        return path.lstat().st_mode
    except FileNotFoundError:
        return None


async def wait_for(predicate, within: float = 3.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def messages(chunks: tuple[tuple[float, bytes], ...], *, client: bool) -> list[object]:
    """Data messages in one direction's captured bytes (frames as they were on the wire)."""
    protocol = FrameProtocol(client=not client, extensions=[])
    protocol.receive_bytes(b"".join(data for _, data in chunks))
    out: list[object] = []
    for frame in protocol.received_frames():
        if frame.opcode is Opcode.TEXT:
            out.append(frame.payload)
        elif frame.opcode is Opcode.BINARY:
            out.append(bytes(frame.payload))
        elif frame.opcode is Opcode.CLOSE:
            out.append(("close", frame.payload[0]))
    return out


# -- what the records hold ---------------------------------------------------------------------


async def test_a_stream_record_times_its_first_body_byte(make_lab) -> None:
    lab = await make_lab(route(path="/sse"))
    async with httpx.AsyncClient(base_url=lab.url) as client:
        response = await client.get("/sse?n=3&gap_ms=100")
    record = await asyncio.wait_for(lab.proxy.core.mirror.get(), 1)
    assert record.response_body == response.content
    ttfb = record.first_body_at - record.started_at
    latency = record.finished_at - record.started_at
    assert record.first_byte_at <= record.first_body_at < record.finished_at
    assert ttfb < 0.1
    assert latency >= 0.28


async def test_a_bodiless_answer_has_its_first_body_time_at_the_end(make_lab) -> None:
    lab = await make_lab(route(path="/head-len"))
    async with httpx.AsyncClient(base_url=lab.url) as client:
        await client.head("/head-len")
    record = await asyncio.wait_for(lab.proxy.core.mirror.get(), 1)
    assert record.response_body == b""
    assert record.first_body_at == record.finished_at
    assert record.ws_client is None
    assert not record.is_websocket


async def test_a_shadowed_websocket_session_is_copied_both_ways(make_lab) -> None:
    lab = await make_lab(route(path="/ws", websocket=True))
    client = await WsClient.connect(
        lab.proxy.port, headers=[("sec-websocket-protocol", "chat.v1, chat.v2"), ("x-k", "1")]
    )
    client.send(ws.TextMessage(data="hello"))
    assert (await client.next_event()).data == "hello"
    await asyncio.sleep(0.1)
    blob = bytes(range(256)) * 40
    client.send(ws.BytesMessage(data=blob))
    received = bytearray()
    while len(received) < len(blob):
        received += (await client.next_event()).data
    client.send(ws.CloseConnection(code=1000))
    assert isinstance(await client.next_event(), ws.CloseConnection)
    await client.close()
    record = await asyncio.wait_for(lab.proxy.core.mirror.get(), 3)
    assert record.status == 101
    assert record.is_websocket
    assert messages(record.ws_client, client=True) == ["hello", blob, ("close", 1000)]
    assert messages(record.ws_server, client=False) == ["hello", blob, ("close", 1000)]
    times = [at for at, _ in record.ws_client]
    assert times == sorted(times)
    assert times[0] >= 0
    assert times[-1] >= 0.1  # the pause before the binary message is kept
    names = [k for k, _ in record.request_headers]
    assert (b"sec-websocket-protocol", b"chat.v1, chat.v2") in record.request_headers
    assert (b"x-k", b"1") in record.request_headers
    assert b"sec-websocket-key" in names
    assert b"upgrade" not in names
    assert b"connection" not in names
    assert any(k == b"sec-websocket-accept" for k, _ in record.response_headers)


async def test_a_websocket_session_over_the_capture_cap_is_skipped_and_untouched(make_lab) -> None:
    lab = await make_lab(route(path="/ws", websocket=True))
    client = await WsClient.connect(lab.proxy.port)
    blob = b"z" * (WS_CAPTURE_BYTES // 2 + 1)
    for _ in range(2):
        client.send(ws.BytesMessage(data=blob))
        received = bytearray()
        while len(received) < len(blob):
            received += (await client.next_event()).data
        assert bytes(received) == blob  # the live session carries on past the cap
    client.send(ws.TextMessage(data="still here"))
    assert (await client.next_event()).data == "still here"
    await client.close()
    counters = lab.proxy.core.counters
    await wait_for(lambda: counters.total("banyan_proxy_mirror_skipped_total") == 1)
    assert counters.get("banyan_proxy_mirror_skipped_total", "r", "body_too_large") == 1
    assert lab.proxy.core.mirror.qsize() == 0


async def test_an_unshadowed_websocket_keeps_no_copy(make_lab) -> None:
    lab = await make_lab(route("legacy", path="/ws", websocket=True))
    client = await WsClient.connect(lab.proxy.port)
    client.send(ws.TextMessage(data="x"))
    await client.next_event()
    (exchange,) = [c.tunnel for c in lab.proxy.core.connections if c.tunnel is not None]
    assert exchange.ws_client is None
    assert exchange.ws_server is None
    await client.close()


# -- the feeder's drops -------------------------------------------------------------------------


async def test_without_a_socket_every_record_is_drained_and_counted_unavailable(make_lab) -> None:
    lab = await make_lab(route())
    core = lab.proxy.core
    async with ShadowFeed(core.mirror, core.counters, None):
        async with httpx.AsyncClient(base_url=lab.url) as client:
            for _ in range(5):
                assert (await client.get("/echo")).status_code == 200
        await wait_for(
            lambda: (
                core.counters.get("banyan_proxy_mirror_skipped_total", "r", "shadow_unavailable")
                == 5
            )
        )
    assert core.mirror.qsize() == 0
    assert core.counters.get("banyan_proxy_mirror_skipped_total", "r", "queue_full") == 0


async def test_a_missing_shadow_process_drops_then_the_feed_reconnects(
    make_lab, sock_path: Path
) -> None:
    lab = await make_lab(route())
    core = lab.proxy.core
    shadow_counters = ShadowCounters()
    async with (
        ShadowFeed(core.mirror, core.counters, sock_path, backoff=(0.02, 0.05)) as feed,
        httpx.AsyncClient(base_url=lab.url) as client,
    ):
        await client.get("/echo", headers={"x-request-id": "early"})
        await wait_for(lambda: core.mirror.qsize() == 0)
        assert (
            core.counters.get("banyan_proxy_mirror_skipped_total", "r", "shadow_unavailable") == 1
        )
        async with Intake(sock_path, shadow_counters) as intake:
            await wait_for(lambda: feed.connected)
            await client.get("/echo", headers={"x-request-id": "late"})
            record = await asyncio.wait_for(intake.get(), 2)
            assert record.request_id == b"late"
        # the shadow process goes away: drops again, then a new one is found
        await wait_for(lambda: not feed.connected)
        await client.get("/echo", headers={"x-request-id": "gone"})
        await wait_for(
            lambda: (
                core.counters.get("banyan_proxy_mirror_skipped_total", "r", "shadow_unavailable")
                == 2
            )
        )
        async with Intake(sock_path, shadow_counters) as intake:
            await wait_for(lambda: feed.connected)
            await client.get("/echo", headers={"x-request-id": "again"})
            assert (await asyncio.wait_for(intake.get(), 2)).request_id == b"again"
    assert core.counters.get("banyan_proxy_mirror_sent_total", "r") == 2


async def test_a_peer_that_does_not_read_costs_drops_not_latency(make_lab, sock_path: Path) -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def never_read(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # holds the connection open and reads nothing

    server = await asyncio.start_unix_server(never_read, str(sock_path))
    lab = await make_lab(route(path="/upload"))
    core = lab.proxy.core
    cap = 256 * 1024
    body = b"u" * (128 * 1024)
    slowest = 0.0
    try:
        async with ShadowFeed(core.mirror, core.counters, sock_path, max_backlog=cap) as feed:
            await wait_for(lambda: feed.connected)
            async with httpx.AsyncClient(base_url=lab.url) as client:
                for _ in range(40):
                    began = time.perf_counter()
                    response = await client.post("/upload", content=body)
                    slowest = max(slowest, time.perf_counter() - began)
                    assert response.status_code == 200
                    assert feed.backlog <= cap + len(body) + 4096  # bounded by the cap + a frame
            await wait_for(lambda: core.mirror.qsize() == 0)
            skipped = core.counters.get("banyan_proxy_mirror_skipped_total", "r", "shadow_backlog")
            sent = core.counters.get("banyan_proxy_mirror_sent_total", "r")
            assert skipped > 0
            assert sent > 0
            assert skipped + sent == 40
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()
    assert slowest < 0.5  # the live path never waited for the stuck peer


# -- the whole trip ------------------------------------------------------------------------------


async def test_a_shadowed_request_reaches_the_candidate_through_the_shadow_process(
    make_lab, sock_path: Path
) -> None:
    lab = await make_lab(route())
    core = lab.proxy.core
    counters = ShadowCounters()
    urls = {"legacy": lab.legacy.url, "candidate": lab.candidate.url}
    table_route = core.table.get("r")
    assert table_route is not None
    async with (
        Intake(sock_path, counters) as intake,
        ShadowFeed(core.mirror, core.counters, sock_path) as feed,
        Replayer(urls, counters) as replayer,
    ):
        assert stat.S_IMODE(mode_of(sock_path) or 0) == 0o600
        await wait_for(lambda: feed.connected)
        body = b"--b\r\ncontent-disposition: form-data; name=f\r\n\r\n\x00\xfe\r\n--b--\r\n"
        async with httpx.AsyncClient(base_url=lab.url) as client:
            live = await client.post(
                "/echo?q=1",
                content=body,
                headers={
                    "x-request-id": "e2e-1",
                    "content-type": "multipart/form-data; boundary=b",
                },
            )
        record: MirrorRecord = await asyncio.wait_for(intake.get(), 2)
        trial = await replayer.run(record, table_route)
    assert trial is not None
    (mirrored,) = lab.candidate.stats.requests
    headers = dict(mirrored.headers)
    assert headers["x-banyan-shadow"] == "1"
    assert headers["x-request-id"] == "e2e-1"
    assert headers["traceparent"] == dict(lab.legacy.stats.requests[0].headers)["traceparent"]
    assert mirrored.body == body
    assert mirrored.target == "/echo?q=1"
    assert trial.served_by == "legacy"
    assert trial.legacy.body == live.content
    assert trial.candidate.status == 200
    assert trial.candidate.body.startswith(b'{"upstream": "candidate"')
    assert counters.get("banyan_shadow_received_total", "r") == 1
    assert len(lab.legacy.stats.requests) == 1  # noise_sample 0: no second legacy call
    assert mode_of(sock_path) is None  # the intake removed its socket file

"""Modes, the mirror seam, and the proxy's bounds, end to end through real sockets."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import subprocess
import sys
import tracemalloc

import httpx
import pytest

from proxy.exchange import PIPELINE, Exchange, InboundRequest
from proxy.modes import canary_bucket

pytestmark = pytest.mark.anyio


def route(
    mode: str, *, sample: float = 1.0, percent: float = 0, max_body: int = 26214400, path="/echo"
) -> str:
    return f"""
  - name: r
    match: {{path: {path}}}
    mode: {mode}
    shadow: {{sample: {sample}, max_body_bytes: {max_body}}}
    canary: {{percent: {percent}}}
"""


def test_the_pipeline_steps_run_in_the_documented_order() -> None:
    assert PIPELINE == (
        "identify", "match_route", "choose_mode", "build_outbound", "forward", "relay", "finish",
    )  # fmt: skip
    calls: list[str] = []

    class Spy(Exchange):
        def __init__(self) -> None:  # no sockets: only the synchronous steps are exercised
            pass

    for step in PIPELINE[:4]:
        setattr(Spy, step, lambda self, step=step: calls.append(step))
    Spy().prepare()
    assert calls == list(PIPELINE[:4])
    assert all(callable(getattr(Exchange, name, None)) for name in ("forward", "run", "finish"))


async def test_legacy_mode_never_mirrors(make_lab) -> None:
    lab = await make_lab(route("legacy"))
    async with httpx.AsyncClient(base_url=lab.url) as client:
        response = await client.get("/echo")
    assert response.headers["x-banyan-served-by"] == "legacy"
    assert lab.proxy.core.mirror.qsize() == 0


async def test_shadow_mode_serves_legacy_and_hands_the_exchange_to_the_mirror(make_lab) -> None:
    lab = await make_lab(route("shadow"))
    async with httpx.AsyncClient(base_url=lab.url) as client:
        response = await client.post(
            "/echo",
            content=b'{"text": "hi"}',
            headers={"X-Request-ID": "m-1", "api-subscription-key": "k"},
        )
    assert response.headers["x-banyan-served-by"] == "legacy"
    record = await asyncio.wait_for(lab.proxy.core.mirror.get(), 1)
    assert record.request_id == b"m-1"
    assert record.route == "r"
    assert (record.served_by, record.mirror_to) == ("legacy", "candidate")
    assert (record.method, record.target) == (b"POST", b"/echo")
    assert record.request_body == b'{"text": "hi"}'
    assert (b"api-subscription-key", b"k") in record.request_headers
    assert record.status == 200
    assert record.response_body == response.content
    assert record.started_at <= record.first_byte_at <= record.finished_at
    assert lab.candidate.stats.requests == []  # the proxy never calls the candidate itself here


async def test_shadow_sampling_zero_mirrors_nothing_and_counts_why(make_lab) -> None:
    lab = await make_lab(route("shadow", sample=0.0))
    async with httpx.AsyncClient(base_url=lab.url) as client:
        await client.get("/echo")
    assert lab.proxy.core.mirror.qsize() == 0
    assert (
        lab.proxy.core.counters.get("banyan_proxy_decisions_total", "r", "shadow_sampled_out") == 1
    )


async def test_candidate_mode_is_served_by_the_candidate(make_lab) -> None:
    lab = await make_lab(route("candidate"))
    async with httpx.AsyncClient(base_url=lab.url) as client:
        response = await client.get("/echo")
    assert response.headers["x-banyan-served-by"] == "candidate"
    assert response.json()["upstream"] == "candidate"
    assert lab.legacy.stats.requests == []


async def test_canary_is_sticky_per_key_as_the_percentage_rises(make_lab) -> None:
    lab = await make_lab(route("canary", percent=10))
    keys = [f"key-{i}" for i in range(200)]

    async def served_by() -> dict[str, str]:
        async with httpx.AsyncClient(base_url=lab.url) as client:
            responses = [
                await client.get("/echo", headers={"api-subscription-key": k}) for k in keys
            ]
        return {k: r.headers["x-banyan-served-by"] for k, r in zip(keys, responses, strict=True)}

    at_10 = await served_by()
    table = lab.proxy.core.table
    current = table.get("r")
    lab.proxy.core.swap_table(
        table.replace(type(current)(**{**_fields(current), "canary_percent": 50.0}))
    )
    at_50 = await served_by()
    on_candidate_10 = {k for k, side in at_10.items() if side == "candidate"}
    on_candidate_50 = {k for k, side in at_50.items() if side == "candidate"}
    assert 5 <= len(on_candidate_10) <= 40
    assert on_candidate_10 <= on_candidate_50
    assert len(on_candidate_50) > len(on_candidate_10)


def _fields(obj) -> dict:
    return {name: getattr(obj, name) for name in obj.__slots__}


def test_canary_buckets_agree_across_processes() -> None:
    keys = [f"tenant-{i}".encode() for i in range(50)]
    code = "import sys; from proxy.modes import canary_bucket; " + (
        "print(' '.join(str(canary_bucket(k.encode())) for k in sys.argv[1:]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *(k.decode() for k in keys)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert [int(x) for x in done.stdout.split()] == [canary_bucket(k) for k in keys]


async def test_a_full_mirror_queue_drops_and_counts_without_touching_the_live_response(
    make_lab,
) -> None:
    lab = await make_lab(route("shadow"))
    lab.proxy.core.mirror = type(lab.proxy.core.mirror)(1, lab.proxy.core.counters)
    async with httpx.AsyncClient(base_url=lab.url) as client:
        statuses = [(await client.get("/echo")).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    counters = lab.proxy.core.counters
    assert counters.get("banyan_proxy_mirror_enqueued_total", "r") == 1
    assert counters.get("banyan_proxy_mirror_skipped_total", "r", "queue_full") == 2


async def test_a_trivial_consumer_sees_every_mirrored_exchange(make_lab) -> None:
    lab = await make_lab(route("shadow"))
    seen: list[bytes] = []

    async def consume() -> None:
        while True:
            record = await lab.proxy.core.mirror.get()
            await asyncio.sleep(0.01)  # a slow consumer must not slow the live path
            seen.append(record.request_id)

    consumer = asyncio.create_task(consume())
    async with httpx.AsyncClient(base_url=lab.url) as client:
        for i in range(20):
            await client.get("/echo", headers={"X-Request-ID": f"c-{i}"})
    for _ in range(100):
        if len(seen) == 20:
            break
        await asyncio.sleep(0.02)
    consumer.cancel()
    assert seen == [f"c-{i}".encode() for i in range(20)]


async def test_a_body_over_the_mirror_cap_is_skipped_not_buffered(make_lab) -> None:
    lab = await make_lab(route("shadow", max_body=10))
    async with httpx.AsyncClient(base_url=lab.url) as client:
        response = await client.post("/echo", content=b"x" * 100)
    assert response.status_code == 200
    assert lab.proxy.core.mirror.qsize() == 0
    assert (
        lab.proxy.core.counters.get("banyan_proxy_mirror_skipped_total", "r", "body_too_large") == 1
    )


async def test_a_25_mb_upload_streams_through_with_bounded_memory(make_lab) -> None:
    # Legacy mode: nothing is mirrored, so nothing needs a copy (a shadowed route keeps one,
    # capped by shadow.max_body_bytes; see the test above).
    lab = await make_lab(route("legacy", path="/upload"))
    size, block = 25 * 1024 * 1024, b"u" * 65536
    expected = hashlib.sha256()
    for _ in range(size // len(block)):
        expected.update(block)

    async def body():
        for _ in range(size // len(block)):
            yield block

    tracemalloc.start()
    try:
        async with httpx.AsyncClient(base_url=lab.url, timeout=60) as client:
            response = await client.post(
                "/upload", content=body(), headers={"content-length": str(size)}
            )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.json() == {"length": size, "sha256": expected.hexdigest()}
    # The whole test process (client, proxy, upstream) peaked far below the body's size.
    print(f"upload peak traced memory: {peak / 1e6:.1f} MB")
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


async def test_a_slow_client_pauses_the_upstream_instead_of_buffering(make_lab) -> None:
    lab = await make_lab()
    size = 64 * 1024 * 1024
    reader, writer = await asyncio.open_connection("127.0.0.1", lab.proxy.port, limit=65536)
    writer.write(b"GET /big?bytes=%d HTTP/1.1\r\nHost: x\r\n\r\n" % size)
    await asyncio.sleep(0.5)  # the client reads nothing for a while
    buffered = sum(c.transport.get_write_buffer_size() for c in lab.proxy.core.connections)
    assert buffered < 8 * 1024 * 1024, (
        f"proxy buffered {buffered / 1e6:.1f} MB for a stalled client"
    )
    head = await reader.readuntil(b"\r\n\r\n")
    assert b"content-length: %d" % size in head
    remaining = size
    while remaining:
        chunk = await asyncio.wait_for(reader.read(1 << 20), 10)
        assert chunk
        remaining -= len(chunk)
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()


async def test_a_client_leaving_mid_stream_closes_the_upstream_connection(make_lab) -> None:
    lab = await make_lab()
    reader, writer = await asyncio.open_connection("127.0.0.1", lab.proxy.port)
    writer.write(b"GET /sse?n=50&gap_ms=50 HTTP/1.1\r\nHost: x\r\n\r\n")
    await reader.readuntil(b"data: ")
    assert lab.legacy.stats.open_connections == 1
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()
    for _ in range(100):
        if lab.legacy.stats.open_connections == 0:
            break
        await asyncio.sleep(0.02)
    assert lab.legacy.stats.open_connections == 0
    assert lab.proxy.core.pools["legacy"].idle_count() == 0  # a cut-off connection is never reused


def test_inbound_request_is_a_plain_record() -> None:
    request = InboundRequest(b"GET", b"/a?b", "/a", [], "1.1", True, False, "127.0.0.1")
    assert request.path == "/a"

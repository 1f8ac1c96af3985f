"""HTTP/1.1 forwarding through the proxy, against scripted upstreams on real sockets."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re

import httpx
import pytest

from proxy.limits import Limits

pytestmark = pytest.mark.anyio


async def get(lab, path: str, **kwargs) -> httpx.Response:
    async with httpx.AsyncClient(base_url=lab.url, timeout=10) as client:
        return await client.get(path, **kwargs)


def split_responses(raw: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """Parse concatenated HTTP/1.1 responses with content-length bodies (test helper)."""
    out = []
    while raw:
        head, _, rest = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        out.append((status, headers, rest[:length]))
        raw = rest[length:]
    return out


async def test_get_is_served_by_legacy_with_contract_headers(make_lab) -> None:
    lab = await make_lab()
    response = await get(lab, "/echo?x=1", headers={"X-Request-ID": "req-42"})
    assert response.status_code == 200
    assert response.headers["x-banyan-served-by"] == "legacy"
    assert response.headers["x-request-id"] == "req-42"
    seen = response.json()
    assert seen["upstream"] == "legacy"
    assert seen["target"] == "/echo?x=1"
    headers = dict(seen["headers"])
    assert headers["x-request-id"] == "req-42"
    assert re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-01", headers["traceparent"])
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert headers["host"] == f"127.0.0.1:{lab.proxy.port}"  # the client's Host is kept


async def test_unsafe_request_id_is_replaced_and_traceparent_kept(make_lab) -> None:
    lab = await make_lab()
    tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    response = await get(lab, "/echo", headers={"X-Request-ID": "bad id!", "traceparent": tp})
    made = response.headers["x-request-id"]
    assert made != "bad id!"
    headers = dict(response.json()["headers"])
    assert headers["x-request-id"] == made
    assert headers["traceparent"] == tp


async def test_a_client_cannot_mark_its_own_request_as_shadow(make_lab) -> None:
    lab = await make_lab()
    response = await get(lab, "/echo", headers={"X-Banyan-Shadow": "1"})
    assert "x-banyan-shadow" not in dict(response.json()["headers"])


async def test_hop_by_hop_headers_stop_at_the_proxy_both_ways(make_lab) -> None:
    lab = await make_lab()
    response = await get(
        lab,
        "/echo",
        headers={"Connection": "x-private", "X-Private": "1", "TE": "trailers", "X-End": "2"},
    )
    headers = dict(response.json()["headers"])
    assert "x-private" not in headers
    assert "te" not in headers
    assert headers["x-end"] == "2"
    hop = await get(lab, "/hop")
    assert hop.text == "ok"
    assert "x-secret" not in hop.headers
    assert "keep-alive" not in hop.headers
    assert hop.headers["x-kept"] == "yes"


async def test_request_bodies_arrive_whole_with_length_or_chunked(make_lab) -> None:
    lab = await make_lab()
    async with httpx.AsyncClient(base_url=lab.url) as client:
        fixed = await client.post("/echo", content=b"hello world")

        async def pieces():
            for part in (b"hel", b"lo ", b"chunked"):
                yield part

        chunked = await client.post("/echo", content=pieces())
    assert fixed.json()["body"] == "hello world"
    assert dict(fixed.json()["headers"])["content-length"] == "11"
    assert chunked.json()["body"] == "hello chunked"
    assert dict(chunked.json()["headers"])["transfer-encoding"] == "chunked"


async def test_keep_alive_reuses_upstream_connections(make_lab) -> None:
    lab = await make_lab()
    async with httpx.AsyncClient(base_url=lab.url) as client:
        for _ in range(20):
            assert (await client.get("/echo")).status_code == 200
    assert lab.legacy.stats.connections == 1
    assert len(lab.legacy.stats.requests) == 20


async def test_pipelined_requests_are_answered_in_order(send_raw, make_lab) -> None:
    lab = await make_lab()
    requests = b"".join(
        b"GET /echo?n=%d HTTP/1.1\r\nHost: x\r\n%b\r\n"
        % (i, b"Connection: close\r\n" if i == 2 else b"")
        for i in range(3)
    )
    raw = await send_raw(lab.proxy.port, requests)
    responses = split_responses(raw)
    assert [json.loads(body)["target"] for _, _, body in responses] == [
        "/echo?n=0",
        "/echo?n=1",
        "/echo?n=2",
    ]


async def test_expect_100_continue_is_answered_by_the_proxy(make_lab) -> None:
    lab = await make_lab()
    reader, writer = await asyncio.open_connection("127.0.0.1", lab.proxy.port)
    writer.write(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"
    )
    interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    writer.write(b"data")
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 200 OK")
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()
    assert "expect" not in dict(lab.legacy.stats.requests[0].headers)


async def test_head_response_has_length_but_no_body_and_connection_survives(
    send_raw, make_lab
) -> None:
    lab = await make_lab()
    raw = await send_raw(
        lab.proxy.port,
        b"HEAD /head-len HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    first_head, _, rest = raw.partition(b"\r\n\r\n")
    assert b"content-length: 1234" in first_head
    assert rest.startswith(b"HTTP/1.1 200 OK")  # no body bytes in between


async def test_chunked_close_delimited_and_interim_responses(make_lab) -> None:
    lab = await make_lab()
    chunked = await get(lab, "/chunked?n=4")
    assert chunked.text == "chunk-0;chunk-1;chunk-2;chunk-3;"
    assert chunked.headers["transfer-encoding"] == "chunked"
    until_close = await get(lab, "/no-length")
    assert until_close.text == "until-close"
    interim = await get(lab, "/interim")
    assert interim.status_code == 200
    assert interim.json() == {"after": "interim"}


async def test_sse_events_reach_the_client_as_they_are_sent(make_lab) -> None:
    lab = await make_lab()
    arrivals: list[float] = []
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with (
        httpx.AsyncClient(base_url=lab.url, timeout=10) as client,
        client.stream("GET", "/sse?n=5&gap_ms=150") as response,
    ):
        async for line in response.aiter_lines():
            if line.startswith("data: {"):
                arrivals.append(loop.time() - started)
    assert len(arrivals) == 5
    # Streamed, not buffered: the first event lands long before the last is even sent.
    assert arrivals[0] < 0.4
    assert arrivals[-1] - arrivals[0] > 0.4


async def test_many_concurrent_clients(make_lab) -> None:
    lab = await make_lab()
    async with httpx.AsyncClient(
        base_url=lab.url, limits=httpx.Limits(max_connections=50)
    ) as client:
        responses = await asyncio.gather(*(client.get(f"/echo?i={i}") for i in range(200)))
    assert sorted(r.json()["target"] for r in responses) == sorted(
        f"/echo?i={i}" for i in range(200)
    )


# -- upstream failures become the platform's error envelope, never a hang ---------------------


async def test_upstream_down_is_a_502_envelope(make_lab) -> None:
    lab = await make_lab()
    lab.legacy.server.close()
    await lab.legacy.server.wait_closed()
    response = await get(lab, "/echo", headers={"X-Request-ID": "r-down"})
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "model_call_error"
    assert error["request_id"] == "r-down"
    assert "legacy" in error["message"]
    assert (
        lab.proxy.core.counters.get("banyan_proxy_upstream_errors_total", "legacy", "connect") == 1
    )


async def test_upstream_silent_is_a_504_within_the_timeout(make_lab) -> None:
    lab = await make_lab(limits=Limits(response_timeout=0.5))
    loop = asyncio.get_running_loop()
    started = loop.time()
    response = await get(lab, "/hang")
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "gateway_timeout_error"
    assert 0.4 < loop.time() - started < 3


@pytest.mark.parametrize("path", ["/close", "/reset", "/garbage"])
async def test_upstream_misbehaving_before_a_response_is_a_502(make_lab, path: str) -> None:
    lab = await make_lab()
    response = await get(lab, path)
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "model_call_error"


@pytest.mark.parametrize("path", ["/reset-mid-body", "/hang-body"])
async def test_failure_after_the_response_started_cuts_the_response_short(
    make_lab, path: str
) -> None:
    lab = await make_lab(limits=Limits(idle_timeout=0.5))
    with pytest.raises(httpx.RemoteProtocolError):
        await get(lab, path)


async def test_a_stale_pooled_connection_is_retried_once(make_lab) -> None:
    lab = await make_lab()
    lab.legacy.stats.drop_reused = True
    async with httpx.AsyncClient(base_url=lab.url) as client:
        assert (await client.get("/echo")).status_code == 200
        second = await client.post("/echo", content=b"replayed body")
    assert second.status_code == 200
    assert second.json()["body"] == "replayed body"
    assert lab.legacy.stats.connections == 2
    assert lab.proxy.core.counters.get("banyan_proxy_retries_total", "legacy") == 1


# -- malformed requests: a clear 4xx with Connection: close, never a crash --------------------


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (
            b"GET /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            400,
        ),
        (
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
            400,
        ),
        (b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40000 + b"\r\n\r\n", 431),
    ],
    ids=["cl-and-te", "duplicate-cl", "te-not-chunked", "not-http", "head-too-large"],
)
async def test_malformed_requests_get_a_clear_error_and_close(
    send_raw, make_lab, request_bytes: bytes, status: int
) -> None:
    lab = await make_lab()
    raw = await send_raw(lab.proxy.port, request_bytes)
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 %d" % status), raw[:200]
    assert b"connection: close" in head.lower()
    assert json.loads(body)["error"]["message"]
    assert lab.legacy.stats.requests == []  # nothing smuggled upstream


async def test_a_head_begun_and_never_finished_gets_408_and_the_connection_closes(
    send_raw, make_lab
) -> None:
    lab = await make_lab(limits=Limits(head_timeout=0.3, keepalive_timeout=30))
    started = asyncio.get_running_loop().time()
    raw = await send_raw(lab.proxy.port, b"GET /echo HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    waited = asyncio.get_running_loop().time() - started
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), raw[:200]
    assert b"connection: close" in head.lower()
    assert "did not arrive within 0.3 s" in json.loads(body)["error"]["message"]
    assert 0.3 <= waited < 3  # the head's deadline, not the 30 s keep-alive one
    assert lab.legacy.stats.requests == []


async def test_a_head_sent_slowly_within_its_deadline_is_served(make_lab) -> None:
    lab = await make_lab(limits=Limits(head_timeout=1.0))
    reader, writer = await asyncio.open_connection("127.0.0.1", lab.proxy.port)
    try:
        for part in (b"GET /echo HTTP/1.1\r\n", b"Host: x\r\n", b"\r\n"):
            writer.write(part)
            await writer.drain()
            await asyncio.sleep(0.2)
        answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert answer.startswith(b"HTTP/1.1 200")
        length = re.search(rb"content-length: (\d+)", answer.lower())
        assert length is not None
        await reader.readexactly(int(length[1]))
        await asyncio.sleep(1.2)  # idle between requests: the keep-alive rule, not the head's
        writer.write(b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        again = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert again.startswith(b"HTTP/1.1 200")
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def test_request_body_over_the_limit_is_refused(send_raw, make_lab) -> None:
    lab = await make_lab(limits=Limits(max_request_body=1000))
    declared = await send_raw(
        lab.proxy.port, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n"
    )
    assert declared.startswith(b"HTTP/1.1 413")
    chunk = b"x" * 600
    streamed = await send_raw(
        lab.proxy.port,
        b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        + (b"%x\r\n%b\r\n" % (len(chunk), chunk)) * 3
        + b"0\r\n\r\n",
    )
    assert streamed.startswith(b"HTTP/1.1 413")


async def test_a_request_split_at_every_offset_is_parsed_the_same(make_lab) -> None:
    """The parser keeps its state across reads: any split of the bytes gives the same exchange."""
    lab = await make_lab()
    request = (
        b"POST /echo?q=1 HTTP/1.1\r\nHost: x\r\nX-Request-ID: split\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    )
    for offset in range(1, len(request)):
        reader, writer = await asyncio.open_connection("127.0.0.1", lab.proxy.port)
        writer.write(request[:offset])
        await writer.drain()
        await asyncio.sleep(0.001)  # a separate read on the proxy's side
        writer.write(request[offset:])
        raw = await asyncio.wait_for(reader.read(-1), 5)
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
        head, _, body = raw.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), (offset, raw[:100])
        echoed = json.loads(body)
        assert (echoed["target"], echoed["body"]) == ("/echo?q=1", "hello world"), offset

"""The replayer against real upstream sockets: what the other side receives, how its faults are
named, the noise call, reverse shadow, and WebSocket records handed to a WsReplay."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace

import pytest

from banyan.contract import accept_request_id
from proxy.config import RouteConfig, ShadowSettings
from proxy.mirror import MirrorRecord
from shadow import replay as replay_module
from shadow.metrics import Counters
from shadow.model import Observation
from shadow.replay import Replayer, noise_request_id, replay_headers, served_observation
from tests.proxy.conftest import ScriptedUpstream, start_upstream

pytestmark = pytest.mark.anyio

TRACEPARENT = b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
MULTIPART = (
    b'--BOUNDARY\r\ncontent-disposition: form-data; name="file"; filename="a.wav"\r\n'
    b"content-type: audio/wav\r\n\r\nRIFF\x00\x01\x02\xff\xfe\r\n\r\n--BOUNDARY\r\n"
    b'content-disposition: form-data; name="language"\r\n\r\nhi-IN\r\n--BOUNDARY--\r\n'
)


def route_config(**shadow: object) -> RouteConfig:
    settings = replace(ShadowSettings(noise_sample=0.0), **shadow)  # type: ignore[arg-type]
    return RouteConfig(
        name="stt", path="/echo", methods=None, websocket=False, mode="shadow",
        shadow=settings, canary_percent=0.0, legacy="legacy", candidate="candidate",
    )  # fmt: skip


def record(target: str = "/echo", **changes: object) -> MirrorRecord:
    fields: dict[str, object] = {
        "request_id": b"req-1",
        "traceparent": TRACEPARENT,
        "route": "stt",
        "served_by": "legacy",
        "mirror_to": "candidate",
        "method": b"POST",
        "target": target.encode(),
        "request_headers": [
            (b"host", b"api.example"),
            (b"content-type", b"multipart/form-data; boundary=BOUNDARY"),
            (b"api-subscription-key", b"sk-1"),
            (b"accept", b"application/json"),
            (b"x-dup", b"1"),
            (b"x-dup", b"2"),
        ],
        "request_body": MULTIPART,
        "status": 200,
        "response_headers": [(b"content-type", b"application/json")],
        "response_body": b'{"transcript": "hi"}',
        "started_at": 100.0,
        "first_byte_at": 100.2,
        "finished_at": 100.5,
        "first_body_at": 100.25,
    }
    fields.update(changes)
    return MirrorRecord(**fields)  # type: ignore[arg-type]


@pytest.fixture
async def sides() -> AsyncIterator[tuple[ScriptedUpstream, ScriptedUpstream]]:
    legacy, candidate = await start_upstream("legacy"), await start_upstream("candidate")
    yield legacy, candidate
    for upstream in (legacy, candidate):
        upstream.server.close()


def closed_port_url() -> str:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    return f"http://127.0.0.1:{port}"


def replayer_for(
    legacy: ScriptedUpstream | str, candidate: ScriptedUpstream | str, counters: Counters, **kw
) -> Replayer:
    def url(side: ScriptedUpstream | str) -> str:
        return side if isinstance(side, str) else side.url

    return Replayer({"legacy": url(legacy), "candidate": url(candidate)}, counters, **kw)


async def test_the_replay_carries_the_contract_headers_and_the_body_byte_for_byte(sides) -> None:
    legacy, candidate = sides
    counters = Counters()
    async with replayer_for(legacy, candidate, counters) as replayer:
        trial = await replayer.run(record("/echo?lang=hi%20IN&x=1"), route_config())
    assert trial is not None
    (received,) = candidate.stats.requests
    assert received.body == MULTIPART
    assert received.target == "/echo?lang=hi%20IN&x=1"
    names = [k for k, _ in received.headers]
    headers = dict(received.headers)
    assert headers["x-banyan-shadow"] == "1"
    assert headers["x-request-id"] == "req-1"
    assert headers["traceparent"] == TRACEPARENT.decode()
    assert headers["api-subscription-key"] == "sk-1"
    assert headers["content-type"] == "multipart/form-data; boundary=BOUNDARY"
    assert headers["content-length"] == str(len(MULTIPART))
    assert headers["host"] == "api.example"
    assert [v for k, v in received.headers if k == "x-dup"] == ["1", "2"]
    assert "accept-encoding" not in names  # nothing the client did not send
    assert "user-agent" not in names
    assert "cookie" not in names
    assert legacy.stats.requests == []
    assert trial.candidate.status == 200
    assert trial.candidate.error is None
    assert b'"upstream": "candidate"' in trial.candidate.body
    assert (b"content-type", b"application/json") in trial.candidate.headers
    assert 0 < trial.candidate.ttfb_s <= trial.candidate.latency_s
    assert trial.legacy == served_observation(record())
    assert trial.legacy.latency_s == pytest.approx(0.5)
    assert trial.legacy.ttfb_s == pytest.approx(0.25)
    assert (trial.request_id, trial.route, trial.method, trial.served_by) == (
        "req-1", "stt", "POST", "legacy",
    )  # fmt: skip
    assert trial.noise is None
    assert counters.snapshot() == {}


def test_replay_headers_drop_what_the_sender_sets_and_add_the_contract() -> None:
    rec = record(
        request_headers=[
            (b"content-length", b"999"),
            (b"transfer-encoding", b"chunked"),
            (b"connection", b"x-hop"),
            (b"x-hop", b"1"),
            (b"x-request-id", b"spoofed"),
            (b"x-banyan-shadow", b"0"),
            (b"x-keep", b"yes"),
        ]
    )
    assert replay_headers(rec, b"req-1.noise") == [
        (b"x-keep", b"yes"),
        (b"x-banyan-shadow", b"1"),
        (b"x-request-id", b"req-1.noise"),
        (b"traceparent", TRACEPARENT),
    ]


async def test_a_stream_is_read_whole_with_its_first_byte_timed(sides) -> None:
    legacy, candidate = sides
    async with replayer_for(legacy, candidate, Counters()) as replayer:
        trial = await replayer.run(
            record("/sse?n=3&gap_ms=100", method=b"GET", request_body=b""), route_config()
        )
    assert trial is not None
    assert trial.candidate.body.endswith(b"data: [DONE]\n\n")
    assert trial.candidate.body.count(b"data:") == 4
    assert trial.candidate.ttfb_s < 0.1
    assert trial.candidate.latency_s >= 0.28
    (received,) = candidate.stats.requests
    assert "content-length" not in dict(received.headers)  # a GET without a body stays so


@pytest.mark.parametrize(
    ("target", "timeout_ms", "kind", "counted"),
    [
        ("/hang", 200, "timeout", True),
        ("/hang-body", 200, "timeout", True),
        ("/reset", 5000, "reset", False),
        ("/reset-mid-body", 5000, "reset", False),
        ("/close", 5000, "reset", False),
    ],
)
async def test_faults_of_the_other_side_are_named(
    sides, target: str, timeout_ms: int, kind: str, counted: bool
) -> None:
    legacy, candidate = sides
    counters, dropped = Counters(), []
    began = time.monotonic()
    on_drop = lambda _record, reason: dropped.append(reason)  # noqa: E731
    async with replayer_for(legacy, candidate, counters, on_drop=on_drop) as replayer:
        trial = await replayer.run(record(target), route_config(timeout_ms=timeout_ms))
    assert trial is not None
    assert dropped == []  # evidence against the candidate, not a request left uncompared
    assert trial.candidate.error == kind
    assert trial.candidate.status == 0
    assert trial.legacy.status == 200  # the served side is what the customer got
    assert time.monotonic() - began < 2
    if kind == "timeout":
        assert trial.candidate.latency_s == pytest.approx(timeout_ms / 1000, abs=0.1)
    assert counters.get("banyan_shadow_dropped_total", "stt", kind) == (1 if counted else 0)


async def test_an_unreachable_side_is_a_connect_error(sides) -> None:
    legacy, _ = sides
    counters = Counters()
    async with replayer_for(legacy, closed_port_url(), counters) as replayer:
        trial = await replayer.run(record(), route_config())
    assert trial is not None
    assert trial.candidate.error == "connect_error"
    assert counters.get("banyan_shadow_dropped_total", "stt", "connect_error") == 1


async def test_reverse_shadow_replays_to_legacy(sides) -> None:
    legacy, candidate = sides
    async with replayer_for(legacy, candidate, Counters()) as replayer:
        trial = await replayer.run(
            record(served_by="candidate", mirror_to="legacy"), route_config()
        )
    assert trial is not None
    assert candidate.stats.requests == []
    (received,) = legacy.stats.requests
    assert dict(received.headers)["x-banyan-shadow"] == "1"
    assert trial.served_by == "candidate"
    assert b'"upstream": "legacy"' in trial.legacy.body
    assert trial.candidate == served_observation(record())


async def test_a_sampled_noise_call_asks_legacy_again_under_its_own_id(sides) -> None:
    legacy, candidate = sides
    draws: list[float] = []

    def draw() -> float:
        draws.append(0.04)
        return 0.04

    async with replayer_for(legacy, candidate, Counters(), random=draw) as replayer:
        trial = await replayer.run(record(), route_config(noise_sample=0.05))
    assert trial is not None
    assert draws == [0.04]
    (noise_request,) = legacy.stats.requests
    headers = dict(noise_request.headers)
    assert headers["x-request-id"] == "req-1.noise"
    assert headers["x-banyan-shadow"] == "1"
    assert headers["traceparent"] == TRACEPARENT.decode()
    assert noise_request.body == MULTIPART
    assert trial.noise is not None
    assert b'"upstream": "legacy"' in trial.noise.body
    assert dict(candidate.stats.requests[0].headers)["x-request-id"] == "req-1"


def test_the_noise_id_stays_within_the_request_id_limit() -> None:
    """A service replaces an id over 128 characters with a random one, which would lose the
    noise call's ledger row and make its echoed id look like noise."""
    assert noise_request_id(b"req-1") == b"req-1.noise"
    fits = b"a" * 122
    assert noise_request_id(fits) == fits + b".noise"
    for long_id in (b"a" * 123, b"b" * 128):
        derived = noise_request_id(long_id)
        assert len(derived) <= 128
        assert derived.endswith(b".noise")
        assert accept_request_id(derived) == derived  # kept, not replaced
        assert noise_request_id(long_id) == derived
    assert noise_request_id(b"a" * 123) != noise_request_id(b"a" * 124)


async def test_a_long_request_ids_noise_call_keeps_an_id_the_services_accept(sides) -> None:
    legacy, candidate = sides
    long_id = b"x" * 125
    async with replayer_for(legacy, candidate, Counters(), random=lambda: 0.0) as replayer:
        trial = await replayer.run(record(request_id=long_id), route_config(noise_sample=1.0))
    assert trial is not None
    assert trial.noise is not None
    (noise_request,) = legacy.stats.requests
    sent = dict(noise_request.headers)["x-request-id"].encode()
    assert sent == noise_request_id(long_id)
    assert accept_request_id(sent) == sent


async def test_noise_is_not_called_outside_its_sample(sides) -> None:
    legacy, candidate = sides
    async with replayer_for(legacy, candidate, Counters(), random=lambda: 0.05) as replayer:
        trial = await replayer.run(record(), route_config(noise_sample=0.05))
    assert trial is not None
    assert trial.noise is None
    assert legacy.stats.requests == []


async def test_a_failed_noise_call_is_dropped_and_counted(sides) -> None:
    _, candidate = sides
    counters = Counters()
    async with replayer_for(closed_port_url(), candidate, counters, random=lambda: 0.0) as r:
        trial = await r.run(record(), route_config(noise_sample=1.0))
    assert trial is not None
    assert trial.noise is None
    assert trial.candidate.error is None
    assert counters.get("banyan_shadow_dropped_total", "stt", "noise_failed") == 1


async def test_replays_of_a_route_respect_its_concurrency(sides) -> None:
    legacy, candidate = sides
    slow = record("/sse?n=0&gap_ms=0", method=b"GET", request_body=b"")
    # /sse?n=0 answers at once; /hang-body never ends: hold slots with those, with a deadline
    holding = record("/hang-body", method=b"GET", request_body=b"")
    async with replayer_for(legacy, candidate, Counters()) as replayer:
        config = route_config(concurrency=2, timeout_ms=300)
        began = time.monotonic()
        trials = await asyncio.gather(
            replayer.run(holding, config), replayer.run(holding, config),
            replayer.run(slow, config),
        )  # fmt: skip
        elapsed = time.monotonic() - began
    assert [t.candidate.error for t in trials if t is not None] == ["timeout", "timeout", None]
    assert elapsed >= 0.3  # the third waited for a slot
    assert trials[2] is not None
    assert trials[2].candidate.latency_s < 0.2  # its own deadline started when it got one


async def test_an_unknown_upstream_is_a_replay_error(sides) -> None:
    legacy, _ = sides
    counters = Counters()
    replayer = Replayer({"legacy": legacy.url}, counters)
    assert await replayer.run(record(), route_config()) is None
    await replayer.aclose()
    assert counters.get("banyan_shadow_dropped_total", "stt", "replay_error") == 1


def ws_record(**changes: object) -> MirrorRecord:
    fields: dict[str, object] = {
        "method": b"GET",
        "request_body": b"",
        "status": 101,
        "response_body": b"",
        "request_headers": [
            (b"host", b"api.example"),
            (b"sec-websocket-key", b"dGhlIHNhbXBsZSBub25jZQ=="),
            (b"sec-websocket-version", b"13"),
            (b"sec-websocket-protocol", b"stt.v1, stt.v2"),
            (b"sec-websocket-extensions", b"permessage-deflate"),
            (b"api-subscription-key", b"sk-1"),
        ],
        "ws_client": ((0.0, b"\x81\x85"), (2.0, b"late")),
        "ws_server": (),
    }
    return record("/ws/stt?lang=en", **{**fields, **changes})


async def test_a_websocket_record_without_a_ws_replayer_is_dropped(sides) -> None:
    legacy, candidate = sides
    counters = Counters()
    async with replayer_for(legacy, candidate, counters) as replayer:
        assert await replayer.run(ws_record(), route_config()) is None
    assert counters.get("banyan_shadow_dropped_total", "stt", "ws_unsupported") == 1
    assert candidate.stats.requests == []


class FakeWsReplay:
    def __init__(self, delay: float = 0.0) -> None:
        self.calls: list[tuple[str, list[tuple[bytes, bytes]], list[str], MirrorRecord]] = []
        self.deadlines: list[float] = []
        self.delay = delay

    async def __call__(
        self, url: str, headers: Sequence[tuple[bytes, bytes]], subprotocols: Sequence[str],
        record: MirrorRecord, *, timeout_s: float,
    ) -> tuple[Observation, Observation]:  # fmt: skip
        self.calls.append((url, list(headers), list(subprotocols), record))
        self.deadlines.append(timeout_s)
        await asyncio.sleep(self.delay)
        return Observation(101, (), b"", 2.5), Observation(101, (), b"", 2.6)


async def test_a_websocket_record_goes_to_the_ws_replayer_with_a_fresh_handshake(sides) -> None:
    legacy, candidate = sides
    fake = FakeWsReplay()
    async with replayer_for(legacy, candidate, Counters(), ws_replay=fake) as replayer:
        trial = await replayer.run(ws_record(), route_config())
    assert trial is not None
    ((url, headers, subprotocols, seen),) = fake.calls
    assert url == f"ws://127.0.0.1:{candidate.port}/ws/stt?lang=en"
    assert subprotocols == ["stt.v1", "stt.v2"]
    names = {k for k, _ in headers}
    assert names == {b"api-subscription-key", b"x-banyan-shadow", b"x-request-id", b"traceparent"}
    assert seen == ws_record()
    assert trial.legacy.latency_s == 2.5
    assert trial.candidate.latency_s == 2.6


async def test_a_websocket_replay_gets_the_session_length_on_top_of_the_timeout(sides) -> None:
    legacy, candidate = sides
    fake = FakeWsReplay()
    # the session's client spoke for 2 s: a 0.1 s timeout leaves the replay 2.1 s
    async with replayer_for(legacy, candidate, Counters(), ws_replay=fake) as r:
        assert await r.run(ws_record(), route_config(timeout_ms=100)) is not None
        short = ws_record(ws_client=((0.0, b"x"),))
        assert await r.run(short, route_config(timeout_ms=100)) is not None
    assert fake.deadlines == [pytest.approx(2.1), pytest.approx(0.1)]


async def test_a_websocket_replayer_past_its_own_deadline_is_abandoned_and_dropped(
    sides, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(replay_module, "_WS_GUARD_S", 0.1)
    legacy, candidate = sides
    counters, dropped = Counters(), []
    short = ws_record(ws_client=((0.0, b"x"),))
    async with replayer_for(
        legacy, candidate, counters, ws_replay=FakeWsReplay(0.5),
        on_drop=lambda record, reason: dropped.append(reason),
    ) as r:  # fmt: skip
        assert await r.run(short, route_config(timeout_ms=100)) is None
    assert counters.get("banyan_shadow_dropped_total", "stt", "timeout") == 1
    assert dropped == ["timeout"]

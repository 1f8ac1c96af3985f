"""Replaying a WebSocket session (shadow/ws_replay.py): against legacy's real TTS socket, and
against tiny local servers for pacing, settling, refusals, resets and timeouts."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from decimal import Decimal
from http import HTTPStatus

import asyncpg
import pytest
from websockets.asyncio.server import Request, Response, ServerConnection, serve
from websockets.datastructures import Headers

from legacy.app import create_app
from legacy.commerce.tenants import create_tenant
from legacy.inference.app import create_inference_app
from legacy.inference.espeak import EspeakEngine
from shadow.compare.audio import decode_audio
from shadow.model import WsMessage
from shadow.ws_replay import replay_session
from tests.legacy.servers import serving

pytestmark = pytest.mark.anyio

SHADOW = ("X-Banyan-Shadow", "1")
Handler = Callable[[ServerConnection], Awaitable[None]]


@asynccontextmanager
async def local_server(
    handler: Handler, process_request: Callable[..., Response | None] | None = None
) -> AsyncIterator[str]:
    async with serve(handler, "127.0.0.1", 0, process_request=process_request) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}/ws"


def text(at: float, payload: object) -> WsMessage:
    return WsMessage(at=at, text=json.dumps(payload))


# --- against legacy's real /text-to-speech/ws -------------------------------------------


@pytest.fixture(scope="module")
def engine() -> Iterator[EspeakEngine]:
    engine = EspeakEngine()  # one per process: this module's tests share it
    yield engine
    engine.close()


async def test_a_tts_session_replayed_to_legacy_gets_audio_at_the_original_pace(
    engine: EspeakEngine, database_url: str, redis_url: str
) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        _, key = await create_tenant(conn, "replay", Decimal(10))
    finally:
        await conn.close()
    async with serving(create_inference_app(engine)) as inference_port:
        app = create_app(
            database_url=database_url,
            redis_url=redis_url,
            inference_url=f"http://127.0.0.1:{inference_port}",
        )
        async with serving(app) as port:
            url = f"ws://127.0.0.1:{port}/text-to-speech/ws?send_completion_event=true"
            headers = [
                ("Host", "legacy.example"),  # the live hop's: dropped
                ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),  # the live handshake's
                ("Sec-WebSocket-Version", "13"),
                ("api-subscription-key", key),
                SHADOW,
            ]
            session = [
                text(0.0, {"type": "config", "data": {"language_code": "en-IN",
                                                      "output_audio_codec": "wav"}}),
                text(0.3, {"type": "text", "data": {"text": "Hello there."}}),  # under 50: buffered
                text(0.6, {"type": "flush"}),
            ]  # fmt: skip
            observation = await replay_session(
                url, headers, [], session, timeout_s=20, settle_s=0.5
            )
            refused = await replay_session(
                url, [("api-subscription-key", "sk_nope")], [], session, timeout_s=5
            )
    assert observation.error is None
    assert observation.status == 101
    assert observation.messages is not None
    kinds = [json.loads(m.text or "")["type"] for m in observation.messages]
    assert kinds[-1] == "event"
    assert kinds[:-1] == ["audio"] * (len(kinds) - 1)
    assert kinds.count("audio") >= 1
    audio = json.loads(observation.messages[0].text or "")["data"]["audio"]
    heard = decode_audio(base64.b64decode(audio))
    assert heard is not None
    assert heard.container == "wav"
    assert heard.duration_s > 0.3
    # Pacing: the text waits in legacy's buffer until the flush, sent 0.6 s after the open.
    assert observation.messages[0].at >= 0.6
    assert observation.ttfb_s is not None
    assert observation.ttfb_s >= observation.messages[0].at
    # Legacy keeps the session open: the replay ends after 0.5 s of quiet.
    last = observation.messages[-1].at
    assert last + 0.5 <= observation.latency_s < last + 3
    assert dict(observation.headers)[b"upgrade"].lower() == b"websocket"
    # A refused handshake is an answer: legacy's status and error envelope.
    assert refused.status == 401
    assert refused.error is None
    assert json.loads(refused.body)["error"]["code"] == "invalid_api_key_error"


# --- against local servers ---------------------------------------------------------------


async def test_client_messages_keep_their_pacing_and_the_handshake_is_the_callers() -> None:
    seen: list[tuple[float, str]] = []
    handshake: list[Headers] = []

    async def record(ws: ServerConnection) -> None:
        loop = asyncio.get_running_loop()
        opened = loop.time()
        handshake.append(ws.request.headers if ws.request else Headers())
        async for message in ws:
            seen.append((loop.time() - opened, str(message)))
            await ws.send(f"echo {message}")

    session = [WsMessage(0.0, "a"), WsMessage(0.25, "b"), WsMessage(0.25, "c"), WsMessage(0.6, "d")]
    async with local_server(record) as url:
        observation = await replay_session(
            url,
            [("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAA=="), ("Origin", "https://app"), SHADOW,
             ("User-Agent", "sarvamai-python"), ("Sec-WebSocket-Protocol", "v1")],
            ["v1"], session, timeout_s=5, settle_s=0.2,
        )  # fmt: skip
    assert [text for _, text in seen] == ["a", "b", "c", "d"]
    for (arrived, _), sent in zip(seen, session, strict=True):
        assert sent.at - 0.01 <= arrived < sent.at + 0.1, seen
    assert observation.messages is not None
    assert [m.text for m in observation.messages] == ["echo a", "echo b", "echo c", "echo d"]
    assert observation.messages[-1].at >= 0.6
    headers = handshake[0]
    assert headers["X-Banyan-Shadow"] == "1"
    assert headers["Origin"] == "https://app"
    assert headers.get_all("User-Agent") == ["sarvamai-python"]
    assert headers["Sec-WebSocket-Key"] != "AAAAAAAAAAAAAAAAAAAAAA=="  # a fresh handshake
    assert headers.get_all("Sec-WebSocket-Protocol") == ["v1"]


async def test_binary_messages_go_and_come_back_as_bytes() -> None:
    async def echo(ws: ServerConnection) -> None:
        async for message in ws:
            await ws.send(message)

    async with local_server(echo) as url:
        observation = await replay_session(
            url, [], [], [WsMessage(0.0, data=b"\x00\xff")], timeout_s=5, settle_s=0.1
        )
    assert observation.messages is not None
    assert [(m.text, m.data) for m in observation.messages] == [(None, b"\x00\xff")]


async def test_a_server_that_closes_ends_the_session_without_waiting_to_settle() -> None:
    async def answer_and_close(ws: ServerConnection) -> None:
        await ws.recv()
        await ws.send('{"type": "data"}')
        await ws.close(1000)

    async with local_server(answer_and_close) as url:
        observation = await replay_session(
            url, [], [], [WsMessage(0.0, "hi")], timeout_s=10, settle_s=5
        )
    assert observation.error is None
    assert observation.status == 101
    assert observation.messages is not None
    assert [m.text for m in observation.messages] == ['{"type": "data"}']
    assert observation.latency_s < 2


async def test_every_late_message_extends_the_settle_time() -> None:
    async def trickle(ws: ServerConnection) -> None:
        await ws.recv()
        for k in range(4):
            await asyncio.sleep(0.15)
            await ws.send(f"part {k}")
        await ws.wait_closed()  # until the replay leaves

    async with local_server(trickle) as url:
        observation = await replay_session(
            url, [], [], [WsMessage(0.0, "go")], timeout_s=10, settle_s=0.3
        )
    assert observation.error is None
    assert observation.messages is not None
    assert [m.text for m in observation.messages] == [f"part {k}" for k in range(4)]
    assert 0.6 + 0.3 <= observation.latency_s < 2.5


async def test_a_hung_server_is_a_timeout_with_what_came_before() -> None:
    async def hang(ws: ServerConnection) -> None:
        await ws.recv()
        await ws.send("first")
        await ws.wait_closed()  # silent until the replay gives up

    async with local_server(hang) as url:
        loop = asyncio.get_running_loop()
        started = loop.time()
        observation = await replay_session(
            url, [], [], [WsMessage(0.0, "a"), WsMessage(5.0, "b")], timeout_s=0.5, settle_s=5
        )
        elapsed = loop.time() - started
    assert observation.error == "timeout"
    assert observation.status == 0
    assert observation.messages is not None
    assert [m.text for m in observation.messages] == ["first"]
    assert 0.5 <= elapsed < 2.5  # the deadline plus at most the 1 s closing handshake


async def test_a_dropped_connection_is_a_reset_with_the_messages_so_far() -> None:
    async def drop(ws: ServerConnection) -> None:
        await ws.recv()
        await ws.send("before the drop")
        await asyncio.sleep(0.1)
        ws.transport.abort()  # no close frame

    async with local_server(drop) as url:
        observation = await replay_session(
            url, [], [], [WsMessage(0.0, "a")], timeout_s=5, settle_s=2
        )
    assert observation.error == "reset"
    assert observation.messages is not None
    assert [m.text for m in observation.messages] == ["before the drop"]
    assert observation.ttfb_s is not None


async def test_a_refused_handshake_is_its_status_and_body() -> None:
    def refuse(connection: ServerConnection, request: Request) -> Response:
        return connection.respond(HTTPStatus.TOO_MANY_REQUESTS, "slow down\n")

    async def never(ws: ServerConnection) -> None:
        raise AssertionError("the handshake was refused")

    async with local_server(never, process_request=refuse) as url:
        observation = await replay_session(url, [], [], [WsMessage(0.0, "a")], timeout_s=5)
    assert (observation.status, observation.body, observation.error) == (429, b"slow down\n", None)
    assert observation.messages is None


async def test_nothing_listening_is_a_connect_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    observation = await replay_session(
        f"ws://127.0.0.1:{port}/ws", [], [], [WsMessage(0.0, "a")], timeout_s=5
    )
    assert observation.error == "connect_error"
    assert observation.status == 0


async def test_a_server_that_never_answers_the_handshake_is_a_timeout() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()  # accepts in the kernel, never answers
    try:
        port = listener.getsockname()[1]
        observation = await replay_session(
            f"ws://127.0.0.1:{port}/ws", [], [], [WsMessage(0.0, "a")], timeout_s=0.3
        )
    finally:
        listener.close()
    assert observation.error == "timeout"


async def test_a_message_over_the_limit_is_garbage() -> None:
    async def flood(ws: ServerConnection) -> None:
        await ws.recv()
        await ws.send("ok")
        await ws.send("x" * 5000)
        await ws.wait_closed()

    async with local_server(flood) as url:
        observation = await replay_session(
            url, [], [], [WsMessage(0.0, "a")], timeout_s=5, max_message_bytes=1000
        )
    assert observation.error == "garbage"
    assert observation.messages is not None
    assert [m.text for m in observation.messages] == ["ok"]


def test_public_surface_is_pinned() -> None:
    import shadow.ws_replay as module

    assert set(module.__all__) == {"DROPPED_HEADERS", "replay_session"}
    assert all(hasattr(module, name) for name in module.__all__)

"""The metered SSE response settles exactly what it delivered, however the stream ends.

Driven with a fake ASGI receive/send (no server): the client "goes away" after a given number
of body messages, and the response must call ``finish`` once with the tokens of the frames
whose ``send`` completed, after closing the frame source."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import anyio
import pytest

from legacy.chat.chunks import Frame
from legacy.chat.metered_stream import MeteredEventStream

pytestmark = pytest.mark.anyio


class Client:
    """Reads ``patience`` body messages, then disconnects."""

    def __init__(self, patience: int | None) -> None:
        self.patience = patience
        self.bodies: list[bytes] = []
        self.headers: list[tuple[bytes, bytes]] = []
        self.gone = anyio.Event()

    async def receive(self) -> dict:
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict) -> None:
        if message["type"] == "http.response.start":
            self.headers = message["headers"]
            return
        self.bodies.append(message["body"])
        if self.patience is not None and len(self.bodies) >= self.patience:
            self.gone.set()


async def run(client: Client, settled: list[int], closed: list[bool]) -> None:
    async def frames() -> AsyncGenerator[Frame, None]:
        try:
            for i in range(10):
                await anyio.sleep(0.01)
                yield Frame(f"data: {i}\n\n".encode(), tokens=i + 1)
        finally:
            closed.append(True)

    async def finish(delivered: int) -> None:
        await anyio.sleep(0.01)  # a real settlement awaits the database
        settled.append(delivered)

    response = MeteredEventStream(frames(), finish)
    await response({"type": "http"}, client.receive, client.send)


async def test_a_finished_stream_settles_every_token() -> None:
    client = Client(patience=None)
    settled: list[int] = []
    closed: list[bool] = []
    await run(client, settled, closed)
    assert settled == [sum(range(1, 11))]
    assert closed == [True]
    assert client.bodies[-1] == b""
    assert (b"content-type", b"text/event-stream; charset=utf-8") in client.headers
    assert not any(name == b"content-length" for name, _ in client.headers)


async def test_a_client_gone_mid_stream_settles_what_it_was_sent() -> None:
    client = Client(patience=3)
    settled: list[int] = []
    closed: list[bool] = []
    await run(client, settled, closed)
    assert settled == [1 + 2 + 3]
    assert closed == [True]
    assert len(client.bodies) == 3


async def test_a_cancelled_response_still_settles_once() -> None:
    client = Client(patience=None)
    settled: list[int] = []
    closed: list[bool] = []
    with anyio.move_on_after(0.045):
        await run(client, settled, closed)
    sent = len(client.bodies)
    assert 0 < sent < 10  # cancelled mid-stream
    assert settled == [sum(range(1, sent + 1))]  # and still settled, once, what it had sent
    assert closed == [True]

"""WebSocket sessions through the proxy: frames both ways, binary, close codes."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
import wsproto
import wsproto.events as ws

pytestmark = pytest.mark.anyio

ROUTES = """
  - name: stt-ws
    match: {path: /ws, websocket: true}
    mode: legacy
"""


class WsClient:
    """A minimal wsproto client over asyncio streams."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.conn = wsproto.WSConnection(wsproto.ConnectionType.CLIENT)
        self.events: list[ws.Event] = []
        self.response_headers: list[tuple[bytes, bytes]] = []

    @classmethod
    async def connect(cls, port: int, path: str = "/ws", headers=()) -> WsClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        client = cls(reader, writer)
        client.send(ws.Request(host="127.0.0.1", target=path, extra_headers=list(headers)))
        accepted = await client.next_event()
        assert isinstance(accepted, ws.AcceptConnection), accepted
        client.response_headers = accepted.extra_headers
        return client

    def send(self, event: ws.Event) -> None:
        self.writer.write(self.conn.send(event))

    async def next_event(self, within: float = 5) -> ws.Event:
        while not self.events:
            data = await asyncio.wait_for(self.reader.read(65536), within)
            self.conn.receive_data(data or None)
            self.events.extend(self.conn.events())
        return self.events.pop(0)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


async def test_text_and_binary_frames_echo_through_the_proxy(make_lab) -> None:
    lab = await make_lab(ROUTES)
    client = await WsClient.connect(lab.proxy.port)
    headers = dict(client.response_headers)
    assert headers[b"x-banyan-served-by"] == b"legacy"
    assert headers[b"x-request-id"]
    client.send(ws.TextMessage(data="hello"))
    assert (await client.next_event()).data == "hello"
    blob = bytes(range(256)) * 300  # 76.8 KB binary, several TCP segments
    client.send(ws.BytesMessage(data=blob))
    received = bytearray()
    while len(received) < len(blob):
        event = await client.next_event()
        assert isinstance(event, ws.BytesMessage)
        received += event.data
    assert bytes(received) == blob
    client.send(ws.Ping(payload=b"p"))
    assert isinstance(await client.next_event(), ws.Pong)
    await client.close()


@pytest.mark.parametrize("code", [1000, 4001])
async def test_close_codes_pass_through_unchanged(make_lab, code: int) -> None:
    lab = await make_lab(ROUTES)
    client = await WsClient.connect(lab.proxy.port)
    client.send(ws.TextMessage(data=f"close:{code}"))
    event = await client.next_event()
    assert isinstance(event, ws.CloseConnection)
    assert event.code == code
    assert event.reason == "bye"
    await client.close()


async def test_client_close_handshake_ends_both_connections(make_lab) -> None:
    lab = await make_lab(ROUTES)
    client = await WsClient.connect(lab.proxy.port)
    client.send(ws.CloseConnection(code=1000, reason="done"))
    event = await client.next_event()
    assert isinstance(event, ws.CloseConnection)
    assert event.code == 1000
    await client.close()
    for _ in range(100):
        if lab.legacy.stats.open_connections == 0 and not lab.proxy.core.connections:
            break
        await asyncio.sleep(0.02)
    assert lab.legacy.stats.open_connections == 0
    assert not lab.proxy.core.connections


async def test_websocket_route_in_candidate_mode_reaches_the_candidate(make_lab) -> None:
    lab = await make_lab(ROUTES.replace("mode: legacy", "mode: candidate"))
    client = await WsClient.connect(lab.proxy.port)
    assert dict(client.response_headers)[b"x-banyan-served-by"] == b"candidate"
    client.send(ws.TextMessage(data="to-go"))
    assert (await client.next_event()).data == "to-go"
    await client.close()
    assert lab.candidate.stats.connections == 1
    assert lab.legacy.stats.connections == 0

"""WebSocket handshake auth and per-session metering (legacy/realtime.py) on a real server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, Field
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from legacy.app import create_app
from legacy.commerce.errors import InsufficientQuota
from legacy.commerce.tenants import create_tenant
from legacy.realtime import open_session, parse_query
from proxy.config import parse_config
from proxy.server import ProxyServer, build_core
from tests.legacy.servers import serving

pytestmark = pytest.mark.anyio


class EchoQuery(BaseModel):
    model_config = {"populate_by_name": True}
    language_code: str = Field(default="en-IN", alias="language-code", pattern=r"^[a-z]+-IN$")


def with_metered_echo(app: FastAPI) -> FastAPI:
    """A test route billed like TTS: each text message costs its characters."""

    async def echo(websocket: WebSocket) -> None:
        query = await parse_query(websocket, EchoQuery)
        if query is None:
            return
        session = await open_session(
            websocket, route="text-to-speech-ws", unit="characters", estimate=Decimal(10)
        )
        if session is None:
            return
        async with session:
            try:
                while True:
                    text = await websocket.receive_text()
                    try:
                        await session.use(Decimal(len(text)))
                    except InsufficientQuota as exc:
                        await websocket.send_json({"type": "error", "message": str(exc)})
                        await websocket.close(code=1008)
                        return
                    await websocket.send_json({"echo": text, "used": str(session.used)})
            except WebSocketDisconnect:
                return

    app.add_api_websocket_route("/test/ws", echo)
    return app


class Lab:
    def __init__(self, url: str, database_url: str, keys: dict[str, str]) -> None:
        self.url, self.database_url, self.keys = url, database_url, keys

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.database_url)
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()

    async def ledger(self) -> list[tuple[str, Decimal]]:
        rows = await self.fetch(
            "SELECT unit, quantity FROM legacy.ledger WHERE route = 'text-to-speech-ws' ORDER BY id"
        )
        return [(r["unit"], r["quantity"]) for r in rows]

    async def held(self, tenant: str) -> Decimal:
        rows = await self.fetch(
            "SELECT w.reserved FROM legacy.wallets w JOIN legacy.tenants t ON t.id = w.tenant_id"
            " WHERE t.name = $1",
            tenant,
        )
        return Decimal(rows[0]["reserved"])


@pytest.fixture(params=["direct", "proxied"])
async def lab(request, database_url, redis_url) -> AsyncIterator[Lab]:
    """The test route on a real uvicorn, directly or through the strangler proxy."""
    conn = await asyncpg.connect(database_url)
    try:
        # 0.003 credits a character: "rich" pays for anything here, "poor" for 20 characters.
        keys = {
            "rich": (await create_tenant(conn, "rich", Decimal(100)))[1],
            "poor": (await create_tenant(conn, "poor", Decimal("0.06")))[1],
        }
    finally:
        await conn.close()
    app = with_metered_echo(create_app(database_url=database_url, redis_url=redis_url))
    async with serving(app) as port:
        proxy = None
        if request.param == "proxied":
            yaml = (
                f"upstreams:\n  legacy: {{url: http://127.0.0.1:{port}}}\n"
                "  candidate: {url: http://127.0.0.1:1}\nroutes:\n"
                "  - {name: ws, match: {path: /test/ws, websocket: true}, mode: legacy}\n"
            )
            proxy = await ProxyServer.start(build_core(parse_config(yaml, "test.yaml")))
            port = proxy.port
        try:
            yield Lab(f"ws://127.0.0.1:{port}/test/ws", database_url, keys)
        finally:
            if proxy is not None:
                await proxy.aclose(grace=1)


async def test_a_bad_key_is_refused_at_the_handshake_with_401_and_the_envelope(lab) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(lab.url, additional_headers={"api-subscription-key": "sk_nope"}):
            pass
    assert refused.value.response.status_code == 401
    error = json.loads(refused.value.response.body)["error"]
    assert error["code"] == "invalid_api_key_error"
    assert error["message"].startswith("Websocket initialized with invalid credentials")
    assert error["request_id"]


async def test_a_bad_query_is_refused_with_422_naming_the_parameter(lab) -> None:
    headers = {"api-subscription-key": lab.keys["rich"]}
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{lab.url}?language-code=english", additional_headers=headers):
            pass
    assert refused.value.response.status_code == 422
    assert "language-code" in json.loads(refused.value.response.body)["error"]["message"]


async def test_the_key_may_come_as_a_subprotocol_which_is_echoed(lab) -> None:
    offered = f"api-subscription-key.{lab.keys['rich']}"
    async with connect(lab.url, subprotocols=[offered]) as ws:
        assert ws.subprotocol == offered
        await ws.send("hello")
        assert json.loads(await ws.recv())["echo"] == "hello"


async def test_a_session_extends_its_hold_and_settles_once_at_the_end(lab) -> None:
    headers = {"Authorization": f"Bearer {lab.keys['rich']}"}
    async with connect(lab.url, additional_headers=headers) as ws:
        for text in ("x" * 8, "y" * 8, "z" * 30):  # 46 characters: past the 10 held at open
            await ws.send(text)
            await ws.recv()
        assert await lab.ledger() == []  # nothing is charged while the session runs
        assert await lab.held("rich") == Decimal("0.1380")  # held 10, then +10, then +26
    await _until(lambda: lab.ledger(), [("characters", Decimal("46.0000"))])
    assert await lab.held("rich") == 0


async def test_a_session_the_client_drops_is_still_settled(lab) -> None:
    ws = await connect(lab.url, additional_headers={"api-subscription-key": lab.keys["rich"]})
    await ws.send("abcde")
    await ws.recv()
    ws.transport.abort()  # no close frame: the connection just dies
    await _until(lambda: lab.ledger(), [("characters", Decimal("5.0000"))])


async def test_an_unused_session_releases_its_hold_and_leaves_no_row(lab) -> None:
    async with connect(lab.url, additional_headers={"api-subscription-key": lab.keys["rich"]}):
        assert await lab.held("rich") == Decimal("0.0300")
    await _until(lambda: lab.held("rich"), Decimal(0))
    assert await lab.ledger() == []


async def test_the_session_stops_when_the_wallet_runs_out_and_bills_what_was_served(lab) -> None:
    headers = {"api-subscription-key": lab.keys["poor"]}
    async with connect(lab.url, additional_headers=headers) as ws:
        await ws.send("a" * 15)
        assert json.loads(await ws.recv())["used"] == "15"
        await ws.send("b" * 15)  # 30 > the 20 characters the wallet can cover
        assert json.loads(await ws.recv())["type"] == "error"
    await _until(lambda: lab.ledger(), [("characters", Decimal("15.0000"))])


async def test_an_empty_wallet_is_refused_at_the_handshake_with_402(lab, database_url) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        _, broke = await create_tenant(conn, "broke", Decimal(0))
    finally:
        await conn.close()
    with pytest.raises(InvalidStatus) as refused:
        async with connect(lab.url, additional_headers={"api-subscription-key": broke}):
            pass
    assert refused.value.response.status_code == 402


async def test_a_burst_is_refused_at_the_handshake_with_429_and_retry_after(
    lab, database_url
) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        _, key = await create_tenant(conn, "bursty", Decimal(10), requests_per_minute=1)
    finally:
        await conn.close()
    headers = {"api-subscription-key": key}
    async with connect(lab.url, additional_headers=headers):
        pass
    with pytest.raises(InvalidStatus) as refused:
        async with connect(lab.url, additional_headers=headers):
            pass
    response = refused.value.response
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert json.loads(response.body)["error"]["code"] == "rate_limit_exceeded_error"


async def _until(read: Any, expected: object, within: float = 5.0) -> None:
    """The session settles after the socket closes; wait for it, briefly."""
    deadline = asyncio.get_running_loop().time() + within
    while (value := await read()) != expected:
        assert asyncio.get_running_loop().time() < deadline, f"{value!r} != {expected!r}"
        await asyncio.sleep(0.05)

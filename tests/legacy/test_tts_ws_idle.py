"""/text-to-speech/ws closes a session nobody uses, like the real service (~60 s idle)."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import asyncpg
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedOK

from legacy.app import create_app
from legacy.commerce.tenants import create_tenant
from tests.legacy.servers import serving

pytestmark = pytest.mark.anyio

CONFIG = {"type": "config", "data": {"language_code": "hi-IN", "speaker": "anushka"}}


async def test_an_idle_session_is_closed_and_a_pinged_one_is_not(database_url, redis_url) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        _, key = await create_tenant(conn, "idle", Decimal(10))
    finally:
        await conn.close()
    # No synthesis happens here, so the model may be unreachable.
    app = create_app(
        database_url=database_url, redis_url=redis_url, inference_url="http://127.0.0.1:1"
    )
    app.state.ws_idle_s = 1.5  # generous: under a loaded CI a ping may come late
    async with serving(app) as port:
        url = f"ws://127.0.0.1:{port}/text-to-speech/ws"
        headers = {"api-subscription-key": key}
        async with connect(url, additional_headers=headers) as pinged:
            await pinged.send(json.dumps(CONFIG))

            async def keep_alive() -> None:
                while True:
                    await asyncio.sleep(0.2)
                    await pinged.send(json.dumps({"type": "ping"}))

            pinging = asyncio.create_task(keep_alive())
            try:
                async with connect(url, additional_headers=headers) as idle:
                    await idle.send(json.dumps(CONFIG))
                    with pytest.raises(ConnectionClosedOK) as closed:
                        await asyncio.wait_for(idle.recv(), timeout=5)
                    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1000, "idle")
                await asyncio.sleep(2.0)  # longer than the limit: alive thanks to the pings
            finally:
                pinging.cancel()
            assert not pinging.done() or pinging.cancelled()
            await pinged.send(json.dumps({"type": "ping"}))  # still open

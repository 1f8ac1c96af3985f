"""The internal ledger lookup: what the shadow engine's billing joiner reads, per request id."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import asyncpg
import httpx
import pytest

from legacy.app import create_app
from legacy.commerce.tenants import create_tenant

pytestmark = pytest.mark.anyio
TOKEN = "internal-secret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def api(database_url, redis_url) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    conn = await asyncpg.connect(database_url)
    try:
        _, key = await create_tenant(conn, "rich", Decimal(100))
    finally:
        await conn.close()
    app = create_app(database_url=database_url, redis_url=redis_url, internal_token=TOKEN)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://legacy") as client:
            yield client, key


async def bill(
    client: httpx.AsyncClient, key: str, request_id: str, route: str, usage: dict[str, str],
    *, shadow: bool = False,
) -> None:  # fmt: skip
    lines = [{"unit": unit, "quantity": quantity} for unit, quantity in usage.items()]
    headers = {**AUTH, "X-Request-ID": request_id, **({"X-Banyan-Shadow": "1"} if shadow else {})}
    held = await client.post(
        "/internal/v1/authorize",
        json={"api_key": key, "route": route, "estimate": lines},
        headers=headers,
    )
    assert held.status_code == 200, held.text
    settle = {"reservation_id": held.json()["reservation_id"], "usage": lines}
    done = await client.post("/internal/v1/settle", json=settle, headers=AUTH)
    assert done.status_code == 200, done.text
    assert done.json()["ledger"] == ("shadow" if shadow else "live")


async def lookup(client: httpx.AsyncClient, *ids: str, headers=AUTH) -> httpx.Response:
    return await client.get(
        "/internal/v1/ledger", params=[("request_id", rid) for rid in ids], headers=headers
    )


async def test_a_live_request_and_its_shadow_counterpart(api, database_url) -> None:
    client, key = api
    await bill(client, key, "r-1", "translate", {"characters": "118"})
    await bill(client, key, "r-1", "translate", {"characters": "120"}, shadow=True)
    response = await lookup(client, "r-1")
    assert response.status_code == 200, response.text
    conn = await asyncpg.connect(database_url)
    try:
        tenant = await conn.fetchval("SELECT id FROM legacy.tenants WHERE name = 'rich'")
    finally:
        await conn.close()
    assert response.json() == {
        "requests": [
            {
                "request_id": "r-1",
                "tenant_id": str(tenant),
                "route": "translate",
                "live": [{"unit": "characters", "quantity": "118.0000", "credits": "0.2360"}],
                "shadow": [{"unit": "characters", "quantity": "120.0000", "credits": "0.2400"}],
            }
        ]
    }


async def test_a_chat_lists_both_units_and_unknown_ids_come_back_empty(api) -> None:
    client, key = api
    await bill(client, key, "chat-1", "chat-completions", {"tokens_out": "250", "tokens_in": "90"})
    await bill(client, key, "only-shadow", "translate", {"characters": "10"}, shadow=True)
    response = await lookup(client, "nobody", "chat-1", "only-shadow", "chat-1")
    assert response.status_code == 200, response.text
    requests = response.json()["requests"]
    assert [r["request_id"] for r in requests] == ["nobody", "chat-1", "only-shadow"]
    nobody, chat, only_shadow = requests
    assert nobody == {"request_id": "nobody", "tenant_id": None, "route": None,
                      "live": [], "shadow": []}  # fmt: skip
    assert chat["route"] == "chat-completions"
    assert chat["live"] == [
        {"unit": "tokens_in", "quantity": "90.0000", "credits": "0.0360"},
        {"unit": "tokens_out", "quantity": "250.0000", "credits": "0.3000"},
    ]
    assert chat["shadow"] == []
    assert only_shadow["live"] == []
    assert only_shadow["tenant_id"] is not None
    assert only_shadow["shadow"] == [
        {"unit": "characters", "quantity": "10.0000", "credits": "0.0200"}
    ]


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}]
)
async def test_a_bad_token_is_401(api, headers) -> None:
    client, _ = api
    response = await lookup(client, "r-1", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key_error"


@pytest.mark.parametrize("count", [0, 101])
async def test_the_number_of_ids_is_bounded(api, count) -> None:
    client, _ = api
    response = await lookup(client, *(f"id-{i}" for i in range(count)))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "unprocessable_entity_error"
    assert "1 to 100 request_id" in error["message"]
    assert str(count) in error["message"]


async def test_a_hundred_ids_are_one_call(api) -> None:
    client, key = api
    await bill(client, key, "id-99", "translate", {"characters": "5"})
    response = await lookup(client, *(f"id-{i}" for i in range(100)))
    assert response.status_code == 200, response.text
    requests = response.json()["requests"]
    assert len(requests) == 100
    assert [r["live"] for r in requests if r["live"]] == [
        [{"unit": "characters", "quantity": "5.0000", "credits": "0.0100"}]
    ]

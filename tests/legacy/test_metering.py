"""Billing on public routes: keys from either header, refusals per the contract, ledger rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import asyncpg
import httpx
import pytest
from fastapi import FastAPI, Request
from pydantic import BaseModel

from legacy.app import create_app
from legacy.commerce.tenants import create_tenant
from legacy.metering import abandon_charge, api_key_from, close_charge, open_charge

pytestmark = pytest.mark.anyio


class Text(BaseModel):
    input: str
    fail: bool = False
    crash: bool = False  # a bug between authorize and settle: the handler raises


def with_billed_routes(app: FastAPI) -> FastAPI:
    async def translate(request: Request, body: Text) -> dict[str, object]:
        auth = await open_charge(
            request, route="translate", unit="characters", estimate=Decimal(len(body.input))
        )
        if body.fail:
            await abandon_charge(request, auth)
            return {"ok": False}
        if body.crash:
            raise KeyError("translated_text")
        settled = await close_charge(request, auth, Decimal(len(body.input)))
        return {"ok": True, "credits": str(settled.credits)}

    # A path of its own: /translate is a real route now (issue 5).
    for path in ("/test", "/v1/test"):
        app.add_api_route(path, translate, methods=["POST"])
    return app


@pytest.fixture
async def platform(database_url, redis_url) -> AsyncIterator[tuple[httpx.AsyncClient, str, str]]:
    conn = await asyncpg.connect(database_url)
    try:
        _, key = await create_tenant(conn, "acme", Decimal(10), requests_per_minute=4)
        _, broke = await create_tenant(conn, "broke", Decimal(0))
    finally:
        await conn.close()
    app = with_billed_routes(create_app(database_url=database_url, redis_url=redis_url))
    async with app.router.lifespan_context(app):
        # The 500 a crash gets is the answer under test, not an error of the test.
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://legacy") as client:
            yield client, key, broke


async def rows(database_url: str, table: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetch(f"SELECT request_id, unit, quantity, credits FROM legacy.{table}")
    finally:
        await conn.close()


def test_the_key_comes_from_either_header() -> None:
    assert api_key_from({"api-subscription-key": "k1"}) == "k1"
    assert api_key_from({"authorization": "Bearer k2"}) == "k2"
    assert api_key_from({"authorization": "bearer  k3 "}) == "k3"
    assert api_key_from({"authorization": "Basic abc"}) is None
    assert api_key_from({}) is None


async def test_a_billed_request_writes_one_ledger_row_with_unit_and_quantity(
    platform, database_url
) -> None:
    client, key, _ = platform
    for i, headers in enumerate(
        ({"api-subscription-key": key}, {"Authorization": f"Bearer {key}"})
    ):
        response = await client.post(
            "/test",
            json={"input": "नमस्ते दुनिया"},
            headers={**headers, "X-Request-ID": f"m-{i}"},
        )
        assert response.status_code == 200, response.text
        assert response.headers["x-ratelimit-limit"] == "4"
    ledger = await rows(database_url, "ledger")
    assert len(ledger) == 2
    assert {(r["unit"], r["quantity"], r["credits"]) for r in ledger} == {
        ("characters", Decimal("13.0000"), Decimal("0.0260"))
    }


async def test_a_shadow_request_bills_the_shadow_ledger_only(platform, database_url) -> None:
    client, key, _ = platform
    response = await client.post(
        "/test", json={"input": "hello"},
        headers={"api-subscription-key": key, "X-Request-ID": "sh-1", "X-Banyan-Shadow": "1"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "x-ratelimit-limit" not in response.headers
    assert await rows(database_url, "ledger") == []
    assert [
        (r["request_id"], r["quantity"]) for r in await rows(database_url, "shadow_ledger")
    ] == [("sh-1", Decimal("5.0000"))]


@pytest.mark.parametrize(("path", "status"), [("/test", 403), ("/v1/test", 401)])
async def test_a_bad_key_is_403_on_sarvam_routes_and_401_on_openai_routes(
    platform, path, status
) -> None:
    client, _, _ = platform
    for headers in ({}, {"api-subscription-key": "sk_wrong"}):
        response = await client.post(path, json={"input": "x"}, headers=headers)
        assert response.status_code == status
        assert response.json()["error"]["code"] == "invalid_api_key_error"


async def test_an_empty_wallet_is_402_and_a_burst_is_429_with_retry_after(platform) -> None:
    client, key, broke = platform
    poor = await client.post("/test", json={"input": "x"}, headers={"api-subscription-key": broke})
    assert poor.status_code == 402
    assert poor.json()["error"]["code"] == "insufficient_quota_error"
    statuses = []
    for _ in range(5):
        response = await client.post(
            "/test", json={"input": "x"}, headers={"api-subscription-key": key}
        )
        statuses.append(response.status_code)
    assert statuses == [200, 200, 200, 200, 429]
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert response.json()["error"]["code"] == "rate_limit_exceeded_error"


async def test_failed_work_gives_the_hold_back(platform, database_url) -> None:
    client, key, _ = platform
    response = await client.post(
        "/test", json={"input": "abc", "fail": True}, headers={"api-subscription-key": key}
    )
    assert response.json() == {"ok": False}
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT reserved FROM legacy.wallets") == Decimal("0.0000")
        assert await conn.fetchval("SELECT state FROM legacy.reservations") == "released"
    finally:
        await conn.close()


async def test_a_request_that_crashes_after_its_hold_gives_the_hold_back(
    platform, database_url
) -> None:
    """Found by the Go candidate's parity runs (rfcs/0006 §2): legacy's 500s left the hold to
    expire, keeping the credits from the customer's other requests until then."""
    client, key, _ = platform
    response = await client.post(
        "/test", json={"input": "abc", "crash": True},
        headers={"api-subscription-key": key, "X-Request-ID": "crash-1"},
    )  # fmt: skip
    assert response.status_code == 500
    assert response.json()["error"]["request_id"] == "crash-1"
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT sum(reserved) FROM legacy.wallets") == Decimal("0.0000")
        assert await conn.fetchval("SELECT state FROM legacy.reservations") == "released"
        assert await conn.fetchval("SELECT count(*) FROM legacy.ledger") == 0
    finally:
        await conn.close()
    # The wallet serves the next request in full.
    ok = await client.post("/test", json={"input": "abc"}, headers={"api-subscription-key": key})
    assert ok.json()["ok"] is True

"""The internal billing API, as the Go candidate will call it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import asyncpg
import httpx
import pytest

from legacy.app import create_app
from legacy.commerce.tenants import create_tenant, show_tenant

pytestmark = pytest.mark.anyio
TOKEN = "internal-secret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def api(database_url, redis_url) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    conn = await asyncpg.connect(database_url)
    try:
        _, rich = await create_tenant(conn, "rich", Decimal(100), requests_per_minute=5)
        _, poor = await create_tenant(conn, "poor", Decimal("0.1"))
    finally:
        await conn.close()
    app = create_app(database_url=database_url, redis_url=redis_url, internal_token=TOKEN)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://legacy") as client:
            yield client, {"rich": rich, "poor": poor}


def authorize_body(key: str, quantity: int = 118) -> dict:
    return {
        "api_key": key,
        "route": "translate",
        "estimate": {"unit": "characters", "quantity": quantity},
    }


async def summary(database_url: str, name: str):
    conn = await asyncpg.connect(database_url)
    try:
        return await show_tenant(conn, name)
    finally:
        await conn.close()


async def test_authorize_then_settle_bills_the_ledger(api, database_url) -> None:
    client, keys = api
    held = await client.post(
        "/internal/v1/authorize",
        json=authorize_body(keys["rich"]),
        headers={**AUTH, "X-Request-ID": "go-1"},
    )
    assert held.status_code == 200, held.text
    body = held.json()
    assert (body["held"], body["ledger"]) == ("0.2360", "live")
    assert int(held.headers["x-ratelimit-limit"]) == 5
    assert int(held.headers["x-ratelimit-remaining"]) == 4
    settle = {"reservation_id": body["reservation_id"], "unit": "characters", "quantity": "118"}
    for attempt in range(3):
        done = await client.post("/internal/v1/settle", json=settle, headers=AUTH)
        assert done.status_code == 200
        assert done.json() == {"credits": "0.2360", "ledger": "live", "replayed": attempt > 0}
    rich = await summary(database_url, "rich")
    assert (rich.balance, rich.live_requests) == (Decimal("99.7640"), 1)


async def test_a_shadow_call_bills_only_the_shadow_ledger(api, database_url) -> None:
    client, keys = api
    held = await client.post(
        "/internal/v1/authorize", json=authorize_body(keys["rich"]),
        headers={**AUTH, "X-Request-ID": "go-1", "X-Banyan-Shadow": "1"},
    )  # fmt: skip
    assert held.json()["ledger"] == "shadow"
    assert "x-ratelimit-limit" not in held.headers  # shadow calls never touch the limiter
    settle = {
        "reservation_id": held.json()["reservation_id"],
        "unit": "characters",
        "quantity": "118",
    }
    done = await client.post("/internal/v1/settle", json=settle, headers=AUTH)
    assert done.json()["ledger"] == "shadow"
    rich = await summary(database_url, "rich")
    assert (rich.balance, rich.live_requests, rich.shadow_requests) == (Decimal("100.0000"), 0, 1)


@pytest.mark.parametrize(
    ("headers", "body", "status", "code"),
    [
        ({"X-Request-ID": "r"}, None, 401, "invalid_api_key_error"),  # no internal token
        ({**AUTH}, "rich", 400, "invalid_request_error"),  # no X-Request-ID
        ({**AUTH, "X-Request-ID": "r"}, "sk_wrong", 401, "invalid_api_key_error"),
        ({**AUTH, "X-Request-ID": "r"}, "poor", 402, "insufficient_quota_error"),
    ],
)
async def test_refusals_use_the_envelope(api, headers, body, status, code) -> None:
    client, keys = api
    key = keys.get(body, body) if body else keys["rich"]
    response = await client.post(
        "/internal/v1/authorize", json=authorize_body(key), headers=headers
    )
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


async def test_the_rate_limit_answers_429_with_retry_after(api) -> None:
    client, keys = api
    statuses = []
    for i in range(6):
        response = await client.post(
            "/internal/v1/authorize", json=authorize_body(keys["rich"], 1),
            headers={**AUTH, "X-Request-ID": f"burst-{i}"},
        )  # fmt: skip
        statuses.append(response.status_code)
    assert statuses == [200] * 5 + [429]
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert response.headers["x-ratelimit-remaining"] == "0"
    assert response.json()["error"]["code"] == "rate_limit_exceeded_error"


async def test_bad_bodies_are_422_not_500(api) -> None:
    client, _ = api
    for body in ({}, {"reservation_id": "nope", "unit": "characters", "quantity": "1"},
                 {"reservation_id": "00000000-0000-0000-0000-000000000000", "unit": "characters",
                  "quantity": "-1"}):  # fmt: skip
        response = await client.post("/internal/v1/settle", json=body, headers=AUTH)
        assert response.status_code == 422, response.text
    unknown = await client.post(
        "/internal/v1/settle",
        json={
            "reservation_id": "00000000-0000-0000-0000-000000000000",
            "unit": "characters",
            "quantity": "1",
        },
        headers=AUTH,
    )
    assert unknown.status_code == 404


async def test_release_and_extend(api, database_url) -> None:
    client, keys = api
    held = await client.post(
        "/internal/v1/authorize",
        json=authorize_body(keys["rich"], 500),
        headers={**AUTH, "X-Request-ID": "s"},
    )
    reservation = held.json()["reservation_id"]
    more = await client.post(
        "/internal/v1/extend", json={"reservation_id": reservation, "quantity": "500"}, headers=AUTH
    )
    assert more.json() == {"held": "2.0000"}
    assert (await summary(database_url, "rich")).reserved == Decimal("2.0000")
    released = await client.post(
        "/internal/v1/release", json={"reservation_id": reservation}, headers=AUTH
    )
    assert released.status_code == 204
    assert (await summary(database_url, "rich")).reserved == Decimal("0.0000")
    again = await client.post(
        "/internal/v1/release", json={"reservation_id": reservation}, headers=AUTH
    )
    assert again.status_code == 409


async def test_without_a_token_the_internal_api_is_not_there(database_url, redis_url) -> None:
    app = create_app(database_url=database_url, redis_url=redis_url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://legacy") as client:
            assert (await client.post("/internal/v1/authorize", json={})).status_code == 404


async def test_a_chat_settles_line_items_exactly_once(api, database_url) -> None:
    client, keys = api
    estimate = [{"unit": "tokens_in", "quantity": "100"}, {"unit": "tokens_out", "quantity": "400"}]
    held = await client.post(
        "/internal/v1/authorize",
        json={"api_key": keys["rich"], "route": "chat-completions", "estimate": estimate},
        headers={**AUTH, "X-Request-ID": "chat-1"},
    )
    assert held.status_code == 200, held.text
    assert held.json()["held"] == "0.5200"
    usage = [{"unit": "tokens_out", "quantity": "250"}, {"unit": "tokens_in", "quantity": "90"}]
    settle = {"reservation_id": held.json()["reservation_id"], "usage": usage}
    for attempt in range(3):
        done = await client.post("/internal/v1/settle", json=settle, headers=AUTH)
        assert done.status_code == 200, done.text
        assert done.json() == {
            "credits": "0.3360",
            "ledger": "live",
            "replayed": attempt > 0,
            "lines": [
                {"unit": "tokens_in", "quantity": "90.0000", "credits": "0.0360",
                 "replayed": attempt > 0},
                {"unit": "tokens_out", "quantity": "250.0000", "credits": "0.3000",
                 "replayed": attempt > 0},
            ],
        }  # fmt: skip
    rich = await summary(database_url, "rich")
    assert (rich.balance, rich.reserved, rich.live_requests) == (Decimal("99.6640"), 0, 1)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"usage": []}, "at least one line"),
        ({"usage": [{"unit": "tokens_in", "quantity": "1"}] * 2}, "each unit may appear once"),
        ({"unit": "tokens_in", "quantity": "1", "usage": [{"unit": "tokens_in", "quantity": "1"}]},
         "not both"),
        ({"unit": "tokens_in"}, "send unit and quantity, or usage"),
    ],
)  # fmt: skip
async def test_settle_bodies_take_one_form(api, body, message) -> None:
    client, _ = api
    body = {"reservation_id": "00000000-0000-0000-0000-000000000000", **body}
    response = await client.post("/internal/v1/settle", json=body, headers=AUTH)
    assert response.status_code == 422, response.text
    assert message in response.json()["error"]["message"]

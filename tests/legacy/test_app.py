from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from banyan.contract import accept_request_id
from banyan.launcher import claim_port
from banyan.logs import configure_logging
from legacy.app import create_app

pytestmark = pytest.mark.anyio


class Echo(BaseModel):
    text: str
    count: int


def with_test_routes(app: FastAPI) -> FastAPI:
    async def boom() -> None:
        raise RuntimeError("secret internal detail")

    async def echo(body: Echo) -> Echo:
        return body

    app.add_api_route("/test/boom", boom, methods=["GET"])
    app.add_api_route("/test/echo", echo, methods=["POST"])
    return app


@pytest.fixture
async def client(database_url, redis_url) -> AsyncIterator[httpx.AsyncClient]:
    app = with_test_routes(create_app(database_url=database_url, redis_url=redis_url))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://legacy") as c:
            yield c


async def test_health_is_ok_when_both_stores_answer(client) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "postgres": "ok", "redis": "ok"}


async def test_health_names_the_store_that_is_down(database_url) -> None:
    dead_redis = f"redis://127.0.0.1:{claim_port('t', '127.0.0.1', 0, hint='')}/0"
    app = create_app(database_url=database_url, redis_url=dead_redis)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://legacy") as c:
            response = await c.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "degraded", "postgres": "ok", "redis": "unreachable"}


async def test_the_callers_request_id_is_kept_and_echoed(client) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "req-abc.123"})
    assert response.headers["x-request-id"] == "req-abc.123"


async def test_a_request_id_is_made_when_missing_or_unsafe(client) -> None:
    made = (await client.get("/healthz")).headers["x-request-id"]
    assert len(made) == 32
    unsafe = (await client.get("/healthz", headers={"X-Request-ID": "a\tb" + "x" * 200})).headers
    assert unsafe["x-request-id"] != "a\tb" + "x" * 200
    assert accept_request_id(b"x" * 129) != b"x" * 129
    assert accept_request_id(b"ok-id_1:2") == b"ok-id_1:2"


async def test_unknown_route_gets_the_error_envelope(client) -> None:
    response = await client.get("/no/such/route", headers={"X-Request-ID": "r-404"})
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "message": "no route GET /no/such/route",
            "code": "not_found_error",
            "request_id": "r-404",
        }
    }


async def test_wrong_method_gets_405_in_the_envelope(client) -> None:
    response = await client.post("/healthz")
    assert response.status_code == 405
    error = response.json()["error"]
    assert error["code"] == "invalid_request_error"
    assert "POST" in error["message"]


async def test_validation_errors_name_each_field(client) -> None:
    response = await client.post("/test/echo", json={"count": "many"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "unprocessable_entity_error"
    assert "body.text: Field required" in error["message"]
    assert "body.count" in error["message"]


async def test_malformed_json_is_a_client_error_not_a_500(client) -> None:
    response = await client.post(
        "/test/echo", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unprocessable_entity_error"


async def test_an_unexpected_error_is_a_500_envelope_with_no_internals(client) -> None:
    stream = io.StringIO()
    configure_logging(level="INFO", json=True, stream=stream)
    try:
        response = await client.get("/test/boom", headers={"X-Request-ID": "r-500"})
    finally:
        configure_logging(level="WARNING", json=False)
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "r-500"
    body = response.json()
    assert body["error"]["code"] == "internal_server_error"
    assert body["error"]["request_id"] == "r-500"
    assert "secret internal detail" not in response.text
    assert "Traceback" not in response.text
    logged = [json.loads(line) for line in stream.getvalue().splitlines()]
    error_lines = [line for line in logged if line["event"] == "unhandled error"]
    assert error_lines
    assert error_lines[0]["request_id"] == "r-500"
    assert "secret internal detail" in error_lines[0]["exception"]

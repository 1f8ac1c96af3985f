from __future__ import annotations

import httpx
import pytest

from proxy.admin import create_admin_app
from proxy.config import parse_config
from proxy.metrics import Counters, render_prometheus
from proxy.server import build_core

pytestmark = pytest.mark.anyio

CONFIG = """
upstreams:
  legacy: {url: http://127.0.0.1:1}
  candidate: {url: http://127.0.0.1:2}
routes:
  - name: translate
    match: {methods: [POST], path: /translate}
    mode: shadow
    shadow: {sample: 0.5}
"""


@pytest.fixture
async def admin():
    core = build_core(parse_config(CONFIG))
    app = create_admin_app(core, token="s3cret")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://admin") as client:
        yield client, core


AUTH = {"Authorization": "Bearer s3cret"}


async def test_health_needs_no_token(admin) -> None:
    client, _ = admin
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["routes"] == 1


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"}]
)
async def test_everything_else_needs_the_bearer_token(admin, headers) -> None:
    client, _ = admin
    for path in ("/metrics", "/routes", "/routes/translate"):
        response = await client.get(path, headers=headers)
        assert response.status_code == 401
        assert "admin_token" in response.json()["error"]["message"]


async def test_routes_are_listed_and_shown(admin) -> None:
    client, _ = admin
    listed = (await client.get("/routes", headers=AUTH)).json()["routes"]
    assert [r["name"] for r in listed] == ["translate"]
    shown = (await client.get("/routes/translate", headers=AUTH)).json()
    assert shown["mode"] == "shadow"
    assert shown["shadow"]["sample"] == 0.5
    assert shown["match"] == {"path": "/translate", "methods": ["POST"], "websocket": False}
    missing = await client.get("/routes/nope", headers=AUTH)
    assert missing.status_code == 404
    assert "GET /routes" in missing.json()["error"]["message"]


async def test_metrics_are_prometheus_text(admin) -> None:
    client, core = admin
    core.counters.inc("banyan_proxy_requests_total", "translate", "legacy", "200", by=3)
    response = await client.get("/metrics", headers=AUTH)
    assert response.status_code == 200
    assert (
        'banyan_proxy_requests_total{route="translate",served_by="legacy",status="200"} 3'
        in response.text
    )
    assert "# TYPE banyan_proxy_mirror_skipped_total counter" in response.text


def test_label_values_are_escaped() -> None:
    counters = Counters()
    counters.inc("banyan_proxy_client_errors_total", 'a"b\\c\nd')
    assert 'kind="a\\"b\\\\c\\nd"' in render_prometheus(counters)


def test_undeclared_labels_fail_loudly() -> None:
    with pytest.raises(ValueError, match="takes labels"):
        Counters().inc("banyan_proxy_requests_total", "only-one")
    with pytest.raises(KeyError):
        Counters().inc("banyan_no_such_counter")

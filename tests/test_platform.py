"""What legacy serves today, it serves identically through the proxy in legacy mode."""

from __future__ import annotations

import httpx


def test_health_answers_the_same(base_url: str) -> None:
    response = httpx.get(f"{base_url}/healthz", timeout=10)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "postgres": "ok", "redis": "ok"}


def test_unknown_route_gives_the_same_envelope(base_url: str) -> None:
    response = httpx.get(
        f"{base_url}/no/such/thing", headers={"X-Request-ID": "same-1"}, timeout=10
    )
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "message": "no route GET /no/such/thing",
            "code": "not_found_error",
            "request_id": "same-1",
        }
    }
    assert response.headers["x-request-id"] == "same-1"


def test_wrong_method_gives_the_same_envelope(base_url: str) -> None:
    response = httpx.post(f"{base_url}/healthz", timeout=10)
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "invalid_request_error"


def test_the_proxy_says_who_served(platform) -> None:
    direct = httpx.get(f"{platform.direct_url}/healthz", timeout=10)
    proxied = httpx.get(f"{platform.proxied_url}/healthz", timeout=10)
    assert "x-banyan-served-by" not in direct.headers
    assert proxied.headers["x-banyan-served-by"] == "legacy"
    metrics = httpx.get(
        f"{platform.admin_url}/metrics", headers={"Authorization": f"Bearer {platform.admin_token}"}
    )
    assert (
        'banyan_proxy_requests_total{route="health",served_by="legacy",status="200"}'
        in metrics.text
    )

"""The admin dashboard over HTTP: cookie auth from a one-time token, escaping, examples."""

from __future__ import annotations

import re

import httpx
import pytest

pytestmark = pytest.mark.anyio

EVIL = "<script>window.pwned=1</script><img src=x onerror=alert(1)>"


async def client_for(admin) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=admin.app)
    return httpx.AsyncClient(transport=transport, base_url="http://admin")


def plant_evil(admin, planted_entry) -> None:
    admin.reports.routes["translate"] = planted_entry(
        "translate",
        top_diffs=[{"path": f"choices[0].{EVIL}", "kind": "changed", "count": 3, "rate": 0.006,
                    "example_request_id": "r-1"}],
    )  # fmt: skip
    admin.reports.examples[("translate", f"choices[0].{EVIL}")] = {
        "request_id": "r-1\"><b>",
        "diff": {"path": f"choices[0].{EVIL}", "kind": "changed", "control": EVIL,
                 "candidate": "fine"},
        "legacy": {"status": 200, "headers": {}, "body": {"text": EVIL}},
        "candidate": {"status": 200, "headers": {}, "body": "not json </pre><script>x()</script>"},
    }  # fmt: skip


async def test_the_token_once_sets_a_strict_httponly_cookie_that_authenticates(
    gated_admin,
) -> None:
    admin = await gated_admin()
    async with await client_for(admin) as client:
        assert (await client.get("/dashboard")).status_code == 401
        wrong = await client.get("/dashboard", params={"token": "nope"})
        assert wrong.status_code == 401
        assert "banyan_admin" not in wrong.headers.get("set-cookie", "")
        login = await client.get("/dashboard", params={"token": admin.token, "route": "tts"})
        assert login.status_code == 303
        assert login.headers["location"] == "/dashboard?route=tts"
        cookie = login.headers["set-cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
        page = await client.get("/dashboard")  # the client keeps the cookie
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "script-src 'nonce-" in page.headers["content-security-policy"]
        assert (await client.get("/routes")).status_code == 200
        # A change riding the cookie alone must come from the dashboard's script.
        bare = await client.post("/routes/health/promote", json={"reason": "x"})
        assert bare.status_code == 403
        assert "x-banyan-dashboard" in bare.json()["error"]["message"]
        ok = await client.post(
            "/routes/health/promote", json={"reason": "x"}, headers={"x-banyan-dashboard": "1"}
        )
        assert ok.status_code == 200, ok.text
    async with await client_for(admin) as fresh:
        fresh.cookies.set("banyan_admin", "wrong")
        assert (await fresh.get("/routes")).status_code == 401


async def test_one_row_per_route_with_the_numbers(gated_admin, planted_entry) -> None:
    admin = await gated_admin()
    admin.reports.routes["translate"] = planted_entry("translate")
    async with await client_for(admin) as client:
        page = (await client.get("/dashboard", headers=admin.auth)).text
    rows = re.findall(r'<tr data-route="([^"]+)"', page)
    assert rows == ["translate", "tts", "health"]
    translate = page.split('<tr data-route="translate"')[1].split("</tr>")[0]
    for shown in ("shadow", ">500<", "99.60%", "40.0 / 200.0", "31.5 / 210.0",
                  "+1.0000 (+0.10%)", "usage.total_tokens</code> x2"):  # fmt: skip
        assert shown in translate, shown
    assert 'data-action="promote" data-route="translate"' in translate
    health = page.split('<tr data-route="health"')[1].split("</tr>")[0]
    assert "legacy" in health
    assert admin.reports.asked == [3600.0]


async def test_customer_data_is_escaped_everywhere(gated_admin, planted_entry) -> None:
    admin = await gated_admin()
    plant_evil(admin, planted_entry)
    async with await client_for(admin) as client:
        page = (await client.get("/dashboard?route=translate", headers=admin.auth)).text
        live = (await client.get("/dashboard/live?route=translate", headers=admin.auth)).text
    for html in (page, live):
        assert "<script>window.pwned" not in html
        assert "<img src=x" not in html
        assert "</pre><script>" not in html
        assert '"><b>' not in html
        assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in html
    # The page's own script is the only <script> element, and it carries the nonce.
    assert len(re.findall(r"<script\b", page)) == 1
    assert re.search(r"<script nonce=[\w-]+>", page)
    assert 'id="detail" data-route="translate"' in page
    assert "no example kept" not in page


async def test_without_a_report_source_the_dashboard_shows_modes(gated_admin) -> None:
    admin = await gated_admin(reports=False)
    async with await client_for(admin) as client:
        page = (await client.get("/dashboard", headers=admin.auth)).text
    assert "no shadow report configured" in page
    assert re.findall(r'<tr data-route="([^"]+)"', page) == ["translate", "tts", "health"]


async def test_a_failing_report_is_shown_not_raised(gated_admin) -> None:
    admin = await gated_admin()

    async def down(since_s: float) -> dict:
        raise ConnectionRefusedError("shadow store down")

    admin.reports.report = down
    async with await client_for(admin) as client:
        page = await client.get("/dashboard", headers=admin.auth)
    assert page.status_code == 200
    assert "shadow report unavailable" in page.text
    assert "shadow store down" in page.text

"""The dashboard in a real browser: Debian's chromium driven by Playwright (never a downloaded
browser; ``make test`` installs chromium with apt-get when it is missing)."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from playwright.async_api import async_playwright, expect

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    *("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"),
    *("--disable-background-networking", "--disable-component-update", "--disable-sync"),
]
EVIL = "<script>window.pwned=1</script><img src=x onerror=window.pwned=2>"

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    # Plain asyncio: Playwright's driver pipe and uvicorn share the test's loop.
    return "asyncio"


@pytest.fixture
def chromium() -> str:
    # Fail, not skip: `make test` installs it, so a missing browser is a broken setup.
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"{CHROMIUM} is missing: `make test` installs it (apt-get install -y chromium);"
            " run that, or install Debian's chromium yourself"
        )
    return str(CHROMIUM)


@pytest.fixture
async def browser(chromium: str):
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium, args=ARGS)
        try:
            yield launched
        finally:
            await launched.close()


async def test_operator_sees_routes_diffs_refusal_and_forces_a_promotion(
    gated_admin, serve_admin, planted_entry, browser
) -> None:
    admin = await gated_admin()
    admin.reports.routes["translate"] = planted_entry(
        "translate", matched=478, ignored=3, mismatched=19, parity=0.962,
        top_diffs=[{"path": "choices[0].text", "kind": "changed", "count": 19, "rate": 0.038,
                    "example_request_id": "req-42"}],
    )  # fmt: skip
    admin.reports.examples[("translate", "choices[0].text")] = {
        "request_id": "req-42",
        "diff": {"path": "choices[0].text", "kind": "changed", "control": EVIL,
                 "candidate": "Bonjour"},
        "legacy": {"status": 200, "headers": {}, "body": {"choices": [{"text": EVIL}]}},
        "candidate": {"status": 200, "headers": {}, "body": {"choices": [{"text": "Bonjour"}]}},
    }  # fmt: skip
    admin.reports.routes["tts"] = planted_entry("tts")
    url = await serve_admin(admin.app)
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # The token once in the URL; the cookie from then on (the URL no longer carries it).
    await page.goto(f"{url}/dashboard?token={admin.token}")
    assert page.url == f"{url}/dashboard"
    rows = page.locator("#routes tbody tr")
    await expect(rows).to_have_count(3)
    translate = page.locator('tr[data-route="translate"]')
    await expect(translate).to_contain_text("96.20%")
    await expect(translate).to_contain_text("shadow")

    # Click the route: its top diffs with the side-by-side example.
    await translate.get_by_role("link", name="translate").click()
    detail = page.locator("#detail")
    await expect(detail).to_contain_text("choices[0].text")
    await expect(detail).to_contain_text("req-42")
    await expect(detail.locator(".side.legacy pre")).to_contain_text(EVIL)  # shown as text
    await expect(detail.locator(".side.candidate pre")).to_contain_text("Bonjour")
    assert await page.evaluate("window.pwned") is None  # and inert
    assert await page.locator("#detail script, #detail img").count() == 0

    # Promote with failing gates: the refusal with the numbers.
    await page.fill("#reason", "looks good")
    await translate.get_by_role("button", name="promote").click()
    message = page.locator("#message")
    await expect(message).to_contain_text("promote translate refused (409)")
    await expect(message.locator("li.gate")).to_have_text(
        ["parity: parity 0.962 < 0.990 over 1h (481 of 500 compared matched)"]
    )
    assert admin.control.core.table.get("translate").mode == "shadow"

    # Force, with a reason: the mode changes.
    await page.fill("#reason", "diff is a known tokenizer change, signed off by billing")
    await page.locator("#force").click()
    await expect(message).to_contain_text("translate: shadow → canary 1%")
    await expect(translate).to_contain_text("canary 1%")  # the live part refreshed

    auth = {"Authorization": f"Bearer {admin.token}"}
    async with httpx.AsyncClient(base_url=url, headers=auth) as api:
        route = (await api.get("/routes/translate")).json()
        history = (await api.get("/routes/translate/history")).json()["changes"]
    assert (route["mode"], route["canary"]["percent"]) == ("canary", 1.0)
    assert len(history) == 1
    change = history[0]
    assert change["forced"] is True
    assert change["actor"] == "dashboard"
    assert change["reason"] == "diff is a known tokenizer change, signed off by billing"
    assert change["evidence"]["failures"][0]["gate"] == "parity"
    assert change["evidence"]["report"]["parity"] == 0.962
    assert errors == []

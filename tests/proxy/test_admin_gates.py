"""Gated promotion through the admin API against real Redis and PostgreSQL, planted reports."""

from __future__ import annotations

import asyncio
import os
import sys

import asyncpg
import httpx
import pytest

pytestmark = pytest.mark.anyio

REASON = {"reason": "parity looks fine to me", "actor": "alice"}


async def client_for(admin) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=admin.app)
    return httpx.AsyncClient(transport=transport, base_url="http://admin")


def mode(admin, name: str) -> str:
    route = admin.control.core.table.get(name)
    return f"canary {route.canary_percent:g}%" if route.mode == "canary" else route.mode


async def test_failing_gates_refuse_with_each_gate_and_change_nothing(
    planted_entry, gated_admin
) -> None:
    admin = await gated_admin()
    latency = {"legacy": {"p50": 40.0, "p99": 200.0}, "candidate": {"p50": 50.0, "p99": 312.0}}
    admin.reports.routes["translate"] = planted_entry(
        "translate", matched=478, ignored=3, mismatched=19, parity=0.962, latency_ms=latency
    )
    async with await client_for(admin) as client:
        refused = await client.post("/routes/translate/promote", json=REASON, headers=admin.auth)
        assert refused.status_code == 409
        body = refused.json()
        assert [g["gate"] for g in body["gates"]] == ["parity", "p99"]
        assert body["gates"][0]["message"] == (
            "parity 0.962 < 0.990 over 1h (481 of 500 compared matched)"
        )
        message = body["error"]["message"]
        assert "shadow → canary 1%" in message
        assert "parity 0.962 < 0.990" in message
        assert "candidate p99 312.0 ms > 1.2 x legacy p99 200.0 ms" in message
        assert "Force" in message
        history = await client.get("/routes/translate/history", headers=admin.auth)
    assert mode(admin, "translate") == "shadow"
    assert history.json()["changes"] == []


async def test_force_with_a_reason_promotes_and_audits_what_it_overrode(
    planted_entry, gated_admin, database_url
) -> None:
    admin = await gated_admin()
    admin.reports.routes["translate"] = planted_entry("translate", parity=0.962, matched=478)
    async with await client_for(admin) as client:
        blank = await client.post(
            "/routes/translate/promote", json={"reason": " ", "force": True}, headers=admin.auth
        )
        assert blank.status_code == 409
        assert "a reason is required" in blank.json()["error"]["message"]
        forced = await client.post(
            "/routes/translate/promote",
            json={"reason": "parity diff is a known float rounding", "force": True},
            headers=admin.auth,
        )
        assert forced.status_code == 200, forced.text
        change = forced.json()["change"]
        history = (await client.get("/routes/translate/history", headers=admin.auth)).json()
    assert mode(admin, "translate") == "canary 1%"
    assert change["forced"] is True
    assert history["changes"][0]["forced"] is True
    evidence = history["changes"][0]["evidence"]
    assert evidence["gates"] == "failed"
    assert evidence["forced"] is True
    assert evidence["move"] == "shadow → canary 1%"
    assert evidence["failures"] == [
        {"gate": "parity", "message": "parity 0.962 < 0.990 over 1h (479 of 500 compared matched)"}
    ]
    assert evidence["report"]["parity"] == 0.962
    assert evidence["report"]["route"] == "translate"
    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow(
            "SELECT forced, evidence->>'gates' AS gates FROM proxy.route_changes"
        )
    finally:
        await conn.close()
    assert (row["forced"], row["gates"]) == (True, "failed")


async def test_passing_gates_promote_and_keep_the_evidence(planted_entry, gated_admin) -> None:
    admin = await gated_admin()
    admin.reports.routes["translate"] = planted_entry("translate")
    async with await client_for(admin) as client:
        done = await client.post("/routes/translate/promote", json=REASON, headers=admin.auth)
    assert done.status_code == 200, done.text
    change = done.json()["change"]
    assert change["forced"] is False
    assert change["evidence"]["gates"] == "passed"
    assert change["evidence"]["failures"] == []
    assert change["evidence"]["report"]["compared"] == 500
    assert mode(admin, "translate") == "canary 1%"


async def test_canary_steps_are_gated_and_rollback_never_is(planted_entry, gated_admin) -> None:
    admin = await gated_admin()
    admin.reports.routes["translate"] = planted_entry("translate")
    async with await client_for(admin) as client:
        first = await client.post("/routes/translate/promote", json=REASON, headers=admin.auth)
        assert first.status_code == 200, first.text
        admin.reports.routes["translate"] = planted_entry(
            "translate", compared=40, matched=38, ignored=0, mismatched=2, parity=0.95
        )
        step = await client.post("/routes/translate/promote", json=REASON, headers=admin.auth)
        assert step.status_code == 409
        assert [g["gate"] for g in step.json()["gates"]] == ["compared", "parity"]
        assert "canary 1% → canary 10%" in step.json()["error"]["message"]
        back = await client.post("/routes/translate/rollback", json=REASON, headers=admin.auth)
        assert back.status_code == 200, back.text
        assert back.json()["change"]["evidence"] is None
    assert mode(admin, "translate") == "shadow"


async def test_legacy_to_shadow_needs_no_evidence(planted_entry, gated_admin) -> None:
    admin = await gated_admin()  # no report entry for health at all
    async with await client_for(admin) as client:
        done = await client.post("/routes/health/promote", json=REASON, headers=admin.auth)
    assert done.status_code == 200, done.text
    assert mode(admin, "health") == "shadow"


async def test_set_up_out_of_shadow_is_gated_like_promote(planted_entry, gated_admin) -> None:
    admin = await gated_admin()
    admin.reports.routes["tts"] = planted_entry(
        "tts", error_rate={"legacy": 0.0, "candidate": 0.05}, candidate_errors=25
    )
    body = {"mode": "candidate", **REASON}
    async with await client_for(admin) as client:
        refused = await client.put("/routes/tts", json=body, headers=admin.auth)
        assert refused.status_code == 409
        assert refused.json()["gates"][0]["gate"] == "error_rate"
        assert "candidate error rate 0.050 > legacy 0.000 + 0.010" in refused.text
        forced = await client.put("/routes/tts", json={**body, "force": True}, headers=admin.auth)
        assert forced.status_code == 200, forced.text
        # Sample changes within a mode are not promotions.
        sample = await client.put(
            "/routes/tts", json={"mode": "candidate", "sample": 0.1, **REASON}, headers=admin.auth
        )
        assert sample.status_code == 200, sample.text
    assert mode(admin, "tts") == "candidate"


async def test_without_an_evidence_source_promotion_is_allowed_and_audited_so(
    planted_entry, gated_admin
) -> None:
    admin = await gated_admin(evidence=False)
    async with await client_for(admin) as client:
        done = await client.post("/routes/translate/promote", json=REASON, headers=admin.auth)
    assert done.status_code == 200, done.text
    assert done.json()["change"]["evidence"] == {
        "gates": "not configured",
        "move": "shadow → canary 1%",
    }


async def test_a_route_changed_while_judging_is_not_promoted_on_stale_evidence(
    planted_entry, gated_admin
) -> None:
    admin = await gated_admin()
    admin.reports.routes["translate"] = planted_entry("translate")

    async def someone_else_rolls_back() -> None:
        await admin.control.change("translate", "rollback", actor="bob", reason="errors")

    admin.reports.while_judging = someone_else_rolls_back
    async with await client_for(admin) as client:
        raced = await client.post("/routes/translate/promote", json=REASON, headers=admin.auth)
    assert raced.status_code == 409
    assert "is now legacy, not shadow" in raced.json()["error"]["message"]
    assert mode(admin, "translate") == "legacy"
    assert [c.actor for c in await admin.control.history("translate", 10)] == ["bob"]


async def test_unreachable_evidence_refuses_unless_forced(planted_entry, gated_admin) -> None:
    admin = await gated_admin()
    admin.reports.broken = ConnectionRefusedError("shadow database down")
    async with await client_for(admin) as client:
        refused = await client.post("/routes/translate/promote", json=REASON, headers=admin.auth)
        assert refused.status_code == 503
        assert "shadow database down" in refused.json()["error"]["message"]
        forced = await client.post(
            "/routes/translate/promote", json={**REASON, "force": True}, headers=admin.auth
        )
    assert forced.status_code == 200, forced.text
    assert forced.json()["change"]["evidence"]["gates"] == "unavailable"
    assert forced.json()["change"]["forced"] is True


async def test_cli_prints_the_failed_gates_and_exits_1_then_forces(
    planted_entry, gated_admin, serve_admin
) -> None:
    admin = await gated_admin()
    billing = {"requests": 500, "legacy_credits": 1000.0, "candidate_credits": 980.0,
               "delta_credits": -20.0, "delta_ratio": -0.02, "missing": 3}  # fmt: skip
    admin.reports.routes["translate"] = planted_entry("translate", billing=billing)
    url = await serve_admin(admin.app)

    async def cli(*args: str) -> tuple[int, str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BANYAN_ADMIN")}
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "banyan", "routes", *args, "--admin-url", url,
            "--token", admin.token, env={**env, "COLUMNS": "200"},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(child.communicate(), 60)
        return child.returncode or 0, out.decode(), err.decode()

    code, out, err = await cli("promote", "translate", "--reason", "ship it")
    assert code == 1, (out, err)
    assert "refused: translate failed 2 promotion gate(s):" in err
    assert "✗ billing: billing rows missing for 3 of 500 requests over 1h" in err
    assert "✗ billing: billing delta -0.0200 beyond ±0.0050 over 1h" in err
    assert "--force" in err
    assert "Traceback" not in err
    assert mode(admin, "translate") == "shadow"

    code, out, err = await cli("promote", "translate", "--reason", "billing fix is live", "--force")
    assert code == 0, err
    assert "shadow → canary 1%" in out
    assert "forced past 2 failed gate(s)" in out
    assert mode(admin, "translate") == "canary 1%"

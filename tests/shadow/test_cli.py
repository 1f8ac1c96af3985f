"""``banyan report`` and ``banyan shadow-ignore`` as a person runs them (real database)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import timedelta

import asyncpg
import pytest

from banyan.shadow_cli import parse_since
from shadow.model import Diff, Verdict
from shadow.rules import load_live_rules
from shadow.store import ResultStore

from .conftest import trial

ROUTE_KEYS = {
    "route", "mode", "compared", "matched", "ignored", "mismatched", "candidate_errors",
    "candidate_error_kinds", "skipped", "parity", "latency_ms", "ttft_ms", "error_rate",
    "billing", "top_diffs", "noise", "ignored_rules",
}  # fmt: skip


def banyan(*args: str, tmp_path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    # An admin API that is not there: modes come from the YAML baseline.
    env |= {"BANYAN_ADMIN_URL": "http://127.0.0.1:1", "BANYAN_ADMIN_TOKEN": "x"}
    return subprocess.run(
        [sys.executable, "-m", "banyan", *args, "--state-dir", str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip


def test_parse_since() -> None:
    assert parse_since("30s") == timedelta(seconds=30)
    assert parse_since("15m") == timedelta(minutes=15)
    assert parse_since("1h") == timedelta(hours=1)
    assert parse_since("2d") == timedelta(days=2)
    for bad in ("", "1", "h", "0h", "1w", "-1h", "1.5h"):
        with pytest.raises(ValueError, match="--since"):
            parse_since(bad)


def test_report_json_shape_and_table(database_url, tmp_path) -> None:
    async def plant() -> None:
        pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
        async with ResultStore(pool, "w") as store:
            store.add(trial("1"), Verdict("matched"))
            store.add(trial("2"), Verdict("mismatched", mismatched=(Diff("text", "changed"),)))
        await pool.close()

    asyncio.run(plant())
    config = tmp_path / "banyan.yaml"
    config.write_text(
        "upstreams:\n  legacy: {url: http://127.0.0.1:1}\n  candidate: {url: http://127.0.0.1:2}\n"
        "routes:\n  - {name: translate, match: {path: /translate}, mode: shadow}\n"
        "  - {name: tts, match: {path: /tts}, mode: legacy}\n"
    )
    done = banyan("report", "--json", "--since", "15m", "--database-url", database_url,
                  "--config", str(config), tmp_path=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert set(data) == {"since", "until", "routes"}
    routes = {r["route"]: r for r in data["routes"]}
    assert set(routes) == {"translate", "tts"}
    for route in routes.values():
        assert set(route) == ROUTE_KEYS
    assert (routes["translate"]["mode"], routes["translate"]["compared"]) == ("shadow", 2)
    assert routes["translate"]["parity"] == 0.5
    assert routes["tts"]["mode"] == "legacy"

    table = banyan("report", "--route", "translate", "--database-url", database_url,
                   "--config", str(config), tmp_path=tmp_path)  # fmt: skip
    assert table.returncode == 0, table.stderr
    assert "50.00%" in table.stdout
    assert "tts" not in table.stdout


def test_report_with_a_bad_since_exits_2(tmp_path) -> None:
    done = banyan("report", "--since", "soon", tmp_path=tmp_path)
    assert done.returncode == 2
    assert "--since 'soon'" in done.stderr
    assert "Traceback" not in done.stderr


def test_shadow_ignore_adds_a_rule_and_refuses_a_duplicate(database_url, tmp_path) -> None:
    args = (
        "shadow-ignore", "--route", "translate", "--path", "data[3].created", "--name", "created",
        "--reason", "legacy varies", "--database-url", database_url,
    )  # fmt: skip
    done = banyan(*args, tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "data[*].created" in done.stdout
    again = banyan(*args, tmp_path=tmp_path)
    assert again.returncode == 1
    assert "already has an ignore rule named 'created'" in again.stderr
    bad = banyan("shadow-ignore", "--route", "translate", "--path", "x", "--name", "Bad Name",
                 "--database-url", database_url, tmp_path=tmp_path)  # fmt: skip
    assert bad.returncode == 1
    assert "name 'Bad Name'" in bad.stderr

    async def load() -> dict:
        pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
        try:
            return await load_live_rules(pool)
        finally:
            await pool.close()

    rules = asyncio.run(load())
    assert list(rules) == ["translate"]
    (rule,) = rules["translate"]
    assert (rule.name, rule.path) == ("created", "data[*].created")
    assert rule.covers("data[0].created.seconds")

from __future__ import annotations

import json
import os
import subprocess
import sys


def tenants(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "-m", "banyan", "tenants", *args, "--database-url", database_url],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip


def test_create_topup_show(database_url) -> None:
    made = tenants(
        database_url, "create", "--name", "acme", "--credits", "25.5", "--rpm", "120", "--json"
    )
    assert made.returncode == 0, made.stderr
    created = json.loads(made.stdout)
    assert created["api_key"].startswith("sk_")
    assert (
        tenants(database_url, "topup", "acme", "--credits", "4.5").stdout.strip()
        == "acme: balance 30.0000 credits"
    )
    shown = json.loads(tenants(database_url, "show", "acme", "--json").stdout)
    assert shown["wallet"] == {"balance": "30.0000", "reserved": "0.0000", "available": "30.0000"}
    assert shown["plan"] == {"requests_per_minute": 120, "units_per_minute": 0}
    assert shown["keys"] == 1
    text = tenants(database_url, "show", "acme")
    assert "balance 30.0000" in text.stdout


def test_mistakes_are_one_clear_line(database_url) -> None:
    tenants(database_url, "create", "--name", "dup", "--credits", "1")
    for args, message in [
        (("create", "--name", "dup", "--credits", "1"), "exists already"),
        (("create", "--name", "Bad Name", "--credits", "1"), "database"),
        (("create", "--name", "x", "--credits", "lots"), "credits must be a number"),
        (("topup", "nobody", "--credits", "1"), "no tenant named 'nobody'"),
        (("topup", "dup", "--credits", "0"), "positive"),
        (("show", "nobody"), "no tenant named 'nobody'"),
    ]:
        done = tenants(database_url, *args)
        assert done.returncode == 1, args
        assert message in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr

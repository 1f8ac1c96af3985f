from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import asyncpg

from legacy.commerce.billing import Billing
from legacy.commerce.errors import InvalidApiKey


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


def test_keys_rotate_by_adding_and_revoking_and_a_revoked_key_is_refused(database_url) -> None:
    first = json.loads(
        tenants(database_url, "create", "--name", "rot", "--credits", "1", "--json").stdout
    )
    second = json.loads(tenants(database_url, "add-key", "rot", "--json").stdout)["api_key"]
    listed = json.loads(tenants(database_url, "keys", "rot", "--json").stdout)["keys"]
    assert [k["revoked_at"] for k in listed] == [None, None]
    assert {k["prefix"] for k in listed} == {first["api_key"][:10], second[:10]}

    ambiguous = tenants(database_url, "revoke-key", "rot", "--prefix", "sk_")
    assert ambiguous.returncode == 1
    assert "matches 2 live keys of 'rot'; give more of the prefix" in ambiguous.stderr

    revoked = tenants(database_url, "revoke-key", "rot", "--prefix", first["api_key"], "--json")
    assert json.loads(revoked.stdout)["revoked_at"] is not None, revoked.stderr
    assert asyncio.run(_key_works(database_url, second))
    assert not asyncio.run(_key_works(database_url, first["api_key"]))
    again = tenants(database_url, "revoke-key", "rot", "--prefix", first["api_key"][:10])
    assert again.returncode == 1
    assert "no live key starting with" in again.stderr


async def _key_works(database_url: str, key: str) -> bool:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    try:
        await Billing(pool).tenant_for_key(key)
    except InvalidApiKey:
        return False
    finally:
        await pool.close()
    return True


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

"""``banyan tenants``: make tenants, top up wallets, show balances and ledger totals.

Talks to PostgreSQL directly (``--database-url``, else ``DATABASE_URL``, else the running
lab's ``lab.json``). ``create`` prints the new API key once; only its hash is kept.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, TypeVar

import asyncpg
import typer
from rich.console import Console

from banyan.console import fail, print_json
from banyan.labfile import read_lab_file

__all__ = ["tenants_app"]

tenants_app = typer.Typer(help="Tenants, API keys and prepaid wallets.", no_args_is_help=True)

DatabaseUrl = Annotated[
    str | None, typer.Option(help="PostgreSQL URL [env DATABASE_URL; else lab.json].")
]
StateDir = Annotated[Path, typer.Option(help="Where lab.json is.")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
T = TypeVar("T")


def _credits(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise fail(f"credits must be a number like 100 or 12.5, not {text!r}") from None
    if not value.is_finite() or value < 0:
        raise fail(f"credits must be a non-negative number, not {text!r}")
    return value


def _run(
    database_url: str | None, state_dir: Path, work: Callable[[asyncpg.Connection], Awaitable[T]]
) -> T:
    url = (
        database_url
        or os.environ.get("DATABASE_URL")
        or (read_lab_file(state_dir) or {}).get("database_url")
    )
    if not url:
        raise fail("no database: start the lab (make run) or pass --database-url")

    async def go() -> T:
        conn = await asyncpg.connect(url)
        try:
            return await work(conn)
        finally:
            await conn.close()

    from legacy.commerce.tenants import TenantExists, UnknownKey, UnknownTenant

    try:
        return asyncio.run(go())
    except (TenantExists, UnknownTenant, UnknownKey, ValueError) as exc:
        raise fail(str(exc)) from None
    except (OSError, asyncpg.PostgresError) as exc:
        raise fail(f"database: {exc}") from None


@tenants_app.command()
def create(
    name: Annotated[str, typer.Option(help="Lower-case name: letters, digits, - and _.")],
    credits: Annotated[str, typer.Option(help="Opening wallet balance, in credits.")],
    rpm: Annotated[int, typer.Option(min=0, help="Requests/minute per key and route class.")] = 600,
    units_per_minute: Annotated[int, typer.Option(min=0, help="Units/minute; 0 = no limit.")] = 0,
    database_url: DatabaseUrl = None, state_dir: StateDir = Path(".banyan"), as_json: Json = False,
) -> None:  # fmt: skip
    """Make a tenant with a funded wallet and one API key (printed once: keep it)."""
    from legacy.commerce.tenants import create_tenant

    amount = _credits(credits)
    tenant_id, key = _run(
        database_url, state_dir,
        lambda conn: create_tenant(conn, name, amount, requests_per_minute=rpm,
                                   units_per_minute=units_per_minute),
    )  # fmt: skip
    if as_json:
        print_json({"id": str(tenant_id), "name": name, "api_key": key, "credits": str(amount)})
        return
    Console().print(f"tenant [bold]{name}[/] created with {amount} credits.")
    Console().print(f"API key (shown once, keep it): [bold]{key}[/]", soft_wrap=True)


@tenants_app.command()
def topup(
    name: str,
    credits: Annotated[str, typer.Option(help="Credits to add.")],
    database_url: DatabaseUrl = None, state_dir: StateDir = Path(".banyan"), as_json: Json = False,
) -> None:  # fmt: skip
    """Add credits to a tenant's wallet."""
    from legacy.commerce.tenants import top_up

    amount = _credits(credits)
    balance = _run(database_url, state_dir, lambda conn: top_up(conn, name, amount))
    if as_json:
        print_json({"name": name, "balance": str(balance)})
    else:
        Console().print(f"{name}: balance {balance} credits")


@tenants_app.command()
def show(
    name: str, database_url: DatabaseUrl = None, state_dir: StateDir = Path(".banyan"),
    as_json: Json = False,
) -> None:  # fmt: skip
    """Balance, reserved credits and ledger totals (live and shadow)."""
    from legacy.commerce.tenants import show_tenant

    summary = _run(database_url, state_dir, lambda conn: show_tenant(conn, name))
    if as_json:
        print_json(summary.view())
        return
    console = Console()
    console.print(f"[bold]{summary.name}[/]  ({summary.id})")
    console.print(f"  wallet   balance {summary.balance}  reserved {summary.reserved}  "
                  f"available {summary.available}")  # fmt: skip
    console.print(f"  plan     {summary.requests_per_minute} requests/min, "
                  f"{summary.units_per_minute or 'unlimited'} units/min")  # fmt: skip
    live, shadow = summary.live_credits, summary.shadow_credits
    console.print(f"  ledger   live {live} credits / {summary.live_requests} requests; "
                  f"shadow {shadow} / {summary.shadow_requests}")  # fmt: skip


@tenants_app.command()
def keys(
    name: str, database_url: DatabaseUrl = None, state_dir: StateDir = Path(".banyan"),
    as_json: Json = False,
) -> None:  # fmt: skip
    """The tenant's API keys by prefix, with when each was made and revoked."""
    from legacy.commerce.tenants import list_keys

    found = _run(database_url, state_dir, lambda conn: list_keys(conn, name))
    if as_json:
        print_json({"name": name, "keys": [k.view() for k in found]})
        return
    console = Console()
    for key in found:
        state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "live"
        console.print(f"  {key.prefix}…  made {key.created_at:%Y-%m-%d %H:%M}  {state}")


@tenants_app.command("add-key")
def add_key(
    name: str, database_url: DatabaseUrl = None, state_dir: StateDir = Path(".banyan"),
    as_json: Json = False,
) -> None:  # fmt: skip
    """Make another API key for the tenant (printed once: keep it). Rotate by adding, then
    revoking the old key."""
    from legacy.commerce import tenants

    key = _run(database_url, state_dir, lambda conn: tenants.add_key(conn, name))
    if as_json:
        print_json({"name": name, "api_key": key})
        return
    Console().print(f"API key (shown once, keep it): [bold]{key}[/]", soft_wrap=True)


@tenants_app.command("revoke-key")
def revoke_key(
    name: str,
    prefix: Annotated[str, typer.Option(help="The key's prefix as `keys` lists it (or the key).")],
    database_url: DatabaseUrl = None, state_dir: StateDir = Path(".banyan"), as_json: Json = False,
) -> None:  # fmt: skip
    """Revoke one key: refused from the next request on."""
    from legacy.commerce.keys import key_prefix
    from legacy.commerce.tenants import revoke_key

    # A whole key works too: only its prefix is stored.
    revoked = _run(database_url, state_dir, lambda conn: revoke_key(conn, name, key_prefix(prefix)))
    if as_json:
        print_json({"name": name, **revoked.view()})
        return
    Console().print(f"{name}: key {revoked.prefix}… revoked")

"""``banyan report`` and ``banyan shadow-ignore``: the shadow engine's evidence, for people.

Both read PostgreSQL directly (``--database-url``, else ``DATABASE_URL``, else the running
lab's ``lab.json``). ``report`` labels each route with its mode as the proxy's admin API
reports it (``GET /routes``) when reachable, else as the YAML baseline says. The ignore command
is a top-level ``shadow-ignore`` rather than ``shadow ignore`` because ``banyan shadow`` is the
shadow process itself (rfcs/0005 §2).
"""

from __future__ import annotations

import asyncio
import getpass
import os
import re
import socket
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

import asyncpg
import httpx
import typer
from rich.console import Console

from banyan.console import fail, print_json
from banyan.labfile import read_lab_file
from shadow.report import build_report, render_table
from shadow.rules import DuplicateRule, add_ignore_rule

__all__ = ["parse_since", "report", "shadow_ignore"]

DatabaseUrl = Annotated[
    str | None, typer.Option(help="PostgreSQL URL [env DATABASE_URL; else lab.json].")
]
StateDir = Annotated[Path, typer.Option(help="Where lab.json is.")]
T = TypeVar("T")
_SINCE = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_since(text: str) -> timedelta:
    """``30s``, ``15m``, ``1h``, ``2d`` → a positive duration; ValueError otherwise."""
    match = _SINCE.match(text)
    if match is None or int(match[1]) == 0:
        raise ValueError(f"--since {text!r}: expected a positive duration like 30s, 15m, 1h or 2d")
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


def _database_url(database_url: str | None, state_dir: Path) -> str:
    url = (
        database_url
        or os.environ.get("DATABASE_URL")
        or (read_lab_file(state_dir) or {}).get("database_url")
    )
    if not url:
        raise fail("no database: start the lab (make run) or pass --database-url")
    return str(url)


def _with_pool(url: str, work: Callable[[asyncpg.Pool], Awaitable[T]]) -> T:
    async def go() -> T:
        pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
        try:
            return await work(pool)
        finally:
            await pool.close()

    try:
        return asyncio.run(go())
    except (OSError, asyncpg.PostgresError) as exc:
        raise fail(f"database: {exc}") from None


def _modes(
    admin_url: str | None, token: str | None, state_dir: Path, config: Path
) -> dict[str, str]:
    """Routes' modes from the admin API when reachable, else from the YAML baseline."""
    lab = read_lab_file(state_dir) or {}
    url = admin_url or os.environ.get("BANYAN_ADMIN_URL") or lab.get("admin_url")
    secret = token or os.environ.get("BANYAN_ADMIN_TOKEN") or lab.get("admin_token")
    if url and secret:
        try:
            response = httpx.get(
                str(url).rstrip("/") + "/routes", timeout=3,
                headers={"Authorization": f"Bearer {secret}"},
            )  # fmt: skip
            if response.status_code == 200:
                return {r["name"]: r["mode"] for r in response.json()["routes"]}
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            pass
    from proxy.config import ConfigError, load_config

    try:
        return {route.name: route.mode for route in load_config(config).routes}
    except ConfigError as exc:
        Console(stderr=True).print(f"route modes unknown (no admin API, {exc})", highlight=False)
        return {}


def report(
    route: Annotated[str | None, typer.Option(help="One route only.")] = None,
    since: Annotated[str, typer.Option(help="How far back: 30s, 15m, 1h, 2d.")] = "1h",
    as_json: Annotated[bool, typer.Option("--json", help="Print the report JSON.")] = False,
    database_url: DatabaseUrl = None,
    admin_url: Annotated[
        str | None, typer.Option(help="Admin API for modes [env BANYAN_ADMIN_URL; else lab.json].")
    ] = None,
    token: Annotated[
        str | None, typer.Option(help="Admin token [env BANYAN_ADMIN_TOKEN; else lab.json].")
    ] = None,
    config: Annotated[
        Path, typer.Option(help="Route baseline, for modes when the admin API is not reachable.")
    ] = Path("banyan.yaml"),
    state_dir: StateDir = Path(".banyan"),
) -> None:
    """Shadow evidence per route: parity, top diffs, noise, latency, error and billing deltas."""
    try:
        span = parse_since(since)
    except ValueError as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    url = _database_url(database_url, state_dir)
    modes = _modes(admin_url, token, state_dir, config)

    async def work(pool: asyncpg.Pool) -> dict[str, Any]:
        return await build_report(pool, route=route, since=span, modes=modes)

    data = _with_pool(url, work)
    if as_json:
        print_json(data)
    else:
        Console().print(render_table(data), end="", highlight=False, markup=False)


def shadow_ignore(
    route: Annotated[str, typer.Option(help="The route the rule applies to.")],
    path: Annotated[str, typer.Option(help="The field to ignore, e.g. data[*].created.")],
    name: Annotated[str, typer.Option(help="The rule's name, e.g. created-at.")],
    reason: Annotated[str | None, typer.Option(help="Why; kept with the rule.")] = None,
    database_url: DatabaseUrl = None,
    state_dir: StateDir = Path(".banyan"),
) -> None:
    """Turn a field into a named live ignore rule of a route (the shadow engine reloads them)."""
    url = _database_url(database_url, state_dir)
    actor = f"{getpass.getuser()}@{socket.gethostname()}"

    async def work(pool: asyncpg.Pool) -> str:
        async with pool.acquire() as conn:
            rule = await add_ignore_rule(
                conn, route=route, name=name, path=path, created_by=actor, reason=reason
            )
        return f"{rule.route}: diffs on {rule.path} are now ignored as {rule.name!r}"

    try:
        message = _with_pool(url, work)
    except (DuplicateRule, ValueError) as exc:
        raise fail(str(exc)) from None
    Console().print(message, highlight=False, markup=False)

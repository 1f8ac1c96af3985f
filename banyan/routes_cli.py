"""``banyan routes``: show and change routes live, through a proxy's admin API.

Where the admin API is: ``--admin-url`` / ``--token``, else ``BANYAN_ADMIN_URL`` /
``BANYAN_ADMIN_TOKEN``, else the running lab's ``lab.json``. Every command takes ``--json``
for scripts; every change needs ``--reason``, which goes into the audit log with who made it.
"""

from __future__ import annotations

import getpass
import os
import socket
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from banyan.console import fail, print_json
from banyan.labfile import read_lab_file

__all__ = ["routes_app"]

routes_app = typer.Typer(
    help="Show and change routes live (audited, visible to every proxy of the fleet in < 1 s).",
    no_args_is_help=True,
)

AdminUrl = Annotated[
    str | None, typer.Option(help="Admin API URL [env BANYAN_ADMIN_URL; else lab.json].")
]
Token = Annotated[
    str | None, typer.Option(help="Admin token [env BANYAN_ADMIN_TOKEN; else lab.json].")
]
StateDir = Annotated[Path, typer.Option(help="Where lab.json is.")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Reason = Annotated[str, typer.Option(help="Why; recorded in the audit log.")]
Force = Annotated[
    bool, typer.Option("--force", help="Go past failing promotion gates (audited as forced).")
]


def _target(admin_url: str | None, token: str | None, state_dir: Path) -> tuple[str, str]:
    lab = read_lab_file(state_dir) or {}
    url = admin_url or os.environ.get("BANYAN_ADMIN_URL") or lab.get("admin_url")
    secret = token or os.environ.get("BANYAN_ADMIN_TOKEN") or lab.get("admin_token")
    if not url or not secret:
        raise fail(
            "no admin API to talk to: start the lab (make run) or pass --admin-url and --token"
        )
    return str(url).rstrip("/"), str(secret)


def _call(
    target: tuple[str, str], method: str, path: str, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    url, token = target
    try:
        response = httpx.request(
            method, url + path, json=body, timeout=10,
            headers={"Authorization": f"Bearer {token}"},
        )  # fmt: skip
    except httpx.TransportError as exc:
        raise fail(f"cannot reach the admin API at {url}: {exc}") from None
    data: dict[str, Any] = response.json() if response.content else {}
    if response.status_code >= 400:
        if isinstance(data, dict) and data.get("gates"):
            raise _refused_by_gates(path, data["gates"])
        message = data.get("error", {}).get("message") if isinstance(data, dict) else None
        raise fail(f"{response.status_code}: {message or response.text}")
    return data


def _refused_by_gates(path: str, gates: list[dict[str, Any]]) -> typer.Exit:
    """A promotion the evidence does not support: one line per failed gate, then what to do."""
    route = path.split("/")[2] if path.count("/") >= 2 else path
    err = Console(stderr=True, soft_wrap=True, highlight=False)
    err.print(f"[bold red]refused:[/] {route} failed {len(gates)} promotion gate(s):")
    for gate in gates:
        err.print(f"  ✗ {gate.get('gate')}: {gate.get('message')}", markup=False)
    err.print("to promote anyway: add --force (with a --reason; the override is audited)")
    return typer.Exit(1)


def _actor() -> str:
    return f"{getpass.getuser()}@{socket.gethostname()}"


def _describe(route: dict[str, Any]) -> str:
    if route["mode"] == "canary":
        return f"canary {route['canary']['percent']:g}%"
    return str(route["mode"])


def _print_change(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(result)
        return
    change = result["change"]
    before, after = change["from"], change["to"]

    def text(state: dict[str, Any]) -> str:
        return (
            f"canary {state['canary_percent']:g}%" if state["mode"] == "canary" else state["mode"]
        )

    Console().print(
        f"{change['route']}: {text(before)} → [bold]{text(after)}[/] "
        f"(change #{change['id']} by {change['actor']}: {change['reason']})"
    )
    evidence = change.get("evidence") or {}
    if change.get("forced"):
        Console().print(
            f"[bold yellow]forced[/] past {len(evidence.get('failures') or [])} failed gate(s)"
        )


@routes_app.command("list")
def list_routes(
    admin_url: AdminUrl = None, token: Token = None, state_dir: StateDir = Path(".banyan"),
    as_json: Json = False,
) -> None:  # fmt: skip
    """Every route with its mode and where that mode comes from (baseline or live)."""
    data = _call(_target(admin_url, token, state_dir), "GET", "/routes")
    if as_json:
        print_json(data)
        return
    table = Table(title=f"fleet {data['fleet']} (version {data['version']})", title_justify="left")
    for column in ("route", "mode", "shadow sample", "source", "match"):
        table.add_column(column)
    for route in data["routes"]:
        match = route["match"]
        methods = ",".join(match["methods"] or ["*"]) if not match["websocket"] else "WS"
        table.add_row(
            route["name"], _describe(route), f"{route['shadow']['sample']:g}", route["source"],
            f"{methods} {match['path']}",
        )  # fmt: skip
    Console().print(table)
    if not data["live_control"]:
        Console(stderr=True).print("live control is off (no Redis/PostgreSQL): changes are refused")


@routes_app.command()
def show(
    name: str, admin_url: AdminUrl = None, token: Token = None,
    state_dir: StateDir = Path(".banyan"), as_json: Json = False,
) -> None:  # fmt: skip
    """One route in full."""
    data = _call(_target(admin_url, token, state_dir), "GET", f"/routes/{name}")
    if as_json:
        print_json(data)
        return
    Console().print(f"[bold]{data['name']}[/]: {_describe(data)} ({data['source']})")
    Console().print(data)


@routes_app.command("set")
def set_route(
    name: str,
    mode: Annotated[str, typer.Option(help="legacy | shadow | canary | candidate")],
    reason: Reason,
    percent: Annotated[float | None, typer.Option(help="Canary percent (canary mode).")] = None,
    sample: Annotated[float | None, typer.Option(help="Shadow sample 0-1.")] = None,
    force: Force = False,
    admin_url: AdminUrl = None, token: Token = None, state_dir: StateDir = Path(".banyan"),
    as_json: Json = False,
) -> None:  # fmt: skip
    """Put a route in a mode directly (a move up out of shadow or canary is gated)."""
    body = {"mode": mode, "percent": percent, "sample": sample, "reason": reason,
            "actor": _actor(), "force": force}  # fmt: skip
    result = _call(_target(admin_url, token, state_dir), "PUT", f"/routes/{name}", body)
    _print_change(result, as_json)


@routes_app.command()
def promote(
    name: str, reason: Reason, force: Force = False, admin_url: AdminUrl = None,
    token: Token = None, state_dir: StateDir = Path(".banyan"), as_json: Json = False,
) -> None:  # fmt: skip
    """One step up: legacy → shadow → canary 1% → 10% → 50% → candidate.

    Out of shadow or canary the proxy checks the promotion gates first (parity, p99, billing,
    errors over the window); a refusal lists each failed gate, and --force overrides it."""
    body = {"reason": reason, "actor": _actor(), "force": force}
    result = _call(_target(admin_url, token, state_dir), "POST", f"/routes/{name}/promote", body)
    _print_change(result, as_json)


@routes_app.command()
def rollback(
    name: str, reason: Reason,
    to: Annotated[str | None, typer.Option(help="Go straight back to this mode.")] = None,
    admin_url: AdminUrl = None, token: Token = None, state_dir: StateDir = Path(".banyan"),
    as_json: Json = False,
) -> None:  # fmt: skip
    """One step down the ladder, or straight to --to."""
    body = {"reason": reason, "actor": _actor(), "to": to}
    result = _call(_target(admin_url, token, state_dir), "POST", f"/routes/{name}/rollback", body)
    _print_change(result, as_json)


@routes_app.command()
def history(
    name: str, limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    admin_url: AdminUrl = None, token: Token = None, state_dir: StateDir = Path(".banyan"),
    as_json: Json = False,
) -> None:  # fmt: skip
    """The audit trail of a route, newest first."""
    data = _call(
        _target(admin_url, token, state_dir), "GET", f"/routes/{name}/history?limit={limit}"
    )
    if as_json:
        print_json(data)
        return
    table = Table(title=f"history of {name}", title_justify="left")
    for column in ("#", "when", "who", "action", "from → to", "reason"):
        table.add_column(column)
    for c in data["changes"]:

        def text(s: dict[str, Any]) -> str:
            return f"canary {s['canary_percent']:g}%" if s["mode"] == "canary" else s["mode"]

        table.add_row(
            str(c["id"]), c["changed_at"][:19], c["actor"], c["action"],
            f"{text(c['from'])} → {text(c['to'])}", c["reason"],
        )  # fmt: skip
    Console().print(table)

"""The shadow report (shared-interfaces.md "The report JSON"): evidence per route over a range.

Counts, parity, error rates, latency quantiles, top diffs and noise come from merging the
``shadow.windows`` rows of the range (never from ``shadow.comparisons``, whose rows may have
been dropped under load while the window counters never are). Windows are per minute, so the
range is widened to whole minutes: ``since`` 1h reads the 61 minutes that overlap it. Billing
comes from ``shadow.billing`` rows checked within the range; example request ids from
``shadow.examples`` (the newest kept example of a field, whenever it was kept).

Billing sums cover ``joined`` rows (both sides recorded the request); rows in another state
are counted in ``billing.states`` and the candidate's missing rows in ``billing.missing``.
The report is for people and gates, so credits are JSON numbers rounded to 4 decimals.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
from rich.console import Console
from rich.table import Table

from shadow.windows import Window, merge_windows

__all__ = ["QUANTILES", "TOP_DIFFS", "build_report", "render_table"]

QUANTILES = (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))
TOP_DIFFS = 20


def _credits(value: Decimal | None) -> float:
    return round(float(value or 0), 4)


def _quantiles(window: Window, name: str) -> dict[str, float] | None:
    values = window.quantiles(name, [q for _, q in QUANTILES])
    if values is None:
        return None
    return {label: round(value, 3) for (label, _), value in zip(QUANTILES, values, strict=True)}


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None


async def build_report(
    pool: asyncpg.Pool,
    *,
    route: str | None,
    since: timedelta,
    modes: Mapping[str, str],
    now: datetime | None = None,
) -> dict[str, Any]:
    """The report over ``[now - since, now]`` for one route or every route seen or in ``modes``."""
    until = now or datetime.now(UTC)
    start = until - since
    first_minute = start.replace(second=0, microsecond=0)
    where = " AND route = $3" if route is not None else ""
    args: list[object] = [first_minute, until] + ([route] if route is not None else [])
    async with pool.acquire() as conn:
        window_rows = await conn.fetch(
            f"SELECT * FROM shadow.windows WHERE minute >= $1 AND minute <= $2{where}", *args
        )
        args[0] = start
        billing_rows = await conn.fetch(
            "SELECT route, state, count(*) AS n, sum(legacy_credits) AS legacy,"
            " sum(candidate_credits) AS candidate FROM shadow.billing"
            f" WHERE checked_at >= $1 AND checked_at <= $2{where} GROUP BY route, state",
            *args,
        )
        tenant_rows = await conn.fetch(
            "SELECT route, tenant_id, sum(legacy_credits) AS legacy,"
            " sum(candidate_credits) AS candidate FROM shadow.billing"
            f" WHERE state = 'joined' AND checked_at >= $1 AND checked_at <= $2{where}"
            " GROUP BY route, tenant_id",
            *args,
        )
        routes = sorted(
            {r["route"] for r in window_rows} | {r["route"] for r in billing_rows} | set(modes)
            if route is None
            else {route}
        )
        example_rows = await conn.fetch(
            "SELECT DISTINCT ON (route, field) route, field, request_id FROM shadow.examples"
            " WHERE route = ANY($1::text[]) ORDER BY route, field, at DESC",
            routes,
        )
    windows: dict[str, list[Window]] = {}
    for row in window_rows:
        windows.setdefault(row["route"], []).append(Window.from_row(dict(row.items())))
    billing: dict[str, list[asyncpg.Record]] = {}
    for row in billing_rows:
        billing.setdefault(row["route"], []).append(row)
    tenants: dict[str, list[asyncpg.Record]] = {}
    for row in tenant_rows:
        tenants.setdefault(row["route"], []).append(row)
    examples = {(r["route"], r["field"]): r["request_id"] for r in example_rows}
    return {
        "since": start.isoformat(),
        "until": until.isoformat(),
        "routes": [
            _route_report(
                name,
                modes.get(name),
                merge_windows(windows.get(name, ())),
                billing.get(name, []),
                tenants.get(name, []),
                examples,
            )
            for name in routes
        ],
    }


def _route_report(
    name: str,
    mode: str | None,
    window: Window,
    billing_rows: list[asyncpg.Record],
    tenant_rows: list[asyncpg.Record],
    examples: Mapping[tuple[str, str], str],
) -> dict[str, Any]:
    compared = window.compared
    diffed = window.matched + window.ignored + window.mismatched
    ttft = {side: _quantiles(window, f"{side}_ttfb") for side in ("legacy", "candidate")}
    top = sorted(window.fields.items(), key=lambda item: (-item[1], item[0]))[:TOP_DIFFS]
    noise_samples = window.noise_comparisons
    return {
        "route": name,
        "mode": mode,
        "compared": compared,
        "matched": window.matched,
        "ignored": window.ignored,
        "mismatched": window.mismatched,
        "candidate_errors": window.candidate_errors,
        "candidate_error_kinds": dict(sorted(window.error_kinds.items())),
        "skipped": dict(sorted(window.skipped_reasons.items())),
        "parity": _share(window.matched + window.ignored, compared),
        "latency_ms": {side: _quantiles(window, side) for side in ("legacy", "candidate")},
        "ttft_ms": ttft if any(ttft.values()) else None,
        "error_rate": {
            "legacy": _share(window.legacy_5xx, compared),
            "candidate": _share(window.candidate_errors, compared),
        },
        "billing": _billing(billing_rows, tenant_rows),
        "top_diffs": [
            {
                "path": field,
                "kind": kind,
                "count": count,
                "rate": _share(count, compared),
                "example_request_id": examples.get((name, field)),
            }
            for (field, kind), count in top
        ],
        "noise": [
            {
                "path": field,
                "rate": _share(count, noise_samples),
                "samples": noise_samples,
                "candidate_rate": _share(window.diff_fields.get(field, 0), diffed),
            }
            for field, count in sorted(
                window.noise_fields.items(), key=lambda item: (-item[1], item[0])
            )
            if count > 0
        ],
        "ignored_rules": dict(sorted(window.ignored_rules.items())),
    }


def _billing(rows: list[asyncpg.Record], tenant_rows: list[asyncpg.Record]) -> dict[str, Any]:
    states = {row["state"]: int(row["n"]) for row in rows}
    joined = next((row for row in rows if row["state"] == "joined"), None)
    legacy = joined["legacy"] if joined is not None and joined["legacy"] is not None else Decimal(0)
    candidate = (
        joined["candidate"]
        if joined is not None and joined["candidate"] is not None
        else Decimal(0)
    )
    delta = candidate - legacy
    if legacy:
        ratio: float | None = round(float(delta / legacy), 6)
    else:
        ratio = 0.0 if not delta else None
    tenants: list[dict[str, Any]] = [
        {
            "tenant_id": str(row["tenant_id"]) if row["tenant_id"] is not None else None,
            "legacy_credits": _credits(row["legacy"]),
            "candidate_credits": _credits(row["candidate"]),
            "delta_credits": _credits(
                (row["candidate"] or Decimal(0)) - (row["legacy"] or Decimal(0))
            ),
        }
        for row in tenant_rows
    ]
    tenants.sort(key=lambda t: (-abs(t["delta_credits"]), t["tenant_id"] or ""))
    return {
        "requests": states.get("joined", 0),
        "legacy_credits": _credits(legacy),
        "candidate_credits": _credits(candidate),
        "delta_credits": _credits(delta),
        "delta_ratio": ratio,
        "missing": states.get("candidate_missing", 0),
        "states": dict(sorted(states.items())),
        "tenants": tenants,
    }


def _ms(values: Mapping[str, float] | None, key: str) -> str:
    return "-" if values is None else f"{values[key]:.1f}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.2f}%"


def render_table(report: Mapping[str, Any], *, width: int = 140) -> str:
    """The report as text for a terminal: one overview table, then each route's top diffs."""
    out = io.StringIO()
    console = Console(file=out, width=width, force_terminal=False, color_system=None)
    table = Table(
        title=f"shadow report {report['since'][:19]} → {report['until'][:19]} (UTC)",
        title_justify="left",
    )
    for column in (
        "route", "mode", "compared", "parity", "mismatched", "cand. errors", "skipped",
        "p50 ms L/C", "p99 ms L/C", "5xx L/C", "billing Δ", "Δ ratio",
    ):  # fmt: skip
        table.add_column(column)
    for route in report["routes"]:
        latency, billing, errors = route["latency_ms"], route["billing"], route["error_rate"]
        table.add_row(
            route["route"], route["mode"] or "?", str(route["compared"]),
            _percent(route["parity"]), str(route["mismatched"]),
            str(route["candidate_errors"]), str(sum(route["skipped"].values())),
            f"{_ms(latency['legacy'], 'p50')}/{_ms(latency['candidate'], 'p50')}",
            f"{_ms(latency['legacy'], 'p99')}/{_ms(latency['candidate'], 'p99')}",
            f"{_percent(errors['legacy'])}/{_percent(errors['candidate'])}",
            f"{billing['delta_credits']:+.4f}", _percent(billing["delta_ratio"]),
        )  # fmt: skip
    console.print(table)
    for route in report["routes"]:
        if not route["top_diffs"] and not route["noise"]:
            continue
        console.print(f"\n[bold]{route['route']}[/]")
        for diff in route["top_diffs"][:10]:
            console.print(
                f"  diff  {diff['path']} ({diff['kind']}): {diff['count']}"
                f" = {_percent(diff['rate'])}  e.g. {diff['example_request_id'] or '-'}",
                highlight=False,
                markup=False,
            )
        for noise in route["noise"][:10]:
            console.print(
                f"  noise {noise['path']}: legacy varies {_percent(noise['rate'])}"
                f" of {noise['samples']}, candidate {_percent(noise['candidate_rate'])}",
                highlight=False,
                markup=False,
            )
    return out.getvalue()

"""Settlement: the usage of one request written to a ledger as line items, money moved once.

A request's usage is one quantity per unit (``Usage``): a translation is ``{"characters": n}``,
a chat completion ``{"tokens_in": p, "tokens_out": c}``. Each unit becomes one ledger row (a
*line item*), unique per (request id, unit), so exactly-once charging holds per line: a line
already written by another reservation of the same request id is replayed, never charged
twice (rfcs/0004 §8). These helpers run inside the caller's transaction (``Billing.settle``),
with the reservation row already locked; they never open connections of their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Literal
from uuid import UUID

import asyncpg

from legacy.commerce.errors import InvalidUsage
from legacy.commerce.pricing import UNITS, charge

if TYPE_CHECKING:
    from banyan._types import DbConnection

__all__ = [
    "LineItem",
    "Settlement",
    "Usage",
    "check_metered",
    "check_usage",
    "close_reservation",
    "replay",
    "settle_live",
    "settle_shadow",
    "usage_of",
]

Usage = Mapping[str, Decimal]
LedgerKind = Literal["live", "shadow"]
_TABLE: Mapping[LedgerKind, str] = {"live": "ledger", "shadow": "shadow_ledger"}


@dataclass(frozen=True, slots=True)
class LineItem:
    unit: str
    quantity: Decimal
    credits: Decimal
    ledger_id: int
    replayed: bool  # written by an earlier settlement of this request id, returned as it was


@dataclass(frozen=True, slots=True)
class Settlement:
    reservation_id: UUID
    request_id: str
    ledger: LedgerKind
    lines: tuple[LineItem, ...]  # in UNITS order; never empty

    @property
    def credits(self) -> Decimal:
        return sum((line.credits for line in self.lines), Decimal("0.0000"))

    @property
    def ledger_id(self) -> int:
        """The first line's row: what identifies a single-unit settlement."""
        return self.lines[0].ledger_id

    @property
    def replayed(self) -> bool:
        return all(line.replayed for line in self.lines)


def usage_of(unit: str | None, quantity: Decimal | None, usage: Usage | None) -> dict[str, Decimal]:
    """The one-line form (``unit``, ``quantity``) or the several-line form (``usage``) as one
    mapping, checked, in ``UNITS`` order — the order rows are written and locks are taken in,
    so two settlements of one request id never deadlock. Passing both forms is a TypeError."""
    if usage is not None:
        if unit is not None or quantity is not None:
            raise TypeError("pass unit and quantity, or usage, not both")
        lines = dict(usage)
    elif unit is not None and quantity is not None:
        lines = {unit: quantity}
    else:
        raise TypeError("pass unit and quantity, or usage")
    if not lines:
        raise InvalidUsage("usage must name at least one unit")
    for name, amount in lines.items():
        check_usage(name, amount)
    return {name: lines[name] for name in sorted(lines, key=UNITS.index)}


def check_usage(unit: str, quantity: Decimal) -> None:
    if unit not in UNITS:
        raise InvalidUsage(f"unit must be one of {', '.join(UNITS)}, not {unit!r}")
    if not quantity.is_finite() or quantity < 0:
        raise InvalidUsage(f"quantity must be a non-negative number, not {quantity}")


def check_metered(usage: Usage, prices: Mapping[str, Decimal]) -> None:
    """Every unit of ``usage`` must be one the reservation was priced for."""
    for unit in usage:
        if unit not in prices:
            raise InvalidUsage(f"this reservation meters {', '.join(prices)}, not {unit}")


async def replay(conn: DbConnection, row: asyncpg.Record) -> Settlement:
    """The first settlement of a settled reservation, read back from its ledger."""
    kind: LedgerKind = "shadow" if row["shadow"] else "live"
    rows = await conn.fetch(
        f"SELECT l.id, l.unit, l.quantity, l.credits FROM legacy.{_TABLE[kind]} l"
        " JOIN legacy.reservation_units u ON u.reservation_id = $2 AND u.unit = l.unit"
        " WHERE l.request_id = $1 ORDER BY l.id",
        row["request_id"], row["id"],
    )  # fmt: skip
    assert rows, "a settled reservation always has its ledger rows"
    lines = tuple(
        LineItem(r["unit"], r["quantity"], r["credits"], r["id"], True)
        for r in sorted(rows, key=lambda r: UNITS.index(r["unit"]))
    )
    return Settlement(row["id"], row["request_id"], kind, lines)


async def _append(
    conn: DbConnection, kind: LedgerKind, row: asyncpg.Record, unit: str, quantity: Decimal,
    credits: Decimal,
) -> LineItem:  # fmt: skip
    """Write one line item; when (request id, unit) has a row already, return that one.

    The line carries the values as stored, so a first answer and its replays look the same."""
    table = _TABLE[kind]
    written = await conn.fetchrow(
        f"INSERT INTO legacy.{table} (request_id, tenant_id, route, unit, quantity,"
        " price_version, credits) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        " ON CONFLICT (request_id, unit) DO NOTHING RETURNING id, quantity, credits",
        row["request_id"], row["tenant_id"], row["route"], unit, quantity,
        row["price_version"], credits,
    )  # fmt: skip
    if written is not None:
        return LineItem(unit, written["quantity"], written["credits"], written["id"], False)
    first = await conn.fetchrow(
        f"SELECT id, quantity, credits FROM legacy.{table} WHERE request_id = $1 AND unit = $2",
        row["request_id"], unit,
    )  # fmt: skip
    assert first is not None, "a conflicting line item is visible once its writer committed"
    return LineItem(unit, first["quantity"], first["credits"], first["id"], True)


async def close_reservation(conn: DbConnection, row: asyncpg.Record, state: str) -> None:
    """Mark the reservation and give its whole hold back to the wallet."""
    await conn.execute("UPDATE legacy.reservations SET state = $2 WHERE id = $1", row["id"], state)
    if row["amount"]:
        await conn.execute(
            "UPDATE legacy.wallets SET reserved = reserved - $2 WHERE tenant_id = $1",
            row["tenant_id"], row["amount"],
        )  # fmt: skip


async def settle_shadow(
    conn: DbConnection, row: asyncpg.Record, prices: Mapping[str, Decimal], usage: Usage
) -> Settlement:
    """What the request would have cost, in the shadow ledger; no wallet is touched."""
    lines = [
        await _append(conn, "shadow", row, unit, quantity, charge(quantity, prices[unit]))
        for unit, quantity in usage.items()
    ]
    await conn.execute("UPDATE legacy.reservations SET state = 'settled' WHERE id = $1", row["id"])
    return Settlement(row["id"], row["request_id"], "shadow", tuple(lines))


async def settle_live(
    conn: DbConnection, row: asyncpg.Record, prices: Mapping[str, Decimal], usage: Usage
) -> Settlement:
    """Charge every line against the reservation's one hold and release the rest of it.

    Never below zero: the lines together take at most this hold plus what nobody else holds,
    earlier lines (``UNITS`` order) first."""
    wallet = await conn.fetchrow(
        "SELECT balance, reserved FROM legacy.wallets WHERE tenant_id = $1 FOR UPDATE",
        row["tenant_id"],
    )
    assert wallet is not None
    available: Decimal = row["amount"] + wallet["balance"] - wallet["reserved"]
    charged = Decimal(0)
    lines = []
    for unit, quantity in usage.items():
        credits = min(charge(quantity, prices[unit]), available - charged)
        line = await _append(conn, "live", row, unit, quantity, credits)
        if not line.replayed:
            charged += credits
        lines.append(line)
    if all(line.replayed for line in lines):
        # This request id was charged through another reservation: this one only gives back.
        await close_reservation(conn, row, "released")
        return Settlement(row["id"], row["request_id"], "live", tuple(lines))
    await conn.execute(
        "UPDATE legacy.wallets SET balance = balance - $2, reserved = reserved - $3"
        " WHERE tenant_id = $1",
        row["tenant_id"], charged, row["amount"],
    )  # fmt: skip
    await conn.execute("UPDATE legacy.reservations SET state = 'settled' WHERE id = $1", row["id"])
    return Settlement(row["id"], row["request_id"], "live", tuple(lines))

"""What the live and shadow ledgers hold for given request ids: the billing delta's evidence.

The shadow engine compares what the candidate recorded in the shadow ledger with what legacy
recorded in the live ledger for the same request id (brief §4; rfcs/0005 §7). It reads both
through the internal API (``GET /internal/v1/ledger``), never from these tables, so this
lookup is the one place that knows how a request's line items are laid out (one row per
(request id, unit), ``ledger.py``). Read-only: the ledgers are append-only anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING
from uuid import UUID

from legacy.commerce.pricing import UNITS

if TYPE_CHECKING:
    from banyan._types import DbConnection

__all__ = ["LedgerLine", "RequestLedgers", "lookup_ledgers"]


@dataclass(frozen=True, slots=True)
class LedgerLine:
    unit: str
    quantity: Decimal
    credits: Decimal


@dataclass(slots=True)
class RequestLedgers:
    """Both ledgers' line items of one request id (empty when that side billed nothing)."""

    request_id: str
    tenant_id: UUID | None = None
    route: str | None = None
    live: list[LedgerLine] = field(default_factory=list)
    shadow: list[LedgerLine] = field(default_factory=list)


_QUERY = """
SELECT 'live' AS kind, request_id, tenant_id, route, unit, quantity, credits
  FROM legacy.ledger WHERE request_id = ANY($1::text[])
UNION ALL
SELECT 'shadow', request_id, tenant_id, route, unit, quantity, credits
  FROM legacy.shadow_ledger WHERE request_id = ANY($1::text[])
"""


def _unit_order(unit: str) -> int:
    return UNITS.index(unit) if unit in UNITS else len(UNITS)


async def lookup_ledgers(conn: DbConnection, request_ids: Sequence[str]) -> list[RequestLedgers]:
    """One entry per distinct id, in the order asked; lines in ``UNITS`` order.

    One statement for the whole batch (both tables' (request id, unit) keys are indexed). The
    tenant and route come from the live rows when there are any, else from the shadow rows."""
    found = {rid: RequestLedgers(rid) for rid in request_ids}
    rows = await conn.fetch(_QUERY, list(found))
    for row in sorted(rows, key=lambda r: (r["kind"] != "live", _unit_order(r["unit"]))):
        entry = found[row["request_id"]]
        if entry.tenant_id is None:
            entry.tenant_id, entry.route = row["tenant_id"], row["route"]
        line = LedgerLine(row["unit"], row["quantity"], row["credits"])
        (entry.live if row["kind"] == "live" else entry.shadow).append(line)
    return list(found.values())

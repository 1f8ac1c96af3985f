"""The audit log of route changes in PostgreSQL, and the lock that serialises changes.

A change is made inside :meth:`AuditLog.change`: one transaction that first takes an advisory
lock on (fleet, route) — so two operators promoting the same route at once are serialised and
the second sees the first's result — then records the row. The caller writes the new state to
Redis inside that block; if that fails, the transaction rolls back and no audit row claims a
change that did not happen.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import asyncpg

from proxy.route_state import RouteState

if TYPE_CHECKING:
    from banyan._types import DbConnection

__all__ = ["Action", "AuditLog", "Change", "PendingChange"]

Action = Literal["set", "promote", "rollback"]


@dataclass(frozen=True, slots=True)
class Change:
    id: int
    fleet: str
    route: str
    action: Action
    actor: str
    reason: str
    from_state: RouteState
    to_state: RouteState
    forced: bool
    changed_at: datetime
    # What the change was judged on (a promotion's gates and report), as stored; None for rows
    # written before evidence existed.
    evidence: Mapping[str, Any] | None = None

    def view(self) -> dict[str, object]:
        return {
            "id": self.id,
            "route": self.route,
            "action": self.action,
            "actor": self.actor,
            "reason": self.reason,
            "from": json.loads(self.from_state.to_json()),
            "to": json.loads(self.to_state.to_json()),
            "forced": self.forced,
            "changed_at": self.changed_at.isoformat(),
            "evidence": self.evidence,
        }


class PendingChange:
    """The open transaction of one change; ``record`` writes its audit row."""

    def __init__(self, conn: DbConnection, fleet: str, route: str) -> None:
        self._conn = conn
        self.fleet = fleet
        self.route = route

    async def record(
        self, action: Action, actor: str, reason: str, before: RouteState, after: RouteState,
        *, forced: bool = False, evidence: Mapping[str, Any] | None = None,
    ) -> Change:  # fmt: skip
        # Through JSON and back: what the row returns is exactly what the database keeps.
        stored = json.loads(_to_json(evidence)) if evidence is not None else None
        row = await self._conn.fetchrow(
            "INSERT INTO proxy.route_changes"
            " (fleet, route, action, actor, reason, from_state, to_state, forced, evidence)"
            " VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $9::jsonb)"
            " RETURNING id, changed_at",
            self.fleet, self.route, action, actor, reason,
            before.to_json(), after.to_json(), forced,
            _to_json(evidence) if evidence is not None else None,
        )  # fmt: skip
        assert row is not None
        return Change(
            row["id"], self.fleet, self.route, action, actor, reason, before, after, forced,
            row["changed_at"], stored,
        )  # fmt: skip


def _to_json(value: Mapping[str, Any]) -> str:
    # default=str: a Decimal or datetime in a report is kept as text rather than refusing the row.
    return json.dumps(value, sort_keys=True, default=str)


class AuditLog:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @asynccontextmanager
    async def change(self, fleet: str, route: str) -> AsyncIterator[PendingChange]:
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtext($1))", f"banyan:{fleet}:{route}"
            )
            yield PendingChange(conn, fleet, route)

    async def history(self, fleet: str, route: str, limit: int = 50) -> list[Change]:
        rows = await self.pool.fetch(
            "SELECT id, fleet, route, action, actor, reason, from_state, to_state, forced,"
            " changed_at, evidence FROM proxy.route_changes WHERE fleet = $1 AND route = $2"
            " ORDER BY changed_at DESC, id DESC LIMIT $3",
            fleet, route, limit,
        )  # fmt: skip
        return [
            Change(
                r["id"],
                r["fleet"],
                r["route"],
                r["action"],
                r["actor"],
                r["reason"],
                RouteState.from_json(r["from_state"]),
                RouteState.from_json(r["to_state"]),
                r["forced"],
                r["changed_at"],
                json.loads(r["evidence"]) if r["evidence"] is not None else None,
            )
            for r in rows
        ]

"""Live ignore rules (``shadow.ignore_rules``): added by ``banyan shadow-ignore``, read by the
engine.

A learned noise field a person has looked at becomes a named rule without a deploy
(rfcs/0005 §5). The row is its own audit record (who, when, why); rules are per route and
unique by name. The engine applies a route's ``compare.ignore`` rules first, then these.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import asyncpg

from shadow.compare.config import IgnoreRule
from shadow.model import field_of

if TYPE_CHECKING:
    from banyan._types import DbConnection

__all__ = ["DuplicateRule", "LiveRule", "add_ignore_rule", "load_live_rules"]

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


class DuplicateRule(ValueError):
    """A rule of that name exists on the route already."""


@dataclass(frozen=True, slots=True)
class LiveRule:
    route: str
    name: str
    path: str
    created_at: datetime
    created_by: str
    reason: str | None


async def load_live_rules(pool: asyncpg.Pool) -> dict[str, tuple[IgnoreRule, ...]]:
    """Every route's live rules, oldest first (the order they apply in)."""
    rows = await pool.fetch(
        "SELECT route, name, path FROM shadow.ignore_rules ORDER BY route, created_at, name"
    )
    rules: dict[str, list[IgnoreRule]] = {}
    for row in rows:
        rules.setdefault(row["route"], []).append(IgnoreRule(name=row["name"], path=row["path"]))
    return {route: tuple(items) for route, items in rules.items()}


async def add_ignore_rule(
    conn: DbConnection, *, route: str, name: str, path: str, created_by: str,
    reason: str | None = None,
) -> LiveRule:  # fmt: skip
    """Insert a rule; ValueError on a bad name or path, :class:`DuplicateRule` on a taken name."""
    if not route:
        raise ValueError("route: give the route's name")
    if not _NAME.match(name):
        raise ValueError(f"name {name!r}: expected a name like 'request-id' (a-z, 0-9, _ . -)")
    if not path.strip():
        raise ValueError("path: give a field such as data[*].id")
    field = field_of(path.strip())
    row = await conn.fetchrow(
        "INSERT INTO shadow.ignore_rules (route, name, path, created_by, reason)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (route, name) DO NOTHING"
        " RETURNING route, name, path, created_at, created_by, reason",
        route, name, field, created_by, reason,
    )  # fmt: skip
    if row is None:
        existing = await conn.fetchrow(
            "SELECT path, created_by, created_at FROM shadow.ignore_rules"
            " WHERE route = $1 AND name = $2",
            route, name,
        )  # fmt: skip
        detail = (
            f" (path {existing['path']!r}, added by {existing['created_by']} at "
            f"{existing['created_at']:%Y-%m-%d %H:%M:%S})"
            if existing
            else ""
        )
        raise DuplicateRule(f"route {route!r} already has an ignore rule named {name!r}{detail}")
    return LiveRule(**dict(row))

"""Tenants, their keys and wallets: made, topped up and shown (``banyan tenants``).

Creating a tenant makes its wallet and one API key in one transaction and returns the key —
the only time it exists outside the caller's hands (only its hash is stored). Keys rotate by
adding a new one and revoking the old one by its prefix; a revoked key is refused on the next
request (keys are looked up per request, never cached).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING
from uuid import UUID

import asyncpg

from legacy.commerce.keys import key_hash, key_prefix, new_api_key
from legacy.commerce.pricing import to_credits

if TYPE_CHECKING:
    from banyan._types import DbConnection

__all__ = [
    "KeyInfo",
    "TenantExists",
    "TenantSummary",
    "UnknownKey",
    "UnknownTenant",
    "add_key",
    "create_tenant",
    "ensure_tenant",
    "list_keys",
    "revoke_key",
    "show_tenant",
    "top_up",
]


class TenantExists(ValueError):
    pass


class UnknownTenant(LookupError):
    pass


class UnknownKey(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class KeyInfo:
    prefix: str
    created_at: datetime
    revoked_at: datetime | None

    def view(self) -> dict[str, object]:
        revoked = self.revoked_at.isoformat() if self.revoked_at else None
        return {"prefix": self.prefix, "created_at": self.created_at.isoformat(),
                "revoked_at": revoked}  # fmt: skip


@dataclass(frozen=True, slots=True)
class TenantSummary:
    id: UUID
    name: str
    requests_per_minute: int
    units_per_minute: int
    balance: Decimal
    reserved: Decimal
    live_credits: Decimal
    live_requests: int
    shadow_credits: Decimal
    shadow_requests: int
    keys: int

    @property
    def available(self) -> Decimal:
        return self.balance - self.reserved

    def view(self) -> dict[str, object]:
        return {
            "id": str(self.id), "name": self.name,
            "plan": {"requests_per_minute": self.requests_per_minute,
                     "units_per_minute": self.units_per_minute},
            "wallet": {"balance": str(self.balance), "reserved": str(self.reserved),
                       "available": str(self.available)},
            "ledger": {
                "live": {"credits": str(self.live_credits), "requests": self.live_requests},
                "shadow": {"credits": str(self.shadow_credits), "requests": self.shadow_requests},
            },
            "keys": self.keys,
        }  # fmt: skip


async def create_tenant(
    conn: DbConnection, name: str, credits: Decimal, *, requests_per_minute: int = 600,
    units_per_minute: int = 0, api_key: str | None = None,
) -> tuple[UUID, str]:  # fmt: skip
    """Make a tenant with a funded wallet and one key; return (tenant id, the key)."""
    key = api_key or new_api_key()
    async with conn.transaction():
        try:
            tenant_id: UUID = await conn.fetchval(
                "INSERT INTO legacy.tenants (name, requests_per_minute, units_per_minute)"
                " VALUES ($1, $2, $3) RETURNING id",
                name, requests_per_minute, units_per_minute,
            )  # fmt: skip
        except asyncpg.UniqueViolationError as exc:
            raise TenantExists(f"a tenant named {name!r} exists already") from exc
        await conn.execute(
            "INSERT INTO legacy.wallets (tenant_id, balance) VALUES ($1, $2)",
            tenant_id,
            to_credits(credits),
        )
        await _insert_key(conn, tenant_id, key)
    return tenant_id, key


async def ensure_tenant(conn: DbConnection, name: str, credits: Decimal, *, api_key: str) -> None:
    """Make the tenant if it is missing and make sure ``api_key`` is one of its keys (the lab's
    demo tenant, on every start; an existing wallet is left as it is)."""
    try:
        await create_tenant(conn, name, credits, api_key=api_key)
    except TenantExists:
        await add_key(conn, name, api_key)


async def add_key(conn: DbConnection, name: str, api_key: str | None = None) -> str:
    key = api_key or new_api_key()
    await _insert_key(conn, await _tenant_id(conn, name), key)
    return key


async def list_keys(conn: DbConnection, name: str) -> list[KeyInfo]:
    """The tenant's keys (prefixes only: the keys themselves were never stored), oldest first."""
    tenant_id = await _tenant_id(conn, name)
    rows = await conn.fetch(
        "SELECT prefix, created_at, revoked_at FROM legacy.api_keys WHERE tenant_id = $1"
        " ORDER BY created_at, prefix",
        tenant_id,
    )
    return [KeyInfo(r["prefix"], r["created_at"], r["revoked_at"]) for r in rows]


async def revoke_key(conn: DbConnection, name: str, prefix: str) -> KeyInfo:
    """Revoke the tenant's one live key that starts with ``prefix``; refuse an ambiguous or
    unknown prefix rather than guess (revoking the wrong key locks a customer out)."""
    tenant_id = await _tenant_id(conn, name)
    async with conn.transaction():
        rows = await conn.fetch(
            "SELECT key_hash, prefix FROM legacy.api_keys WHERE tenant_id = $1"
            " AND revoked_at IS NULL AND starts_with(prefix, $2) FOR UPDATE",
            tenant_id, prefix,
        )  # fmt: skip
        if not rows:
            raise UnknownKey(f"{name!r} has no live key starting with {prefix!r}")
        if len(rows) > 1:
            raise UnknownKey(
                f"{prefix!r} matches {len(rows)} live keys of {name!r}; give more of the prefix"
            )
        row = await conn.fetchrow(
            "UPDATE legacy.api_keys SET revoked_at = now() WHERE key_hash = $1"
            " RETURNING prefix, created_at, revoked_at",
            rows[0]["key_hash"],
        )
    assert row is not None
    return KeyInfo(row["prefix"], row["created_at"], row["revoked_at"])


async def _tenant_id(conn: DbConnection, name: str) -> UUID:
    tenant_id: UUID | None = await conn.fetchval(
        "SELECT id FROM legacy.tenants WHERE name = $1", name
    )
    if tenant_id is None:
        raise UnknownTenant(f"no tenant named {name!r}")
    return tenant_id


async def _insert_key(conn: DbConnection, tenant_id: UUID, key: str) -> None:
    await conn.execute(
        "INSERT INTO legacy.api_keys (key_hash, tenant_id, prefix) VALUES ($1, $2, $3)"
        " ON CONFLICT (key_hash) DO NOTHING",
        key_hash(key), tenant_id, key_prefix(key),
    )  # fmt: skip


async def top_up(conn: DbConnection, name: str, credits: Decimal) -> Decimal:
    """Add credits; return the new balance."""
    if credits <= 0:
        raise ValueError("a top-up must add a positive number of credits")
    balance: Decimal | None = await conn.fetchval(
        "UPDATE legacy.wallets w SET balance = w.balance + $2 FROM legacy.tenants t"
        " WHERE t.id = w.tenant_id AND t.name = $1 RETURNING w.balance",
        name, to_credits(credits),
    )  # fmt: skip
    if balance is None:
        raise UnknownTenant(f"no tenant named {name!r}")
    return balance


async def show_tenant(conn: DbConnection, name: str) -> TenantSummary:
    row = await conn.fetchrow(
        """
        SELECT t.id, t.name, t.requests_per_minute, t.units_per_minute, w.balance, w.reserved,
            (SELECT coalesce(sum(credits), 0) FROM legacy.ledger l WHERE l.tenant_id = t.id),
            (SELECT count(*) FROM legacy.ledger l WHERE l.tenant_id = t.id),
            (SELECT coalesce(sum(credits), 0) FROM legacy.shadow_ledger s WHERE s.tenant_id = t.id),
            (SELECT count(*) FROM legacy.shadow_ledger s WHERE s.tenant_id = t.id),
            (SELECT count(*) FROM legacy.api_keys k
             WHERE k.tenant_id = t.id AND k.revoked_at IS NULL)
        FROM legacy.tenants t JOIN legacy.wallets w ON w.tenant_id = t.id
        WHERE t.name = $1
        """,
        name,
    )
    if row is None:
        raise UnknownTenant(f"no tenant named {name!r}")
    return TenantSummary(*row.values())

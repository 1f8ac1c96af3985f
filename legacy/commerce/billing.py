"""Authorize, settle, release: the wallet and ledger rules every implementation bills through.

Legacy's own routes call this in-process; other implementations (the Go candidate, test
doubles) reach the same code through the internal API (``legacy/internal_api.py``).

The rules (issue 4, brief §3 and §4):

* **authorize** checks the key, the rate limit (live requests only) and reserves the estimated
  credits in one statement — ``reserved`` grows only while ``balance - reserved`` covers it, so
  under any concurrency a wallet is never over-committed (the database's CHECKs back this up).
  An empty wallet is a 402 before any work starts.
* **settle** charges the actual usage exactly once per request id: the ledger's unique request
  id makes a replay a no-op that returns the first settlement. The charge is capped at what the
  wallet can pay (the reservation plus what is free), so a balance never goes below zero.
* A request marked ``X-Banyan-Shadow`` never touches a wallet or a rate limit: it reserves
  nothing and settles into the shadow ledger only.
* A reservation left open by a crashed request expires after its TTL and its hold is released.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Literal
from uuid import UUID

import asyncpg

from legacy.commerce.errors import (
    InsufficientQuota,
    InvalidApiKey,
    InvalidUsage,
    RateLimited,
    ReservationClosed,
    UnknownReservation,
)
from legacy.commerce.keys import key_hash
from legacy.commerce.pricing import UNITS, charge
from legacy.commerce.ratelimit import RateDecision, RateLimiter, RateLimits

if TYPE_CHECKING:
    from banyan._types import DbConnection

__all__ = ["ROUTE_CLASSES", "Authorization", "Billing", "Settlement", "Tenant"]

# Rate limits are kept per API key and route class.
ROUTE_CLASSES: Mapping[str, str] = {
    "translate": "text", "transliterate": "text", "text-lid": "text",
    "text-to-speech": "speech", "text-to-speech-stream": "speech", "text-to-speech-ws": "speech",
    "speech-to-text": "speech", "speech-to-text-translate": "speech", "speech-to-text-ws": "speech",
    "chat-completions": "chat", "doc-ai": "documents",
}  # fmt: skip
DEFAULT_RESERVATION_TTL_S = 900.0


@dataclass(frozen=True, slots=True)
class Tenant:
    id: UUID
    name: str
    key_id: str  # the key's hash in hex: how rate limits name a key, never the key itself
    requests_per_minute: int
    units_per_minute: int


@dataclass(frozen=True, slots=True)
class Authorization:
    tenant: Tenant
    reservation_id: UUID
    request_id: str
    unit: str
    shadow: bool
    held: Decimal
    rate: RateDecision | None


@dataclass(frozen=True, slots=True)
class Settlement:
    reservation_id: UUID
    request_id: str
    credits: Decimal
    ledger: Literal["live", "shadow"]
    ledger_id: int
    replayed: bool


class Billing:
    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        limiter: RateLimiter | None = None,
        reservation_ttl_s: float = DEFAULT_RESERVATION_TTL_S,
    ) -> None:
        self.pool = pool
        self.limiter = limiter
        self.reservation_ttl_s = reservation_ttl_s

    async def tenant_for_key(self, api_key: str | None) -> Tenant:
        if not api_key:
            raise InvalidApiKey(
                "send your API key in api-subscription-key or Authorization: Bearer"
            )
        digest = key_hash(api_key)
        row = await self.pool.fetchrow(
            "SELECT t.id, t.name, t.requests_per_minute, t.units_per_minute"
            " FROM legacy.api_keys k JOIN legacy.tenants t ON t.id = k.tenant_id"
            " WHERE k.key_hash = $1 AND k.revoked_at IS NULL",
            digest,
        )
        if row is None:
            raise InvalidApiKey("the API key is not valid")
        return Tenant(
            row["id"],
            row["name"],
            digest.hex(),
            row["requests_per_minute"],
            row["units_per_minute"],
        )

    async def authorize(
        self, *, api_key: str | None, route: str, unit: str, quantity: Decimal, request_id: str,
        shadow: bool = False, model: str = "*",
    ) -> Authorization:  # fmt: skip
        """Check the key and limits and hold the estimate; raises a CommerceError otherwise."""
        _check_usage(unit, quantity)
        tenant = await self.tenant_for_key(api_key)
        rate = None if shadow else await self._check_rate(tenant, route, quantity)
        version, per_unit = await self._price(route, unit, model)
        held = Decimal(0) if shadow else charge(quantity, per_unit)
        reservation_id: UUID | None = await self.pool.fetchval(
            """
            WITH held AS (
                UPDATE legacy.wallets SET reserved = reserved + $6
                WHERE tenant_id = $2 AND ($7 OR balance - reserved >= $6)
                RETURNING tenant_id
            )
            INSERT INTO legacy.reservations (request_id, tenant_id, route, unit, price_version,
                credits_per_unit, amount, shadow, expires_at)
            SELECT $1, tenant_id, $3, $4, $5, $8, $6, $7, now() + make_interval(secs => $9)
            FROM held
            RETURNING id
            """,
            request_id, tenant.id, route, unit, version, held, shadow, per_unit,
            self.reservation_ttl_s,
        )  # fmt: skip
        if reservation_id is None:
            raise InsufficientQuota(
                f"the wallet cannot cover this request ({held} credits needed); top it up"
            )
        return Authorization(tenant, reservation_id, request_id, unit, shadow, held, rate)

    async def extend(self, reservation_id: UUID, quantity: Decimal) -> Decimal:
        """Hold more for a stream that goes on; returns the reservation's new hold."""
        async with self.pool.acquire() as conn, conn.transaction():
            row = await _open_reservation(conn, reservation_id)
            _check_usage(row["unit"], quantity)
            more = Decimal(0) if row["shadow"] else charge(quantity, row["credits_per_unit"])
            if more:
                held = await conn.fetchval(
                    "UPDATE legacy.wallets SET reserved = reserved + $2"
                    " WHERE tenant_id = $1 AND balance - reserved >= $2 RETURNING tenant_id",
                    row["tenant_id"], more,
                )  # fmt: skip
                if held is None:
                    raise InsufficientQuota(
                        "the wallet cannot cover more of this stream; top it up"
                    )
            amount: Decimal = await conn.fetchval(
                "UPDATE legacy.reservations SET amount = amount + $2,"
                " expires_at = now() + make_interval(secs => $3) WHERE id = $1 RETURNING amount",
                reservation_id, more, self.reservation_ttl_s,
            )  # fmt: skip
            return amount

    async def settle(self, reservation_id: UUID, *, unit: str, quantity: Decimal) -> Settlement:
        """Charge the actual usage, exactly once per request id; replays return the first."""
        _check_usage(unit, quantity)
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "SELECT * FROM legacy.reservations WHERE id = $1 FOR UPDATE", reservation_id
            )
            if row is None:
                raise UnknownReservation(f"no reservation {reservation_id}")
            ledger = "shadow_ledger" if row["shadow"] else "ledger"
            if row["state"] == "settled":
                return await _replay(conn, row, ledger)
            if row["state"] != "open":
                raise ReservationClosed(
                    f"reservation {reservation_id} was {row['state']}; authorize again"
                )
            if unit != row["unit"]:
                raise InvalidUsage(f"this reservation meters {row['unit']}, not {unit}")
            due = charge(quantity, row["credits_per_unit"])
            if row["shadow"]:
                return await _settle_shadow(conn, row, quantity, due)
            return await _settle_live(conn, row, quantity, due)

    async def release(self, reservation_id: UUID) -> None:
        """Give the hold back (the request failed before any usage)."""
        async with self.pool.acquire() as conn, conn.transaction():
            row = await _open_reservation(conn, reservation_id)
            await _close(conn, row, "released")

    async def release_expired(self) -> int:
        """Expire reservations whose holder never settled; return how many."""
        count: int = await self.pool.fetchval(
            """
            WITH expired AS (
                UPDATE legacy.reservations SET state = 'expired'
                WHERE state = 'open' AND expires_at < now()
                RETURNING tenant_id, amount
            ), held AS (
                SELECT tenant_id, sum(amount) AS amount, count(*) AS n
                FROM expired GROUP BY tenant_id
            ), released AS (
                UPDATE legacy.wallets w SET reserved = w.reserved - held.amount
                FROM held WHERE w.tenant_id = held.tenant_id RETURNING held.n
            )
            SELECT coalesce(sum(n), 0) FROM released
            """
        )
        return count

    async def _check_rate(
        self, tenant: Tenant, route: str, quantity: Decimal
    ) -> RateDecision | None:
        if self.limiter is None:
            return None
        limits = RateLimits(tenant.requests_per_minute, tenant.units_per_minute)
        decision = await self.limiter.check(
            tenant.key_id,
            ROUTE_CLASSES.get(route, route),
            limits,
            units=int(quantity.to_integral_value()),
        )
        if not decision.allowed:
            raise RateLimited(
                f"rate limit of your plan reached ({decision.exceeded}); retry later", decision
            )
        return decision

    async def _price(self, route: str, unit: str, model: str) -> tuple[int, Decimal]:
        row = await self.pool.fetchrow(
            """
            SELECT p.version, p.credits_per_unit FROM legacy.prices p
            WHERE p.version = (
                SELECT max(version) FROM legacy.price_versions WHERE effective_from <= now()
            )
              AND p.route = $1 AND p.unit = $2 AND p.model IN ($3, '*')
            ORDER BY p.model = '*' LIMIT 1
            """,
            route, unit, model,
        )  # fmt: skip
        if row is None:
            raise InvalidUsage(f"no price for route {route!r} in unit {unit!r}")
        return row["version"], row["credits_per_unit"]


def _check_usage(unit: str, quantity: Decimal) -> None:
    if unit not in UNITS:
        raise InvalidUsage(f"unit must be one of {', '.join(UNITS)}, not {unit!r}")
    if not quantity.is_finite() or quantity < 0:
        raise InvalidUsage(f"quantity must be a non-negative number, not {quantity}")


async def _open_reservation(conn: DbConnection, reservation_id: UUID) -> asyncpg.Record:
    row = await conn.fetchrow(
        "SELECT * FROM legacy.reservations WHERE id = $1 FOR UPDATE", reservation_id
    )
    if row is None:
        raise UnknownReservation(f"no reservation {reservation_id}")
    if row["state"] != "open":
        raise ReservationClosed(f"reservation {reservation_id} was {row['state']}")
    return row


async def _close(conn: DbConnection, row: asyncpg.Record, state: str) -> None:
    await conn.execute("UPDATE legacy.reservations SET state = $2 WHERE id = $1", row["id"], state)
    if row["amount"]:
        await conn.execute(
            "UPDATE legacy.wallets SET reserved = reserved - $2 WHERE tenant_id = $1",
            row["tenant_id"], row["amount"],
        )  # fmt: skip


async def _replay(conn: DbConnection, row: asyncpg.Record, ledger: str) -> Settlement:
    first = await conn.fetchrow(
        f"SELECT id, credits FROM legacy.{ledger} WHERE request_id = $1", row["request_id"]
    )
    assert first is not None, "a settled reservation always has its ledger row"
    kind: Literal["live", "shadow"] = "shadow" if row["shadow"] else "live"
    return Settlement(row["id"], row["request_id"], first["credits"], kind, first["id"], True)


async def _append(
    conn: DbConnection, ledger: str, row: asyncpg.Record, quantity: Decimal, credits: Decimal
) -> int | None:
    """Append the request's ledger row; None when its request id has one already."""
    ledger_id: int | None = await conn.fetchval(
        f"INSERT INTO legacy.{ledger} (request_id, tenant_id, route, unit, quantity,"
        " price_version, credits) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        " ON CONFLICT (request_id) DO NOTHING RETURNING id",
        row["request_id"], row["tenant_id"], row["route"], row["unit"], quantity,
        row["price_version"], credits,
    )  # fmt: skip
    return ledger_id


async def _settle_shadow(
    conn: DbConnection, row: asyncpg.Record, quantity: Decimal, due: Decimal
) -> Settlement:
    ledger_id = await _append(conn, "shadow_ledger", row, quantity, due)
    await conn.execute("UPDATE legacy.reservations SET state = 'settled' WHERE id = $1", row["id"])
    if ledger_id is None:
        return await _replay(conn, row, "shadow_ledger")
    return Settlement(row["id"], row["request_id"], due, "shadow", ledger_id, False)


async def _settle_live(
    conn: DbConnection, row: asyncpg.Record, quantity: Decimal, due: Decimal
) -> Settlement:
    wallet = await conn.fetchrow(
        "SELECT balance, reserved FROM legacy.wallets WHERE tenant_id = $1 FOR UPDATE",
        row["tenant_id"],
    )
    assert wallet is not None
    # Never below zero: at most this reservation's hold plus what nobody else holds.
    credits = min(due, row["amount"] + wallet["balance"] - wallet["reserved"])
    ledger_id = await _append(conn, "ledger", row, quantity, credits)
    if ledger_id is None:
        # This request id was charged through another reservation: this one only gives back.
        await _close(conn, row, "released")
        first = await _replay(conn, row, "ledger")
        return Settlement(
            row["id"], row["request_id"], first.credits, "live", first.ledger_id, True
        )
    await conn.execute(
        "UPDATE legacy.wallets SET balance = balance - $2, reserved = reserved - $3"
        " WHERE tenant_id = $1",
        row["tenant_id"], credits, row["amount"],
    )  # fmt: skip
    await conn.execute("UPDATE legacy.reservations SET state = 'settled' WHERE id = $1", row["id"])
    return Settlement(row["id"], row["request_id"], credits, "live", ledger_id, False)

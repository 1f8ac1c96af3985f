"""Authorize, settle, release: the wallet and ledger rules every implementation bills through.

Legacy's own routes call this in-process; other implementations (the Go candidate, test
doubles) reach the same code through the internal API (``legacy/internal_api.py``).

The rules (issue 4, brief §3 and §4):

* **authorize** checks the key, the rate limit (live requests only) and reserves the estimated
  credits in one statement — ``reserved`` grows only while ``balance - reserved`` covers it, so
  under any concurrency a wallet is never over-committed (the database's CHECKs back this up).
  An empty wallet is a 402 before any work starts.
* **settle** charges the actual usage exactly once per (request id, unit): a request may meter
  several units (a chat completion: ``tokens_in`` and ``tokens_out``), each a *line item*, one
  ledger row, all written in one transaction against the reservation's one hold
  (``ledger.py``; issue 5). The ledger's unique (request id, unit) makes a replay a no-op that
  returns the first settlement. The charge is capped at what the wallet can pay (the
  reservation plus what is free), so a balance never goes below zero.
* A request marked ``X-Banyan-Shadow`` never touches a wallet or a rate limit: it reserves
  nothing and settles into the shadow ledger only.
* A reservation left open by a crashed request expires after its TTL and its hold is released.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING
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
from legacy.commerce.ledger import (
    Settlement,
    Usage,
    check_metered,
    close_reservation,
    replay,
    settle_live,
    settle_shadow,
    usage_of,
)
from legacy.commerce.pricing import UNITS, charge
from legacy.commerce.ratelimit import RateDecision, RateLimiter, RateLimits

if TYPE_CHECKING:
    from banyan._types import DbConnection

__all__ = [
    "ROUTE_CLASSES",
    "Authorization",
    "Billing",
    "Settlement",
    "Tenant",
    "Usage",
    "release_within",
    "settle_within",
]

# Rate limits are kept per API key and route class.
ROUTE_CLASSES: Mapping[str, str] = {
    "translate": "text", "transliterate": "text", "text-lid": "text",
    "text-to-speech": "speech", "text-to-speech-stream": "speech", "text-to-speech-ws": "speech",
    "speech-to-text": "speech", "speech-to-text-translate": "speech", "speech-to-text-ws": "speech",
    "speech-to-text-translate-ws": "speech", "chat-completions": "chat", "doc-ai": "documents",
    "speech-to-text-job": "speech", "speech-to-text-translate-job": "speech",
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
    estimate: Mapping[str, Decimal]  # the held usage per unit, in UNITS order
    shadow: bool
    held: Decimal
    rate: RateDecision | None

    @property
    def unit(self) -> str:
        """The unit of a single-unit reservation (the common case: one route, one unit)."""
        if len(self.estimate) != 1:
            raise ValueError(f"this reservation meters {', '.join(self.estimate)}: pass usage")
        return next(iter(self.estimate))


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
        self, *, api_key: str | None, route: str, request_id: str, unit: str | None = None,
        quantity: Decimal | None = None, estimate: Usage | None = None, shadow: bool = False,
        model: str = "*", ttl_s: float | None = None, rate_limit: bool = True,
    ) -> Authorization:  # fmt: skip
        """Check the key and limits and hold the estimate; raises a CommerceError otherwise.

        One unit (``unit=``, ``quantity=``) or several (``estimate={unit: quantity}``): the
        hold is one amount, the sum of each unit's charge, and the reservation remembers
        each unit's price for settlement. A batch job holds for each of its files with
        ``rate_limit=False`` (the job's request was counted once) and a ``ttl_s`` that
        outlives its queue (rfcs/0007 §5)."""
        usage = usage_of(unit, quantity, estimate)
        tenant = await self.tenant_for_key(api_key)
        rate = (
            None
            if shadow or not rate_limit
            else await self.check_rate(tenant, route, sum(usage.values(), Decimal(0)))
        )
        version, prices = await self._prices(route, tuple(usage), model)
        held = Decimal(0) if shadow else _charge_all(usage, prices)
        reservation_id: UUID | None = await self.pool.fetchval(
            """
            WITH held AS (
                UPDATE legacy.wallets SET reserved = reserved + $5
                WHERE tenant_id = $2 AND ($6 OR balance - reserved >= $5)
                RETURNING tenant_id
            ), reservation AS (
                INSERT INTO legacy.reservations (request_id, tenant_id, route, price_version,
                    amount, shadow, expires_at)
                SELECT $1, tenant_id, $3, $4, $5, $6, now() + make_interval(secs => $7)
                FROM held
                RETURNING id
            ), units AS (
                INSERT INTO legacy.reservation_units (reservation_id, unit, credits_per_unit)
                SELECT reservation.id, u.unit, u.price
                FROM reservation, unnest($8::text[], $9::numeric[]) AS u (unit, price)
            )
            SELECT id FROM reservation
            """,
            request_id, tenant.id, route, version, held, shadow,
            self.reservation_ttl_s if ttl_s is None else ttl_s, list(prices), list(prices.values()),
        )  # fmt: skip
        if reservation_id is None:
            raise InsufficientQuota(
                f"the wallet cannot cover this request ({held} credits needed); top it up"
            )
        return Authorization(tenant, reservation_id, request_id, usage, shadow, held, rate)

    async def extend(
        self, reservation_id: UUID, quantity: Decimal | None = None, *, unit: str | None = None,
        usage: Usage | None = None,
    ) -> Decimal:  # fmt: skip
        """Hold more for a stream that goes on; returns the reservation's new hold.

        ``extend(id, quantity)`` is for a single-unit reservation; name the ``unit`` (or pass
        ``usage``) when it meters several."""
        async with self.pool.acquire() as conn, conn.transaction():
            row = await _open_reservation(conn, reservation_id)
            prices = await _unit_prices(conn, reservation_id)
            if unit is None and usage is None:
                unit = _only_unit(prices)
            more_usage = usage_of(unit, quantity, usage)
            check_metered(more_usage, prices)
            more = Decimal(0) if row["shadow"] else _charge_all(more_usage, prices)
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

    async def settle(
        self, reservation_id: UUID, *, unit: str | None = None, quantity: Decimal | None = None,
        usage: Usage | None = None,
    ) -> Settlement:  # fmt: skip
        """Charge the actual usage, one ledger row per unit, in one transaction against the
        reservation's one hold; exactly once per (request id, unit); a replay returns the
        first settlement whatever usage it carries."""
        lines = usage_of(unit, quantity, usage)
        async with self.pool.acquire() as conn, conn.transaction():
            return await settle_within(conn, reservation_id, lines)

    async def release(self, reservation_id: UUID) -> None:
        """Give the hold back (the request failed before any usage)."""
        async with self.pool.acquire() as conn, conn.transaction():
            row = await _open_reservation(conn, reservation_id)
            await close_reservation(conn, row, "released")

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

    async def check_rate(
        self, tenant: Tenant, route: str, quantity: Decimal
    ) -> RateDecision | None:
        """Count one request of ``quantity`` units against the key's limits; RateLimited when
        over. :meth:`authorize` does this itself; a batch job calls it once for all its files."""
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

    async def _prices(
        self, route: str, units: tuple[str, ...], model: str
    ) -> tuple[int, dict[str, Decimal]]:
        """The current price version and each unit's price (the model's own, else ``*``)."""
        rows = await self.pool.fetch(
            """
            SELECT DISTINCT ON (p.unit) p.unit, p.version, p.credits_per_unit FROM legacy.prices p
            WHERE p.version = (
                SELECT max(version) FROM legacy.price_versions WHERE effective_from <= now()
            )
              AND p.route = $1 AND p.unit = ANY($2::text[]) AND p.model IN ($3, '*')
            ORDER BY p.unit, p.model = '*'
            """,
            route, list(units), model,
        )  # fmt: skip
        found = {r["unit"]: r["credits_per_unit"] for r in rows}
        missing = ", ".join(repr(unit) for unit in units if unit not in found)
        if missing:
            raise InvalidUsage(f"no price for route {route!r} in unit {missing}")
        return rows[0]["version"], {unit: found[unit] for unit in units}


async def settle_within(conn: DbConnection, reservation_id: UUID, usage: Usage) -> Settlement:
    """:meth:`Billing.settle` inside the caller's transaction: a batch job's file commits its
    charge, its result and its state together, so "billed once" is one commit (rfcs/0007
    §4). ``usage`` comes from :func:`usage_of`."""
    row = await conn.fetchrow(
        "SELECT * FROM legacy.reservations WHERE id = $1 FOR UPDATE", reservation_id
    )
    if row is None:
        raise UnknownReservation(f"no reservation {reservation_id}")
    if row["state"] == "settled":
        return await replay(conn, row)
    if row["state"] != "open":
        raise ReservationClosed(f"reservation {reservation_id} was {row['state']}; authorize again")
    prices = await _unit_prices(conn, reservation_id)
    check_metered(usage, prices)
    if row["shadow"]:
        return await settle_shadow(conn, row, prices, usage)
    return await settle_live(conn, row, prices, usage)


async def release_within(conn: DbConnection, reservation_id: UUID) -> None:
    """:meth:`Billing.release` inside the caller's transaction; an already closed hold is
    left as it is (a job's failed file may be finished twice by racing workers)."""
    row = await conn.fetchrow(
        "SELECT * FROM legacy.reservations WHERE id = $1 FOR UPDATE", reservation_id
    )
    if row is not None and row["state"] == "open":
        await close_reservation(conn, row, "released")


def _charge_all(usage: Usage, prices: Mapping[str, Decimal]) -> Decimal:
    # Each line is rounded on its own, as its ledger row will be (rfcs/0004 §2, §8).
    return sum((charge(quantity, prices[unit]) for unit, quantity in usage.items()), Decimal(0))


def _only_unit(prices: Mapping[str, Decimal]) -> str:
    if len(prices) != 1:
        raise InvalidUsage(f"this reservation meters {', '.join(prices)}: name the unit")
    return next(iter(prices))


async def _unit_prices(conn: DbConnection, reservation_id: UUID) -> dict[str, Decimal]:
    rows = await conn.fetch(
        "SELECT unit, credits_per_unit FROM legacy.reservation_units WHERE reservation_id = $1",
        reservation_id,
    )
    prices = {r["unit"]: r["credits_per_unit"] for r in rows}
    return {unit: prices[unit] for unit in UNITS if unit in prices}


async def _open_reservation(conn: DbConnection, reservation_id: UUID) -> asyncpg.Record:
    row = await conn.fetchrow(
        "SELECT * FROM legacy.reservations WHERE id = $1 FOR UPDATE", reservation_id
    )
    if row is None:
        raise UnknownReservation(f"no reservation {reservation_id}")
    if row["state"] != "open":
        raise ReservationClosed(f"reservation {reservation_id} was {row['state']}")
    return row

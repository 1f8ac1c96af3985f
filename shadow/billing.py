"""The billing joiner: both sides' ledger rows of a compared request, into ``shadow.billing``.

The billing delta is what the candidate recorded in the shadow ledger minus what legacy
recorded in the live ledger for the same request id (brief §4), never a number a service
claims in a header. Both ledgers are legacy's; the joiner reads them over legacy's internal
API (``GET /internal/v1/ledger``, rfcs/0005 §7), never from legacy's tables (rfcs/0001 §2).

A request is looked up ``delay_s`` after it was compared (both sides have settled by then),
in batches; when exactly one side billed, once more at ``retry_s`` (a slow settlement is not
a finding yet). Each request with any billing becomes one row (``state``):

- ``joined``: both sides billed; the row holds both amounts and unit quantities.
- ``candidate_missing`` / ``legacy_missing``: one side billed, the other still nothing at the
  retry — itself a finding (``billing.missing`` in the report).
- ``live_row_for_shadow``: the live ledger holds a row for ``<id>.noise`` — a call made with
  ``X-Banyan-Shadow: 1`` (the noise sampler's second legacy call) charged a customer: a
  service that ignored the header (rfcs/0005 §9).

A request neither side billed (a free route such as ``/v1/models``) leaves no row.

Which ledger is whose follows ``served_by``: when legacy served, its rows are the live ones
and the candidate's the shadow ones; when the candidate served (canary, or candidate mode
with legacy shadowed in reverse) it is the other way round.

Deliberately not done here: the candidate ignoring ``X-Banyan-Shadow`` on the *request id
itself* cannot be seen in the ledgers — its live line collides with the served side's on
(request id, unit) and is replayed, never written — so it shows up as ``candidate_missing``.

``schedule`` is synchronous and never blocks: the pending queue is bounded (``capacity``) and
an overflow is counted (``stats()["overflow"]``), never waited for. One task (``run``) does
the lookups and writes; a failed lookup is retried once with the slow retry, then counted.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal, TypeAlias
from uuid import UUID

import asyncpg
import httpx

from banyan.logs import get_logger
from proxy._types import Side
from shadow.replay import noise_request_id

__all__ = [
    "BillingJoiner",
    "BillingRow",
    "BillingState",
    "LedgerAnswerError",
    "LedgerSide",
    "Ledgers",
    "join_ledgers",
]

BillingState: TypeAlias = Literal[
    "joined", "candidate_missing", "legacy_missing", "live_row_for_shadow"
]
_log = get_logger(__name__)
MAX_IDS_PER_CALL = 100  # the ledger endpoint's limit


@dataclass(frozen=True, slots=True)
class _Pending:
    due: float
    request_id: str
    route: str
    served_by: Side
    final: bool  # the retry: no third look


@dataclass(frozen=True, slots=True)
class BillingRow:
    """One ``shadow.billing`` row."""

    request_id: str
    route: str
    tenant_id: UUID | None
    legacy_credits: Decimal | None
    candidate_credits: Decimal | None
    legacy_units: Mapping[str, str]
    candidate_units: Mapping[str, str]
    state: BillingState


class LedgerAnswerError(ValueError):
    """Legacy's ledger endpoint answered something that is not its documented shape."""


@dataclass(frozen=True, slots=True)
class LedgerSide:
    """One ledger's line items of one request: the credits summed, quantity per unit."""

    credits: Decimal
    units: dict[str, str]


@dataclass(frozen=True, slots=True)
class Ledgers:
    """Both ledgers of one request id, as legacy's ledger endpoint answers them."""

    tenant_id: UUID | None
    live: LedgerSide | None  # None: no row
    shadow: LedgerSide | None


def _side(lines: object) -> LedgerSide | None:
    if not isinstance(lines, list):
        raise LedgerAnswerError("live/shadow must be lists")
    if not lines:
        return None
    credits, units = Decimal(0), {}
    try:
        for line in lines:
            credits += Decimal(line["credits"])
            units[str(line["unit"])] = str(Decimal(line["quantity"]))
    except (KeyError, TypeError, InvalidOperation) as exc:
        raise LedgerAnswerError(f"bad ledger line: {exc!r}") from exc
    return LedgerSide(credits, units)


def _parse_answer(body: object) -> dict[str, Ledgers]:
    if not isinstance(body, dict) or not isinstance(body.get("requests"), list):
        raise LedgerAnswerError("expected {'requests': [...]}")
    found: dict[str, Ledgers] = {}
    for entry in body["requests"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("request_id"), str):
            raise LedgerAnswerError("each request needs a request_id")
        tenant = entry.get("tenant_id")
        try:
            tenant_id = UUID(tenant) if isinstance(tenant, str) else None
        except ValueError as exc:
            raise LedgerAnswerError(f"bad tenant_id {tenant!r}") from exc
        found[entry["request_id"]] = Ledgers(
            tenant_id, _side(entry.get("live")), _side(entry.get("shadow"))
        )
    return found


def join_ledgers(
    request_id: str, route: str, served_by: Side, ledgers: Ledgers, noise: Ledgers | None,
    *, final: bool,
) -> BillingRow | None:  # fmt: skip
    """The row for one request, or None: nothing billed, or one side missing before the retry
    (``final`` False: look again later). Pure, so every state is tested without a server."""
    legacy, candidate = (
        (ledgers.live, ledgers.shadow) if served_by == "legacy" else (ledgers.shadow, ledgers.live)
    )
    state: BillingState
    if noise is not None and noise.live is not None:
        state = "live_row_for_shadow"
    elif legacy is None and candidate is None:
        return None
    elif legacy is not None and candidate is not None:
        state = "joined"
    elif not final:
        return None
    else:
        state = "candidate_missing" if candidate is None else "legacy_missing"
    tenant_id = ledgers.tenant_id
    if tenant_id is None and noise is not None:
        tenant_id = noise.tenant_id
    return BillingRow(
        request_id, route, tenant_id,
        legacy.credits if legacy else None, candidate.credits if candidate else None,
        legacy.units if legacy else {}, candidate.units if candidate else {}, state,
    )  # fmt: skip


_UPSERT = """
INSERT INTO shadow.billing (request_id, route, tenant_id, legacy_credits, candidate_credits,
                            legacy_units, candidate_units, state, checked_at)
VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, now())
ON CONFLICT (request_id) DO UPDATE SET
    route = EXCLUDED.route, tenant_id = EXCLUDED.tenant_id,
    legacy_credits = EXCLUDED.legacy_credits, candidate_credits = EXCLUDED.candidate_credits,
    legacy_units = EXCLUDED.legacy_units, candidate_units = EXCLUDED.candidate_units,
    state = EXCLUDED.state, checked_at = EXCLUDED.checked_at
"""


class BillingJoiner:
    """Delayed, batched ledger lookups for compared requests, written to ``shadow.billing``.

    ``client`` is an ``httpx.AsyncClient`` whose base URL is legacy and whose headers carry
    the internal token (``Authorization: Bearer …``); the caller owns it and ``pool``. Start
    ``run()`` as a task and cancel it on shutdown; ``run_due()`` does one round, for tests
    and for a final flush. ``linger_s``: how long past the oldest request's due time ``run``
    waits before asking, so that one call carries a batch (compared requests fall due one by
    one; at 400/s, asking as each falls due made a call per request and most of this
    process's CPU)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        pool: asyncpg.Pool,
        *,
        delay_s: float = 2.0,
        retry_s: float = 30.0,
        batch: int = MAX_IDS_PER_CALL,
        linger_s: float = 0.25,
        capacity: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 2 <= batch <= MAX_IDS_PER_CALL:
            raise ValueError(f"batch must be 2..{MAX_IDS_PER_CALL} ids (a request and its noise)")
        self._client = client
        self._pool = pool
        self._delay_s = delay_s
        self._retry_s = retry_s
        self._per_call = batch // 2  # each request is asked with its <id>.noise
        self._linger_s = linger_s
        self._capacity = capacity
        self._clock = clock
        # Both FIFO in due order: every entry of one queue waits the same delay.
        self._first: deque[_Pending] = deque()
        self._retry: deque[_Pending] = deque()
        self._wake = asyncio.Event()
        self._counts: Counter[str] = Counter()

    def schedule(self, request_id: str, route: str, served_by: Side) -> None:
        """Look this request up ``delay_s`` from now. Never blocks; a full queue counts
        ``overflow`` and forgets the request."""
        if len(self._first) + len(self._retry) >= self._capacity:
            self._counts["overflow"] += 1
            return
        self._first.append(
            _Pending(self._clock() + self._delay_s, request_id, route, served_by, False)
        )
        self._counts["scheduled"] += 1
        self._wake.set()

    def stats(self) -> dict[str, int]:
        """Counts so far: scheduled, overflow, each state written, ``unbilled`` (no row),
        ``retried``, ``lookup_failed`` and ``store_failed`` (requests given up), ``pending``."""
        return {**self._counts, "pending": len(self._first) + len(self._retry)}

    async def run(self) -> None:
        """Forever: wait until the oldest request is due, look up and write what is due."""
        while True:
            self._wake.clear()
            if await self.run_due() == self._per_call:
                continue  # a full call: more may be due already
            heads = [q[0].due for q in (self._first, self._retry) if q]
            if not heads:
                await self._wake.wait()
            else:  # capped: an injected clock need not track the loop's
                wait = min(max(min(heads) - self._clock(), 0.0), 1.0)
                await asyncio.sleep(wait + self._linger_s)

    async def run_due(self) -> int:
        """Look up and settle one batch of due requests; returns how many were taken."""
        now = self._clock()
        due: list[_Pending] = []
        for queue in (self._retry, self._first):
            while queue and queue[0].due <= now and len(due) < self._per_call:
                due.append(queue.popleft())
        if due:
            await self._settle(due)
        return len(due)

    async def _settle(self, due: Sequence[_Pending]) -> None:
        try:
            found = await self._lookup(due)
        except (httpx.HTTPError, LedgerAnswerError) as exc:
            self._count_failure("lookup_failed", due, exc)
            return
        rows: list[BillingRow] = []
        for item in due:
            ledgers = found.get(item.request_id)
            if ledgers is None:
                self._counts["lookup_failed"] += 1
                continue
            row = join_ledgers(
                item.request_id, item.route, item.served_by, ledgers,
                found.get(_noise_id(item.request_id)), final=item.final,
            )  # fmt: skip
            if row is not None:
                rows.append(row)
            elif ledgers.live is None and ledgers.shadow is None:
                self._counts["unbilled"] += 1
            else:
                self._requeue(item)
        if rows:
            await self._store(rows)

    async def _lookup(self, due: Sequence[_Pending]) -> dict[str, Ledgers]:
        params = httpx.QueryParams(
            [
                ("request_id", rid)
                for item in due
                for rid in (item.request_id, _noise_id(item.request_id))
            ]
        )
        response = await self._client.get("/internal/v1/ledger", params=params)
        response.raise_for_status()
        try:
            body = response.json()
        except ValueError as exc:
            raise LedgerAnswerError("the ledger answer is not JSON") from exc
        return _parse_answer(body)

    async def _store(self, rows: Sequence[BillingRow]) -> None:
        args = [
            (r.request_id, r.route, r.tenant_id, r.legacy_credits, r.candidate_credits,
             json.dumps(r.legacy_units), json.dumps(r.candidate_units), r.state)
            for r in rows
        ]  # fmt: skip
        try:
            async with self._pool.acquire() as conn:
                await conn.executemany(_UPSERT, args)
        except (OSError, asyncpg.PostgresError) as exc:
            self._counts["store_failed"] += len(rows)
            _log.warning("shadow.billing write failed", rows=len(rows), error=repr(exc))
            return
        for row in rows:
            self._counts[row.state] += 1

    def _requeue(self, item: _Pending) -> None:
        if len(self._first) + len(self._retry) >= self._capacity:
            self._counts["overflow"] += 1
            return
        self._counts["retried"] += 1
        self._retry.append(
            _Pending(self._clock() + self._retry_s, item.request_id, item.route,
                     item.served_by, True)
        )  # fmt: skip

    def _count_failure(self, what: str, due: Sequence[_Pending], exc: Exception) -> None:
        """A failed lookup gets the slow retry once; a failed retry is given up, counted."""
        _log.warning("ledger lookup failed", requests=len(due), error=repr(exc))
        for item in due:
            if item.final:
                self._counts[what] += 1
            else:
                self._requeue(item)


def _noise_id(request_id: str) -> str:
    """The id the noise sampler's call was billed under (shadow.replay.noise_request_id)."""
    return noise_request_id(request_id.encode("latin-1", "replace")).decode("latin-1")

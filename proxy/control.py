"""Live route control for one proxy process: follow the fleet's live states, make changes.

Reading: at start and on every change message (or reconnect) the process reloads the live
states from Redis and swaps in ``apply_states(baseline, states)``. When Redis is unreachable
the process keeps the table it has — the last known one, or the YAML baseline if it never
reached Redis — and retries with backoff (brief §5).

Writing: ``change`` validates against the ladder, records the audit row and writes Redis in
one serialised step (``AuditLog.change``), then applies the result locally at once; the other
instances follow through pub/sub.

Exception tree (the admin API maps each to a status)::

    ChangeRefused (route_state)      409; InvalidState: 400
    UnknownRoute                     404
    LiveControlUnavailable           503: no Redis/PostgreSQL configured or reachable
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import asyncpg
from redis.exceptions import RedisError

from banyan.logs import get_logger
from proxy._types import Mode
from proxy.audit import Action, AuditLog, Change
from proxy.core import ProxyCore
from proxy.route_state import (
    ChangeRefused,
    RouteState,
    apply_states,
    promoted,
    rolled_back,
    state_of,
    validated,
)
from proxy.route_store import RouteStore
from proxy.routing import RouteTable

__all__ = ["LiveControlUnavailable", "RouteControl", "UnknownRoute"]

_log = get_logger(__name__)
_MAX_BACKOFF_S = 2.0


class UnknownRoute(LookupError):
    pass


class LiveControlUnavailable(RuntimeError):
    pass


class RouteControl:
    def __init__(
        self,
        core: ProxyCore,
        baseline: RouteTable,
        fleet: str,
        store: RouteStore | None = None,
        audit: AuditLog | None = None,
    ) -> None:
        self.core = core
        self.baseline = baseline
        self.fleet = fleet
        self.store = store
        self.audit = audit
        self.version = -1
        self.states: Mapping[str, RouteState] = {}
        self.connected = False

    def attach(self, store: RouteStore, audit: AuditLog) -> None:
        """Give the control its adapters (done in the process's startup, once they exist)."""
        self.store, self.audit = store, audit

    @property
    def is_live(self) -> bool:
        return self.store is not None and self.audit is not None

    def state(self, name: str) -> RouteState:
        route = self.core.table.get(name)
        if route is None:
            raise UnknownRoute(name)
        return state_of(route)

    def source(self, name: str) -> str:
        return "live" if name in self.states else "baseline"

    async def refresh(self) -> None:
        """Reload every live state and swap the table if it is newer than ours."""
        if self.store is None:
            return
        version, states = await self.store.load()
        if version >= self.version:
            self.core.swap_table(apply_states(self.baseline, states))
            self.version, self.states = version, states

    async def follow(self) -> None:
        """Run until cancelled: apply every announced change; survive Redis going away."""
        if self.store is None:
            return
        backoff = 0.1
        while True:
            try:
                async for version in self.store.changes():
                    if not self.connected:
                        _log.info("live route control connected", fleet=self.fleet)
                    self.connected, backoff = True, 0.1
                    if version == 0 or version > self.version:
                        await self.refresh()
            except (RedisError, OSError) as exc:
                if self.connected:
                    _log.warning(
                        "live route control lost; keeping the current table", error=str(exc)
                    )
                self.connected = False
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, _MAX_BACKOFF_S)

    async def change(
        self,
        name: str,
        action: Action,
        *,
        actor: str,
        reason: str,
        target: RouteState | None = None,
        to: Mode | None = None,
        expected: RouteState | None = None,
        forced: bool = False,
        evidence: Mapping[str, Any] | None = None,
    ) -> Change:
        """Make one change. ``expected`` is the state the caller judged the change on (a
        promotion's gates): if the route moved meanwhile the change is refused rather than
        applied on evidence about another state. ``forced`` and ``evidence`` go into the audit
        row as they are."""
        if self.store is None or self.audit is None:
            raise LiveControlUnavailable(
                "live route control needs Redis and PostgreSQL (REDIS_URL, DATABASE_URL)"
            )
        baseline = self.baseline.get(name)
        if baseline is None:
            raise UnknownRoute(name)
        if not reason.strip():
            raise ChangeRefused("a reason is required: say why, it goes into the audit log")
        try:
            async with self.audit.change(self.fleet, name) as pending:
                before = await self.store.get(name) or state_of(baseline)
                if expected is not None and before != expected:
                    raise ChangeRefused(
                        f"route {name} is now {before.describe()}, not {expected.describe()}:"
                        " it changed meanwhile; look again before changing it"
                    )
                after = self._next(action, before, target, to)
                if after == before:
                    raise ChangeRefused(f"route {name} is already {before.describe()}")
                change = await pending.record(
                    action, actor, reason, before, after, forced=forced, evidence=evidence
                )
                await self.store.put(name, after)
            await self.refresh()
        except (RedisError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise LiveControlUnavailable(f"route {name} unchanged: {exc}") from exc
        _log.info("route changed", route=name, action=action, actor=actor,
                  before=before.describe(), after=after.describe())  # fmt: skip
        return change

    def next_state(
        self, name: str, action: Action, target: RouteState | None = None, to: Mode | None = None
    ) -> tuple[RouteState, RouteState]:
        """(current, what ``action`` would make of it) by this process's table — for deciding
        whether a change needs evidence before asking for it."""
        current = self.state(name)
        return current, self._next(action, current, target, to)

    @staticmethod
    def _next(
        action: Action, before: RouteState, target: RouteState | None, to: Mode | None
    ) -> RouteState:
        if action == "promote":
            return promoted(before)
        if action == "rollback":
            return rolled_back(before, to)
        assert target is not None
        return validated(target)

    async def history(self, name: str, limit: int) -> list[Change]:
        if self.audit is None:
            raise LiveControlUnavailable("route history needs PostgreSQL (DATABASE_URL)")
        if self.baseline.get(name) is None:
            raise UnknownRoute(name)
        return await self.audit.history(self.fleet, name, limit)

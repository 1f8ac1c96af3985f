"""The shadow store as the proxy's admin listener reads it: reports, examples, gate verdicts.

The proxy must not import ``shadow/`` (rfcs/0005 §8), so the composition root builds one
:class:`StoreReader` and hands it to the admin app as both its ``Evidence`` and its
``ReportSource`` (``proxy/evidence.py``). It opens its own small pool lazily, on first use, so
a proxy whose database is down at start still routes, and only the dashboard and gated
promotions wait for the store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

import asyncpg
import orjson

from proxy.evidence import Judgement
from shadow.evidence import ReportEvidence
from shadow.gates import GateSettings
from shadow.report import build_report

__all__ = ["StoreReader"]


class StoreReader:
    def __init__(
        self, database_url: str, gates: GateSettings, modes: Callable[[], Mapping[str, str]]
    ) -> None:
        self._url = database_url
        self._modes = modes
        self._pool: asyncpg.Pool | None = None
        self._lock = asyncio.Lock()
        self._evidence = ReportEvidence(self._route_report, gates)

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.close()

    async def judge(self, route: str, target_mode: str) -> Judgement:
        return await self._evidence.judge(route, target_mode)

    async def report(self, since_s: float) -> Mapping[str, Any]:
        return await build_report(
            await self._get_pool(), route=None, since=timedelta(seconds=since_s),
            modes=self._modes(),
        )  # fmt: skip

    async def example(self, route: str, field: str) -> Mapping[str, Any] | None:
        """The newest stored example of a field: the diff and both sides, redacted."""
        row = await (await self._get_pool()).fetchrow(
            "SELECT request_id, diff, legacy, candidate FROM shadow.examples"
            " WHERE route = $1 AND field = $2 ORDER BY at DESC LIMIT 1",
            route, field,
        )  # fmt: skip
        if row is None:
            return None
        return {
            "request_id": row["request_id"],
            **{key: _json(row[key]) for key in ("diff", "legacy", "candidate")},
        }

    async def _route_report(self, route: str, since_s: float) -> Mapping[str, Any]:
        return await build_report(
            await self._get_pool(), route=route, since=timedelta(seconds=since_s),
            modes=self._modes(),
        )  # fmt: skip

    async def _get_pool(self) -> asyncpg.Pool:
        async with self._lock:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(self._url, min_size=0, max_size=2)
            return self._pool


def _json(value: object) -> object:
    return orjson.loads(value) if isinstance(value, str | bytes) else value

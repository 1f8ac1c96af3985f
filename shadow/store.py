"""Where verdicts go: ``shadow.comparisons``, ``.examples`` and ``.windows`` (rfcs/0005 §6).

:meth:`ResultStore.add` is called once per compared request on the shadow process's loop. It
never awaits and never blocks: it updates the in-memory minute window (so counters are never
lost) and appends the comparison row to a bounded buffer; a full buffer drops the *row* and
counts it (``stats.dropped``), never the counters. Two tasks do the I/O:

- the **row writer** wakes every 250 ms, or as soon as 500 rows wait, and writes them with
  binary ``COPY`` into a temporary table, then ``INSERT … ON CONFLICT (request_id) DO NOTHING``
  (a request id seen twice — a re-sent record, two shadow processes — keeps its first row
  instead of failing the whole batch, which a plain ``COPY`` into the table would);
  examples go in the same pass, each under a transaction-scoped advisory lock on its
  (route, field) and only while fewer than 5 exist, so two writers never exceed the cap;
- the **window flusher** upserts, every second, this writer's windows that changed (the
  current and the previous minute, in practice) whole: a writer owns its rows, so there is no
  read-modify-write and no lost update between writers.

Examples are capped in memory first (a count per (route, field), seeded from the table at
:meth:`ResultStore.start`), so a field that already has its 5 costs one dict look-up, and they
are redacted (:mod:`shadow.redact`) before they are queued. Windows are keyed by this store's
clock at ``add`` time, never by a trial's timestamp: a minute that was flushed and evicted is
never rewritten with partial counts.

Lifecycle: ``async with ResultStore(pool, writer_id) as store`` (or ``start``/``aclose``);
``aclose`` stops the tasks and writes everything still buffered. A failed write is logged and
counted (``stats.failed``); its rows are not retried (bounded memory beats completeness here:
the windows still hold the counts).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson

from banyan.logs import get_logger
from shadow.model import Diff, Observation, Trial, Verdict
from shadow.redact import MAX_BODY_BYTES, redact_body, redact_diff, redact_headers, redact_target
from shadow.windows import COLUMNS as WINDOW_COLUMNS
from shadow.windows import Window

__all__ = ["COMPARISON_COLUMNS", "EXAMPLES_PER_FIELD", "ResultStore", "StoreStats"]

EXAMPLES_PER_FIELD = 5
COMPARISON_COLUMNS = (
    "request_id", "route", "at", "served_by", "outcome", "error", "fields", "ignored",
    "legacy_status", "candidate_status", "legacy_latency_us", "candidate_latency_us",
    "legacy_ttfb_us", "candidate_ttfb_us",
)  # fmt: skip
_EXAMPLE_COLUMNS = (
    "route", "field", "request_id", "at", "diff", "explanation", "request", "legacy", "candidate",
)  # fmt: skip
# Advisory lock class of the example cap (the two-int form: its own key space).
_EXAMPLE_LOCK_CLASS = 0x5348

_STAGE = (
    "CREATE TEMP TABLE IF NOT EXISTS _shadow_comparisons_in"
    " (LIKE shadow.comparisons INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
)
_MOVE = (
    f"INSERT INTO shadow.comparisons ({', '.join(COMPARISON_COLUMNS)})"
    f" SELECT {', '.join(COMPARISON_COLUMNS)} FROM _shadow_comparisons_in"
    " ON CONFLICT (request_id) DO NOTHING"
)
_LOCK_EXAMPLE = "SELECT pg_advisory_xact_lock($1, hashtext($2 || chr(31) || $3))"
_INSERT_EXAMPLE = (
    f"INSERT INTO shadow.examples ({', '.join(_EXAMPLE_COLUMNS)})"
    " SELECT $1, $2, $3, $4, $5::jsonb, $6::jsonb, $7::jsonb, $8::jsonb, $9::jsonb"
    " WHERE (SELECT count(*) FROM shadow.examples WHERE route = $1 AND field = $2) < $10"
    " ON CONFLICT DO NOTHING"
)
_UPSERT_WINDOW = (
    f"INSERT INTO shadow.windows ({', '.join(WINDOW_COLUMNS)}, updated_at)"
    f" VALUES ({', '.join(f'${i + 1}' for i in range(len(WINDOW_COLUMNS)))}, now())"
    " ON CONFLICT (route, minute, writer) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in (*WINDOW_COLUMNS[3:], "updated_at"))
)
_log = get_logger(__name__)

Explain = Callable[[Diff], object]


@dataclass(frozen=True, slots=True)
class StoreStats:
    """Counters of a store since it started (for metrics and tests)."""

    queued: int  # rows waiting now
    written: int  # comparison rows sent to the database (duplicates included)
    dropped: int  # rows dropped because the buffer was full (storage only)
    failed: int  # rows lost to a failed write
    examples_written: int
    windows_written: int


def _us(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds * 1_000_000)


def _minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def _now() -> datetime:
    return datetime.now(UTC)


class ResultStore:
    """Batched, bounded writer of one shadow process (``writer_id`` names it in windows)."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        writer_id: str,
        *,
        max_queue: int = 50_000,
        batch_rows: int = 500,
        batch_interval_s: float = 0.25,
        window_interval_s: float = 1.0,
        examples_per_field: int = EXAMPLES_PER_FIELD,
        max_pending_examples: int = 1_000,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._pool = pool
        self.writer_id = writer_id
        self._max_queue = max_queue
        self._batch_rows = batch_rows
        self._batch_interval = batch_interval_s
        self._window_interval = window_interval_s
        self._cap = examples_per_field
        self._max_pending_examples = max_pending_examples
        self._clock = clock
        self._rows: deque[tuple[object, ...]] = deque()
        self._examples: deque[tuple[object, ...]] = deque()
        self._example_counts: dict[tuple[str, str], int] = {}
        self._windows: dict[tuple[str, datetime], Window] = {}
        self._dirty: set[tuple[str, datetime]] = set()
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._row_lock = asyncio.Lock()
        self._window_lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False
        self._written = self._dropped = self._failed = 0
        self._examples_written = self._windows_written = 0

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Seed the example caps from the table and start the writer tasks."""
        rows = await self._pool.fetch(
            "SELECT route, field, count(*) AS n FROM shadow.examples GROUP BY route, field"
        )
        for row in rows:
            self._example_counts[(row["route"], row["field"])] = int(row["n"])
        self._tasks = [
            asyncio.create_task(self._row_loop(), name=f"shadow-store-rows-{self.writer_id}"),
            asyncio.create_task(self._window_loop(), name=f"shadow-store-windows-{self.writer_id}"),
        ]

    async def aclose(self) -> None:
        """Stop the tasks and write everything still in memory. Idempotent."""
        self._closing = True
        self._wake.set()
        self._stop.set()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
            self._tasks = []
        await self.flush()

    async def __aenter__(self) -> ResultStore:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- recording (synchronous, never blocks) -----------------------------------------------

    def add(
        self,
        trial: Trial,
        verdict: Verdict,
        *,
        noise_diffs: Sequence[Diff] | None = None,
        redact: frozenset[str] = frozenset(),
        explain: Explain | None = None,
        at: datetime | None = None,
    ) -> None:
        """Record one compared request (any outcome but ``skipped``).

        ``noise_diffs`` are the legacy-vs-legacy diffs when the request was noise-sampled;
        ``redact`` the route's ``compare.redact`` fields; ``explain(diff)`` (DeepDiff, say) is
        called only for diffs that become a stored example. ``at`` defaults to now."""
        now = self._clock()
        window = self._window(trial.route, now)
        window.add_comparison(trial, verdict)
        if noise_diffs is not None:
            window.add_noise(noise_diffs)
        at = at or now
        fields = list(dict.fromkeys(d.field for d in verdict.mismatched))
        self._push(
            (
                trial.request_id, trial.route, at, trial.served_by, verdict.outcome,
                verdict.error, fields, [name for name, _ in verdict.ignored],
                trial.legacy.status or None, trial.candidate.status or None,
                _us(trial.legacy.latency_s), _us(trial.candidate.latency_s),
                _us(trial.legacy.ttfb_s), _us(trial.candidate.ttfb_s),
            )
        )  # fmt: skip
        if verdict.mismatched:
            self._keep_examples(trial, verdict.mismatched, at, redact, explain)

    def skip(
        self, request_id: str, route: str, reason: str, *, served_by: str = "legacy",
        at: datetime | None = None,
    ) -> None:  # fmt: skip
        """Record a mirrored request that was not compared, with why (``timeout``, …)."""
        now = self._clock()
        self._window(route, now).add_skip(reason)
        self._push(
            (request_id, route, at or now, served_by, "skipped", reason, [], [],
             None, None, None, None, None, None)
        )  # fmt: skip

    def wants_example(self, route: str, field: str) -> bool:
        """Whether a mismatch on this field would still be kept as an example."""
        return self._example_counts.get((route, field), 0) < self._cap

    @property
    def stats(self) -> StoreStats:
        return StoreStats(
            queued=len(self._rows), written=self._written, dropped=self._dropped,
            failed=self._failed, examples_written=self._examples_written,
            windows_written=self._windows_written,
        )  # fmt: skip

    def window(self, route: str, minute: datetime) -> Window | None:
        """This writer's in-memory window of a route's minute (for tests and metrics)."""
        return self._windows.get((route, _minute(minute)))

    def _window(self, route: str, now: datetime) -> Window:
        key = (route, _minute(now))
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = Window()
        self._dirty.add(key)
        return window

    def _push(self, row: tuple[object, ...]) -> None:
        if len(self._rows) >= self._max_queue:
            self._dropped += 1
            return
        self._rows.append(row)
        if len(self._rows) >= self._batch_rows:
            self._wake.set()

    def _keep_examples(
        self, trial: Trial, diffs: Sequence[Diff], at: datetime, redact: frozenset[str],
        explain: Explain | None,
    ) -> None:  # fmt: skip
        seen: set[str] = set()
        for diff in diffs:
            field = diff.field
            key = (trial.route, field)
            if field in seen or self._example_counts.get(key, 0) >= self._cap:
                continue
            seen.add(field)
            if len(self._examples) >= self._max_pending_examples:
                return
            self._example_counts[key] = self._example_counts.get(key, 0) + 1
            explanation = None
            # A whole-document explanation could quote a redacted field: none on such routes.
            if explain is not None and not redact:
                try:
                    explanation = _dumps(explain(diff))
                except Exception:  # an explanation is a nicety; never lose the example
                    _log.exception("explaining an example failed", route=trial.route)
            request = {
                "method": trial.method,
                "target": redact_target(trial.target),
                "headers": redact_headers(trial.request_headers),
                "body": redact_body(trial.request_body, redact),
            }
            self._examples.append(
                (
                    trial.route, field, trial.request_id, at, _dumps(redact_diff(diff, redact)),
                    explanation, _dumps(request), _dumps(_observation(trial.legacy, redact)),
                    _dumps(_observation(trial.candidate, redact)),
                )
            )  # fmt: skip

    # -- writing -----------------------------------------------------------------------------

    async def flush(self) -> None:
        """Write every buffered row, example and changed window now."""
        while self._rows or self._examples:
            await self._write_rows()
        await self._write_windows()

    async def _row_loop(self) -> None:
        while not self._closing:
            if len(self._rows) < self._batch_rows:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._batch_interval)
            if self._closing:
                return
            await self._write_rows()

    async def _window_loop(self) -> None:
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._window_interval)
            if self._closing:
                return
            await self._write_windows()

    async def _write_rows(self) -> None:
        async with self._row_lock:
            batch = [self._rows.popleft() for _ in range(min(self._batch_rows, len(self._rows)))]
            examples = list(self._examples)
            self._examples.clear()
            if not batch and not examples:
                return
            try:
                async with self._pool.acquire() as conn, conn.transaction():
                    if batch:
                        await conn.execute(_STAGE)
                        await conn.copy_records_to_table(
                            "_shadow_comparisons_in", records=batch, columns=COMPARISON_COLUMNS
                        )
                        await conn.execute(_MOVE)
                    # Lock order by key, so two writers' transactions cannot deadlock.
                    for example in sorted(examples, key=lambda e: (str(e[0]), str(e[1]))):
                        await conn.execute(
                            _LOCK_EXAMPLE, _EXAMPLE_LOCK_CLASS, example[0], example[1]
                        )
                        status = await conn.execute(_INSERT_EXAMPLE, *example, self._cap)
                        if status.endswith(" 1"):
                            self._examples_written += 1
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                self._failed += len(batch)
                _log.exception("writing shadow comparisons failed", rows=len(batch))
                return
            self._written += len(batch)

    async def _write_windows(self) -> None:
        async with self._window_lock:
            keys = list(self._dirty)
            self._dirty.clear()
            current = _minute(self._clock())
            if keys:
                rows = [
                    (route, minute, self.writer_id, *self._windows[(route, minute)].column_values())
                    for route, minute in keys
                ]
                try:
                    async with self._pool.acquire() as conn:
                        await conn.executemany(_UPSERT_WINDOW, rows)
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                    self._dirty.update(keys)  # whole-window upsert: retrying later is exact
                    _log.exception("writing shadow windows failed", windows=len(keys))
                    return
                self._windows_written += len(rows)
            # Keep the previous minute (late adds land in it only while it is current, but a
            # flush may race the minute change); drop older ones once written.
            for key in [k for k in self._windows if k[1] < current - timedelta(minutes=1)]:
                if key not in self._dirty:
                    del self._windows[key]


def _dumps(value: object) -> str:
    return orjson.dumps(value, default=str).decode()


def _observation(observation: Observation, redact: frozenset[str]) -> dict[str, Any]:
    record: dict[str, Any] = {
        "status": observation.status,
        "headers": redact_headers(observation.headers),
        "body": redact_body(observation.body, redact),
    }
    if observation.error is not None:
        record["error"] = observation.error
    if observation.messages is not None:
        budget = MAX_BODY_BYTES
        messages: list[Mapping[str, object]] = []
        for message in observation.messages:
            raw = message.data if message.data is not None else (message.text or "").encode()
            if budget <= 0:
                break
            body = redact_body(raw[:budget], redact)
            budget -= len(raw)
            messages.append({"at": message.at, **body})
        record["messages"] = messages
    return record

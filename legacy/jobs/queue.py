"""The job queue: jobs and their files in PostgreSQL, files taken by workers with SKIP LOCKED.

rfcs/0007 is the design; the rules this module keeps:

* **A file is a task.** ``start`` moves a job's files to ``queued`` and the job to ``Pending``
  in one transaction; a worker's :meth:`JobQueue.claim` takes the oldest queued file (or a
  ``running`` one whose lease expired: its worker died) and the job becomes ``Running``.
* **Leases, not locks.** A claim writes ``lease_owner`` and ``lease_expires_at``; the worker
  renews it (:meth:`heartbeat`) while it works. Only the lease's owner may finish the file, so
  a worker that was presumed dead and comes back finds its result refused, not applied twice.
* **Billed once.** :meth:`succeed` settles the file's hold (request id
  ``job:<job_id>:<file_id>``), writes its result and, when it was the last file, the job's
  terminal state, in one transaction. A crash before the commit bills nothing; after it the
  file is done and never taken again.
* **Back pressure at the door.** :meth:`enqueue` counts queued and running files under an
  advisory lock and refuses a job that would pass the tenant's share (429) or the platform's
  limit (503), with the expected drain time as Retry-After; nothing in the queue is dropped.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, Literal
from uuid import UUID

import asyncpg

from legacy.commerce.billing import release_within, settle_within

if TYPE_CHECKING:
    from banyan._types import DbConnection

__all__ = [
    "ACTIVE_FILE_STATES",
    "QUEUED_CHANNEL",
    "TERMINAL_JOB_STATES",
    "FileRecord",
    "JobKind",
    "JobQueue",
    "JobRecord",
    "QueueFull",
    "QueueLimits",
    "Task",
    "file_request_id",
]

JobKind = Literal["stt", "stt-translate", "doc-ai-digitise", "doc-ai-extract"]
JobState = Literal["Accepted", "Pending", "Running", "Completed", "PartiallyCompleted", "Failed"]
FileState = Literal[
    "registered", "queued", "running", "Success", "API Error", "Internal Server Error"
]
TERMINAL_JOB_STATES: Final = frozenset({"Completed", "PartiallyCompleted", "Failed"})
ACTIVE_FILE_STATES: Final = ("registered", "queued", "running")
_LOCK_CAPACITY: Final = 0x6A6F6273  # "jobs": serializes the capacity check of enqueue
_DEFAULT_TASK_S: Final = 2.0
# Sent when files are queued (delivered at commit), so idle workers wake at once, not at
# their next poll.
QUEUED_CHANNEL: Final = "legacy_job_files"


def file_request_id(job_id: UUID, file_id: UUID) -> str:
    """The request id a file's hold and ledger row carry: unique per file of a job."""
    return f"job:{job_id}:{file_id}"


@dataclass(frozen=True, slots=True)
class QueueLimits:
    """Files that may wait or run at once: per tenant (its share) and in all."""

    per_tenant: int = 200
    total: int = 2000
    # How many workers drain the queue (sizes Retry-After; the worker's --concurrency).
    workers: int = 2


class QueueFull(Exception):
    """The job cannot be queued now; ``status`` is 429 (the tenant's share) or 503 (all)."""

    def __init__(self, status: int, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class FileRecord:
    file_id: UUID
    position: int
    name: str
    object_key: str
    content_type: str | None
    state: str
    reservation_id: UUID | None
    quantity: Decimal | None
    output_key: str | None
    output_name: str | None
    attempts: int
    error_message: str | None
    exception_name: str | None
    pages_total: int | None
    pages_succeeded: int | None


@dataclass(frozen=True, slots=True)
class JobRecord:
    id: UUID
    kind: str
    tenant_id: UUID
    shadow: bool
    parameters: dict[str, Any]
    state: str
    error_message: str | None
    request_id: str
    created_at: datetime
    updated_at: datetime
    files: tuple[FileRecord, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Task:
    """One file, claimed by one worker until ``lease_owner``'s lease lapses."""

    job_id: UUID
    file_id: UUID
    kind: str
    tenant_id: UUID
    shadow: bool
    parameters: dict[str, Any]
    name: str
    object_key: str
    content_type: str | None
    attempts: int
    lease_owner: str
    reservation_id: UUID
    unit: str


def _job(row: asyncpg.Record, files: Sequence[asyncpg.Record] = ()) -> JobRecord:
    return JobRecord(
        row["id"], row["kind"], row["tenant_id"], row["shadow"], json.loads(row["parameters"]),
        row["state"], row["error_message"], row["request_id"], row["created_at"],
        row["updated_at"], tuple(_file(f) for f in files),
    )  # fmt: skip


def _file(row: asyncpg.Record) -> FileRecord:
    return FileRecord(
        row["file_id"], row["position"], row["name"], row["object_key"], row["content_type"],
        row["state"], row["reservation_id"], row["quantity"], row["output_key"],
        row["output_name"], row["attempts"], row["error_message"], row["exception_name"],
        row["pages_total"], row["pages_succeeded"],
    )  # fmt: skip


class JobQueue:
    def __init__(
        self, pool: asyncpg.Pool, *, lease_s: float = 30.0, max_attempts: int = 3,
        limits: QueueLimits | None = None,
    ) -> None:  # fmt: skip
        self.pool = pool
        self.lease_s = lease_s
        self.max_attempts = max_attempts
        self.limits = limits or QueueLimits()

    # --- the API's side ---------------------------------------------------------------

    async def create(
        self, kind: JobKind, *, tenant_id: UUID, parameters: Mapping[str, Any], request_id: str,
        shadow: bool, callback: Mapping[str, Any] | None = None,
    ) -> JobRecord:  # fmt: skip
        row = await self.pool.fetchrow(
            "INSERT INTO legacy.jobs (kind, tenant_id, shadow, parameters, callback, request_id)"
            " VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
            kind, tenant_id, shadow, json.dumps(parameters),
            json.dumps(callback) if callback is not None else None, request_id,
        )  # fmt: skip
        assert row is not None
        return _job(row)

    async def get(self, job_id: UUID, tenant_id: UUID) -> JobRecord | None:
        """The job with its files in upload order; None when it is not this tenant's."""
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT * FROM legacy.jobs WHERE id = $1 AND tenant_id = $2", job_id, tenant_id
            )
            if row is None:
                return None
            files = await conn.fetch(
                "SELECT * FROM legacy.job_files WHERE job_id = $1 ORDER BY position", job_id
            )
        return _job(row, files)

    async def register_files(
        self, job_id: UUID, names: Sequence[str], *, key_of: Callable[[UUID, int], str],
        content_types: Sequence[str | None] | None = None,
    ) -> list[FileRecord]:  # fmt: skip
        """Add files by name to an ``Accepted`` job (asking again for a name returns the same
        file: an upload link may be requested twice). ``key_of(file_id, index in names)``
        names the file's object. Returns the files named, in the order given."""
        types = content_types or [None] * len(names)
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT 1 FROM legacy.jobs WHERE id = $1 FOR UPDATE", job_id)
            position = await conn.fetchval(
                "SELECT coalesce(max(position) + 1, 0) FROM legacy.job_files WHERE job_id = $1",
                job_id,
            )
            records = []
            for index, (name, content_type) in enumerate(zip(names, types, strict=True)):
                existing = await conn.fetchrow(
                    "SELECT * FROM legacy.job_files WHERE job_id = $1 AND name = $2", job_id, name
                )
                if existing is None:
                    file_id = uuid.uuid4()
                    existing = await conn.fetchrow(
                        "INSERT INTO legacy.job_files (job_id, file_id, position, name,"
                        " object_key, content_type) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
                        job_id, file_id, position, name, key_of(file_id, index), content_type,
                    )  # fmt: skip
                    position += 1
                assert existing is not None
                records.append(_file(existing))
            await conn.execute("UPDATE legacy.jobs SET updated_at = now() WHERE id = $1", job_id)
        return records

    async def discard(self, job_id: UUID) -> None:
        """Delete a job that never started (its creating request was refused after it was
        made: the client never learnt its id). Started jobs are never deleted."""
        async with self.pool.acquire() as conn, conn.transaction():
            state = await conn.fetchval(
                "SELECT state FROM legacy.jobs WHERE id = $1 FOR UPDATE", job_id
            )
            if state != "Accepted":
                return
            await conn.execute("DELETE FROM legacy.job_files WHERE job_id = $1", job_id)
            await conn.execute(
                "UPDATE legacy.doc_uploads SET used_by = NULL WHERE used_by = $1", job_id
            )
            await conn.execute("DELETE FROM legacy.jobs WHERE id = $1", job_id)

    async def check_capacity(self, tenant_id: UUID, adding: int) -> None:
        """QueueFull if ``adding`` more files would pass a limit (a cheap first look, before
        any hold is taken; :meth:`enqueue` checks again under the lock)."""
        async with self.pool.acquire() as conn:
            await self._check_capacity(conn, tenant_id, adding)

    async def _check_capacity(self, conn: DbConnection, tenant_id: UUID, adding: int) -> None:
        row = await conn.fetchrow(
            "SELECT count(*) FILTER (WHERE j.tenant_id = $1) AS mine, count(*) AS total"
            " FROM legacy.job_files f JOIN legacy.jobs j ON j.id = f.job_id"
            " WHERE f.state IN ('queued', 'running')",
            tenant_id,
        )
        assert row is not None
        mine, total = row["mine"], row["total"]
        limits = self.limits
        if total + adding > limits.total:
            raise QueueFull(
                503, f"the platform's job queue is full ({total} files waiting or running, limit"
                f" {limits.total}); nothing was queued: start the job again after Retry-After",
                await self._drain_seconds(conn, total),
            )  # fmt: skip
        if mine + adding > limits.per_tenant:
            raise QueueFull(
                429, f"your jobs already have {mine} files waiting or running; {adding} more"
                f" would pass your limit of {limits.per_tenant}; nothing was queued: start the"
                " job again after Retry-After",
                await self._drain_seconds(conn, mine),
            )  # fmt: skip

    async def _drain_seconds(self, conn: DbConnection, waiting: int) -> int:
        """Retry-After: the files ahead times the median run time of recent files over
        the workers,
        clamped to 1..60 s (rfcs/0007 §6)."""
        median = await conn.fetchval(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY run_seconds) FROM ("
            " SELECT run_seconds FROM legacy.job_files WHERE run_seconds IS NOT NULL"
            " ORDER BY updated_at DESC LIMIT 50) recent"
        )
        per_task = float(median) if median is not None else _DEFAULT_TASK_S
        return max(1, min(60, math.ceil(waiting * per_task / max(1, self.limits.workers))))

    async def enqueue(
        self, job_id: UUID, tenant_id: UUID, holds: Mapping[UUID, tuple[UUID, str, Decimal]],
        *, pages: Mapping[UUID, int] | None = None,
    ) -> bool:  # fmt: skip
        """Queue the job's files with their holds (``{file_id: (reservation, unit,
        estimate)}``) and make the job ``Pending``. False when the job had already left
        ``Accepted`` (a concurrent start won: the caller gives its holds back); QueueFull when
        the queue has no room now."""
        async with self.pool.acquire() as conn, conn.transaction():
            state = await conn.fetchval(
                "SELECT state FROM legacy.jobs WHERE id = $1 FOR UPDATE", job_id
            )
            if state != "Accepted":
                return False
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_CAPACITY)
            await self._check_capacity(conn, tenant_id, len(holds))
            for file_id, (reservation_id, unit, estimate) in holds.items():
                await conn.execute(
                    "UPDATE legacy.job_files SET state = 'queued', reservation_id = $3,"
                    " unit = $4, estimate = $5, pages_total = $6, available_at = now(),"
                    " updated_at = now() WHERE job_id = $1 AND file_id = $2",
                    job_id, file_id, reservation_id, unit, estimate,
                    (pages or {}).get(file_id),
                )  # fmt: skip
            await conn.execute(
                "UPDATE legacy.jobs SET state = 'Pending', updated_at = now() WHERE id = $1",
                job_id,
            )
            await conn.execute(f"NOTIFY {QUEUED_CHANNEL}")
        return True

    # --- the worker's side ------------------------------------------------------------

    async def claim(self, owner: str) -> Task | None:
        """Take the next file (or one whose worker's lease lapsed); None when there is none."""
        row = await self.pool.fetchrow(
            """
            WITH next AS (
                SELECT f.job_id, f.file_id FROM legacy.job_files f
                WHERE (f.state = 'queued' AND f.available_at <= now())
                   OR (f.state = 'running' AND f.lease_expires_at < now())
                ORDER BY f.available_at, f.position
                LIMIT 1 FOR UPDATE SKIP LOCKED
            ), taken AS (
                UPDATE legacy.job_files f SET state = 'running', attempts = f.attempts + 1,
                    lease_owner = $1, lease_expires_at = now() + make_interval(secs => $2),
                    updated_at = now()
                FROM next WHERE f.job_id = next.job_id AND f.file_id = next.file_id
                RETURNING f.*
            ), job AS (
                UPDATE legacy.jobs j SET state = 'Running', updated_at = now()
                FROM taken WHERE j.id = taken.job_id AND j.state = 'Pending'
            )
            SELECT taken.*, j.kind, j.tenant_id, j.shadow, j.parameters
            FROM taken JOIN legacy.jobs j ON j.id = taken.job_id
            """,
            owner, self.lease_s,
        )  # fmt: skip
        if row is None:
            return None
        return Task(
            row["job_id"], row["file_id"], row["kind"], row["tenant_id"], row["shadow"],
            json.loads(row["parameters"]), row["name"], row["object_key"], row["content_type"],
            row["attempts"], owner, row["reservation_id"], row["unit"],
        )  # fmt: skip

    async def heartbeat(self, task: Task) -> bool:
        """Renew the lease; False when it is no longer this worker's (it lapsed and another
        worker took the file, or the file is finished)."""
        renewed = await self.pool.fetchval(
            "UPDATE legacy.job_files SET lease_expires_at = now() + make_interval(secs => $4)"
            " WHERE job_id = $1 AND file_id = $2 AND state = 'running' AND lease_owner = $3"
            " RETURNING true",
            task.job_id, task.file_id, task.lease_owner, self.lease_s,
        )  # fmt: skip
        return bool(renewed)

    async def succeed(
        self, task: Task, *, quantity: Decimal, output_key: str, output_name: str,
        run_seconds: float, pages_total: int | None = None,
        pages_succeeded: int | None = None,
    ) -> bool:  # fmt: skip
        """Settle the file's usage, record its output and maybe finish the job, in one
        transaction. False (and nothing written) when the lease is no longer ours."""
        async with self.pool.acquire() as conn, conn.transaction():
            if not await self._still_ours(conn, task):
                return False
            await settle_within(conn, task.reservation_id, {task.unit: quantity})
            await conn.execute(
                "UPDATE legacy.job_files SET state = 'Success', quantity = $3, output_key = $4,"
                " output_name = $5, run_seconds = $6, pages_total = coalesce($7, pages_total),"
                " pages_succeeded = $8, lease_owner = NULL, lease_expires_at = NULL,"
                " error_message = NULL, exception_name = NULL, updated_at = now()"
                " WHERE job_id = $1 AND file_id = $2",
                task.job_id, task.file_id, quantity, output_key, output_name, run_seconds,
                pages_total, pages_succeeded,
            )  # fmt: skip
            await self._finish_job_if_done(conn, task.job_id)
        return True

    async def fail(
        self, task: Task, *, message: str, exception_name: str, input_fault: bool
    ) -> bool:
        """Record a failed attempt. The input's fault ends the file ``API Error`` at once;
        ours sends it back to the queue with backoff (2^attempts s) while attempts remain,
        then ends it ``Internal Server Error``. An ended file's hold is given back. False
        when the lease is no longer ours."""
        async with self.pool.acquire() as conn, conn.transaction():
            if not await self._still_ours(conn, task):
                return False
            if not input_fault and task.attempts < self.max_attempts:
                await conn.execute(
                    "UPDATE legacy.job_files SET state = 'queued', lease_owner = NULL,"
                    " lease_expires_at = NULL, error_message = $3, exception_name = $4,"
                    " available_at = now() + make_interval(secs => $5), updated_at = now()"
                    " WHERE job_id = $1 AND file_id = $2",
                    task.job_id, task.file_id, message, exception_name, 2.0**task.attempts,
                )  # fmt: skip
                return True
            state: FileState = "API Error" if input_fault else "Internal Server Error"
            await conn.execute(
                "UPDATE legacy.job_files SET state = $3, error_message = $4, exception_name = $5,"
                " lease_owner = NULL, lease_expires_at = NULL, updated_at = now()"
                " WHERE job_id = $1 AND file_id = $2",
                task.job_id, task.file_id, state, message, exception_name,
            )  # fmt: skip
            await release_within(conn, task.reservation_id)
            await self._finish_job_if_done(conn, task.job_id)
        return True

    async def _still_ours(self, conn: DbConnection, task: Task) -> bool:
        owner = await conn.fetchval(
            "SELECT lease_owner FROM legacy.job_files WHERE job_id = $1 AND file_id = $2"
            " AND state = 'running' FOR UPDATE",
            task.job_id, task.file_id,
        )  # fmt: skip
        return bool(owner == task.lease_owner)

    async def _finish_job_if_done(self, conn: DbConnection, job_id: UUID) -> None:
        """The job's terminal state once no file is left to work: Completed (all succeeded),
        Failed (none did), PartiallyCompleted (some did)."""
        await conn.execute("SELECT 1 FROM legacy.jobs WHERE id = $1 FOR UPDATE", job_id)
        counts = await conn.fetchrow(
            "SELECT count(*) FILTER (WHERE state = ANY($2::text[])) AS active,"
            " count(*) FILTER (WHERE state = 'Success') AS succeeded, count(*) AS total,"
            " min(error_message) FILTER (WHERE state <> 'Success') AS first_error"
            " FROM legacy.job_files WHERE job_id = $1",
            job_id, list(ACTIVE_FILE_STATES),
        )  # fmt: skip
        assert counts is not None
        if counts["active"]:
            return
        succeeded, total = counts["succeeded"], counts["total"]
        state: JobState = (
            "Completed" if succeeded == total else "Failed" if succeeded == 0
            else "PartiallyCompleted"
        )  # fmt: skip
        error = None if state == "Completed" else counts["first_error"]
        await conn.execute(
            "UPDATE legacy.jobs SET state = $2, error_message = $3, updated_at = now(),"
            " callback_state = CASE WHEN callback IS NULL THEN NULL ELSE 'pending' END,"
            " callback_next_at = CASE WHEN callback IS NULL THEN NULL ELSE now() END"
            " WHERE id = $1 AND state IN ('Pending', 'Running')",
            job_id, state, error,
        )  # fmt: skip

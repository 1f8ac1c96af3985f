"""The worker's own rules, on a real PostgreSQL with a processor of the test's: it wakes when
files are queued (not at its next poll), gives up on a file that killed its workers too often,
and sorts failures into the input's and ours."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import pytest

from legacy.commerce.billing import Billing
from legacy.commerce.tenants import create_tenant
from legacy.jobs.queue import JobQueue, Task, file_request_id
from legacy.jobs.work import TaskRejected, TaskResult
from legacy.jobs.worker import Worker
from legacy.storage import LocalDiskStore

pytestmark = pytest.mark.anyio


async def start(pool, store: LocalDiskStore, queue: JobQueue, files: int = 1) -> UUID:
    async with pool.acquire() as conn:
        tenant_id, key = await create_tenant(conn, f"t{uuid.uuid4().hex[:10]}", Decimal(100))
    job = await queue.create("stt", tenant_id=tenant_id, parameters={}, request_id="r",
                             shadow=False)  # fmt: skip
    records = await queue.register_files(
        job.id, [f"f{n}.wav" for n in range(files)], key_of=lambda fid, _: f"jobs/{fid}"
    )
    holds = {}
    for record in records:
        await store.put_bytes(record.object_key, b"audio")
        auth = await Billing(pool).authorize(
            api_key=key, route="speech-to-text-job", unit="audio_seconds", quantity=Decimal(1),
            request_id=file_request_id(job.id, record.file_id), rate_limit=False,
        )  # fmt: skip
        holds[record.file_id] = (auth.reservation_id, "audio_seconds", Decimal(1))
    assert await queue.enqueue(job.id, tenant_id, holds)
    return job.id


@pytest.fixture
def store(tmp_path: Path) -> LocalDiskStore:
    return LocalDiskStore(tmp_path)


async def run_until(worker: Worker, done: Callable[[], Awaitable[bool]], within: float) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        async with asyncio.timeout(within):
            while not await done():  # noqa: ASYNC110 - the state is in the database
                await asyncio.sleep(0.02)
    finally:
        stop.set()
        await task


async def file_states(pool, job_id: UUID) -> list[str]:
    rows = await pool.fetch("SELECT state FROM legacy.job_files WHERE job_id = $1", job_id)
    return [r["state"] for r in rows]


async def ok(task: Task, data: bytes) -> TaskResult:
    return TaskResult(Decimal(1), b"{}", f"{task.name}.json")


async def test_an_idle_worker_wakes_when_files_are_queued_not_at_its_next_poll(pool, store) -> None:
    queue = JobQueue(pool)
    worker = Worker(queue, store, {"stt": ok}, poll_s=30)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        await asyncio.sleep(0.3)  # both slots found nothing and sleep on a 30 s poll
        queued_at = time.monotonic()
        job_id = await start(pool, store, queue)
        async with asyncio.timeout(5):
            while await file_states(pool, job_id) != ["Success"]:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        assert time.monotonic() - queued_at < 2
    finally:
        stop.set()
        await running


async def test_a_file_that_outlived_its_attempts_ends_without_running_again(pool, store) -> None:
    queue = JobQueue(pool, max_attempts=2)
    job_id = await start(pool, store, queue)
    # Two workers died on it: its attempts are spent and its lease has lapsed.
    await pool.execute(
        "UPDATE legacy.job_files SET state = 'running', attempts = 2, lease_owner = 'dead',"
        " lease_expires_at = now() - interval '1 s'"
    )
    calls = []

    async def never(task: Task, data: bytes) -> TaskResult:
        calls.append(task)
        return await ok(task, data)

    worker = Worker(queue, store, {"stt": never}, poll_s=0.05)
    await run_until(worker, lambda: _ended(pool, job_id), within=10)
    row = await pool.fetchrow("SELECT state, error_message FROM legacy.job_files")
    assert row["state"] == "Internal Server Error"
    assert "stopped 2 times" in row["error_message"]
    assert calls == []
    assert await pool.fetchval("SELECT reserved FROM legacy.wallets") == 0


async def test_the_inputs_fault_is_not_retried_and_ours_is(pool, store) -> None:
    queue = JobQueue(pool, max_attempts=2)
    job_id = await start(pool, store, queue, files=2)
    attempts: dict[str, int] = {}

    async def flaky(task: Task, data: bytes) -> TaskResult:
        attempts[task.name] = attempts.get(task.name, 0) + 1
        if task.name == "f0.wav":
            raise TaskRejected("not audio")
        if attempts[task.name] == 1:
            raise ConnectionError("the model server went away")
        return await ok(task, data)

    await pool.execute("UPDATE legacy.job_files SET available_at = now()")
    worker = Worker(queue, store, {"stt": flaky}, poll_s=0.05)

    async def finished() -> bool:
        # The retry waits 2 s of backoff; let it run as soon as it is queued again.
        await pool.execute(
            "UPDATE legacy.job_files SET available_at = now() WHERE state = 'queued'"
        )
        return await _ended(pool, job_id)

    await run_until(worker, finished, within=15)
    assert attempts == {"f0.wav": 1, "f1.wav": 2}
    rows = await pool.fetch("SELECT name, state FROM legacy.job_files ORDER BY name")
    assert [(r["name"], r["state"]) for r in rows] == [
        ("f0.wav", "API Error"), ("f1.wav", "Success"),
    ]  # fmt: skip
    assert await pool.fetchval("SELECT state FROM legacy.jobs") == "PartiallyCompleted"
    assert worker.stats.retried == 1


async def _ended(pool, job_id: UUID) -> bool:
    state = await pool.fetchval("SELECT state FROM legacy.jobs WHERE id = $1", job_id)
    return state in ("Completed", "PartiallyCompleted", "Failed")

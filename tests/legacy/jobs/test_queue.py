"""The job queue on a real PostgreSQL: claims, leases, retries, once-only billing, back pressure
(rfcs/0007 §3 to §6)."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

import pytest

from legacy.commerce.billing import Billing
from legacy.commerce.tenants import create_tenant
from legacy.jobs.queue import JobQueue, QueueFull, QueueLimits, Task, file_request_id

pytestmark = pytest.mark.anyio

SECONDS = Decimal("2.500")  # each file's estimate and usage
PRICE = Decimal("0.0080")  # speech-to-text-job, per audio second


@dataclass
class Tenant:
    id: UUID
    key: str


@pytest.fixture
async def tenant(pool) -> Tenant:
    async with pool.acquire() as conn:
        tenant_id, key = await create_tenant(conn, f"t{uuid.uuid4().hex[:10]}", Decimal(100))
    return Tenant(tenant_id, key)


async def queued_job(
    queue: JobQueue, billing: Billing, tenant: Tenant, files: int = 1
) -> tuple[UUID, list[UUID]]:
    job = await queue.create(
        "stt", tenant_id=tenant.id, parameters={}, request_id=f"r{uuid.uuid4().hex}", shadow=False
    )
    records = await queue.register_files(
        job.id, [f"f{n}.wav" for n in range(files)], key_of=lambda fid, _: f"jobs/{job.id}/{fid}"
    )
    holds = {}
    for record in records:
        auth = await billing.authorize(
            api_key=tenant.key, route="speech-to-text-job", unit="audio_seconds",
            quantity=SECONDS, request_id=file_request_id(job.id, record.file_id),
            rate_limit=False,
        )  # fmt: skip
        holds[record.file_id] = (auth.reservation_id, "audio_seconds", SECONDS)
    assert await queue.enqueue(job.id, tenant.id, holds)
    return job.id, [r.file_id for r in records]


async def wallet(pool, tenant: Tenant) -> tuple[Decimal, Decimal]:
    row = await pool.fetchrow(
        "SELECT balance, reserved FROM legacy.wallets WHERE tenant_id = $1", tenant.id
    )
    return row["balance"], row["reserved"]


async def ledger_rows(pool, job_id: UUID) -> list[str]:
    rows = await pool.fetch(
        "SELECT request_id FROM legacy.ledger WHERE request_id LIKE $1", f"job:{job_id}:%"
    )
    return sorted(r["request_id"] for r in rows)


async def job_state(pool, job_id: UUID) -> str:
    return str(await pool.fetchval("SELECT state FROM legacy.jobs WHERE id = $1", job_id))


async def expire_lease(pool, task: Task) -> None:
    await pool.execute(
        "UPDATE legacy.job_files SET lease_expires_at = now() - interval '1 second'"
        " WHERE job_id = $1 AND file_id = $2",
        task.job_id, task.file_id,
    )  # fmt: skip


async def succeed(queue: JobQueue, task: Task) -> bool:
    return await queue.succeed(
        task, quantity=SECONDS, output_key=f"out/{task.file_id}", output_name="o.json",
        run_seconds=0.1,
    )  # fmt: skip


async def test_files_are_claimed_once_each_by_concurrent_workers(pool, tenant) -> None:
    queue, billing = JobQueue(pool), Billing(pool)
    _, files = await queued_job(queue, billing, tenant, files=12)
    taken: list[UUID] = []

    async def worker(n: int) -> None:
        while (task := await queue.claim(f"w{n}")) is not None:
            taken.append(task.file_id)
            await asyncio.sleep(0)

    await asyncio.gather(*(worker(n) for n in range(4)))
    assert sorted(taken) == sorted(files)


async def test_the_first_claim_makes_the_job_running_and_the_last_file_finishes_it(
    pool, tenant
) -> None:
    queue, billing = JobQueue(pool), Billing(pool)
    job_id, _ = await queued_job(queue, billing, tenant, files=2)
    assert await job_state(pool, job_id) == "Pending"
    first = await queue.claim("w")
    assert first is not None
    assert await job_state(pool, job_id) == "Running"
    assert await succeed(queue, first)
    assert await job_state(pool, job_id) == "Running"
    second = await queue.claim("w")
    assert second is not None
    assert await succeed(queue, second)
    assert await job_state(pool, job_id) == "Completed"
    assert await queue.claim("w") is None


async def test_a_file_is_billed_once_even_when_finished_twice(pool, tenant) -> None:
    queue, billing = JobQueue(pool), Billing(pool)
    job_id, (file_id,) = await queued_job(queue, billing, tenant)
    assert await wallet(pool, tenant) == (Decimal(100), SECONDS * PRICE)
    task = await queue.claim("w")
    assert task is not None
    assert await succeed(queue, task)
    assert not await succeed(queue, task)  # the file is done: a replay changes nothing
    assert await ledger_rows(pool, job_id) == [file_request_id(job_id, file_id)]
    assert await wallet(pool, tenant) == (Decimal(100) - SECONDS * PRICE, Decimal(0))


async def test_a_lapsed_lease_goes_to_another_worker_and_the_first_result_is_refused(
    pool, tenant
) -> None:
    queue, billing = JobQueue(pool), Billing(pool)
    job_id, _ = await queued_job(queue, billing, tenant)
    stalled = await queue.claim("stalled")
    assert stalled is not None
    assert await queue.claim("other") is None  # leased: nobody else may take it
    await expire_lease(pool, stalled)
    retaken = await queue.claim("other")
    assert retaken is not None
    assert retaken.file_id == stalled.file_id
    assert retaken.attempts == 2
    assert not await queue.heartbeat(stalled)
    assert not await succeed(queue, stalled)
    assert await queue.heartbeat(retaken)
    assert await succeed(queue, retaken)
    assert len(await ledger_rows(pool, job_id)) == 1


async def test_the_inputs_fault_ends_the_file_at_once_and_gives_the_hold_back(pool, tenant) -> None:
    queue, billing = JobQueue(pool), Billing(pool)
    job_id, _ = await queued_job(queue, billing, tenant)
    task = await queue.claim("w")
    assert task is not None
    assert await queue.fail(task, message="not audio", exception_name="X", input_fault=True)
    row = await pool.fetchrow("SELECT state, error_message FROM legacy.job_files")
    assert (row["state"], row["error_message"]) == ("API Error", "not audio")
    assert await job_state(pool, job_id) == "Failed"
    assert await wallet(pool, tenant) == (Decimal(100), Decimal(0))
    assert await ledger_rows(pool, job_id) == []


async def test_our_failures_are_retried_with_backoff_then_end_the_file(pool, tenant) -> None:
    queue, billing = JobQueue(pool, max_attempts=2), Billing(pool)
    job_id, _ = await queued_job(queue, billing, tenant)
    task = await queue.claim("w")
    assert task is not None
    assert await queue.fail(task, message="model down", exception_name="E", input_fault=False)
    assert await queue.claim("w") is None  # backing off: 2^1 s
    await pool.execute("UPDATE legacy.job_files SET available_at = now()")
    again = await queue.claim("w")
    assert again is not None
    assert again.attempts == 2
    assert await queue.fail(again, message="model down", exception_name="E", input_fault=False)
    state = await pool.fetchval("SELECT state FROM legacy.job_files")
    assert state == "Internal Server Error"
    assert await job_state(pool, job_id) == "Failed"
    assert await wallet(pool, tenant) == (Decimal(100), Decimal(0))


async def test_some_files_failing_make_the_job_partially_completed(pool, tenant) -> None:
    queue, billing = JobQueue(pool), Billing(pool)
    job_id, _ = await queued_job(queue, billing, tenant, files=2)
    good, bad = await queue.claim("w"), await queue.claim("w")
    assert good is not None
    assert bad is not None
    assert await succeed(queue, good)
    assert await queue.fail(bad, message="no", exception_name="X", input_fault=True)
    assert await job_state(pool, job_id) == "PartiallyCompleted"
    assert await wallet(pool, tenant) == (Decimal(100) - SECONDS * PRICE, Decimal(0))


async def test_a_full_queue_refuses_new_work_and_keeps_what_it_has(pool, tenant) -> None:
    queue = JobQueue(pool, limits=QueueLimits(per_tenant=2, total=3, workers=1))
    billing = Billing(pool)
    first, _ = await queued_job(queue, billing, tenant, files=2)
    with pytest.raises(QueueFull) as mine:
        await queue.check_capacity(tenant.id, 1)
    assert mine.value.status == 429
    assert 1 <= mine.value.retry_after_s <= 60
    assert "limit of 2" in str(mine.value)
    async with pool.acquire() as conn:
        other_id, other_key = await create_tenant(conn, "other", Decimal(100))
    other = Tenant(other_id, other_key)
    await queued_job(queue, billing, other, files=1)
    with pytest.raises(QueueFull) as everyone:
        await queue.check_capacity(other.id, 1)
    assert everyone.value.status == 503
    # enqueue checks again under its lock: a job that got past the first look is refused
    # there, stays Accepted, and the queue still holds every file it had.
    job = await queue.create("stt", tenant_id=other.id, parameters={}, request_id="r", shadow=False)
    (record,) = await queue.register_files(job.id, ["x.wav"], key_of=lambda fid, _: f"k/{fid}")
    auth = await billing.authorize(
        api_key=other.key, route="speech-to-text-job", unit="audio_seconds", quantity=SECONDS,
        request_id=file_request_id(job.id, record.file_id), rate_limit=False,
    )  # fmt: skip
    holds = {record.file_id: (auth.reservation_id, "audio_seconds", SECONDS)}
    with pytest.raises(QueueFull):
        await queue.enqueue(job.id, other.id, holds)
    assert await job_state(pool, job.id) == "Accepted"
    queued = await pool.fetchval("SELECT count(*) FROM legacy.job_files WHERE state = 'queued'")
    assert queued == 3
    assert await job_state(pool, first) == "Pending"


async def test_retry_after_follows_the_median_run_time(pool, tenant) -> None:
    queue = JobQueue(pool, limits=QueueLimits(per_tenant=4, total=100, workers=2))
    billing = Billing(pool)
    await queued_job(queue, billing, tenant, files=4)
    await pool.execute("UPDATE legacy.job_files SET run_seconds = 5")  # as if measured
    with pytest.raises(QueueFull) as full:
        await queue.check_capacity(tenant.id, 1)
    assert full.value.retry_after_s == 10  # 4 files x 5 s / 2 workers

"""Job callbacks on a real PostgreSQL and a real HTTP receiver: a finished job is POSTed its
status once, with the caller's token; a receiver that fails is tried again; one that never
answers is given up on, with the reason kept."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from banyan.launcher import claim_port
from legacy.commerce.billing import Billing
from legacy.commerce.tenants import create_tenant
from legacy.jobs.callbacks import CallbackSender
from legacy.jobs.queue import JobQueue, Task, file_request_id
from legacy.jobs.work import TaskResult
from legacy.jobs.worker import Worker
from legacy.storage import LocalDiskStore
from tests.legacy.servers import serving

pytestmark = pytest.mark.anyio


@dataclass
class Receiver:
    url: str
    calls: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)
    failures_first: int = 0


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    app = FastAPI()
    box: dict[str, Receiver] = {}

    @app.post("/hook")
    async def hook(request: Request) -> Response:
        got = box["receiver"]
        got.calls.append((dict(request.headers), await request.json()))
        if len(got.calls) <= got.failures_first:
            return Response(status_code=500)
        return Response(status_code=204)

    async with serving(app) as port:
        box["receiver"] = Receiver(f"http://127.0.0.1:{port}/hook")
        yield box["receiver"]


async def finished_job(pool, tmp_path: Path, callback: dict[str, Any]) -> UUID:
    """A one-file job with ``callback``, worked to its end by a worker with its sender."""
    queue = JobQueue(pool)
    store = LocalDiskStore(tmp_path)
    async with pool.acquire() as conn:
        tenant_id, key = await create_tenant(conn, f"t{uuid.uuid4().hex[:10]}", Decimal(10))
    job = await queue.create("stt", tenant_id=tenant_id, parameters={}, request_id="r",
                             shadow=False, callback=callback)  # fmt: skip
    (record,) = await queue.register_files(job.id, ["a.wav"], key_of=lambda fid, _: f"j/{fid}")
    await store.put_bytes(record.object_key, b"audio")
    auth = await Billing(pool).authorize(
        api_key=key, route="speech-to-text-job", unit="audio_seconds", quantity=Decimal(1),
        request_id=file_request_id(job.id, record.file_id), rate_limit=False,
    )  # fmt: skip
    assert await queue.enqueue(
        job.id, tenant_id, {record.file_id: (auth.reservation_id, "audio_seconds", Decimal(1))}
    )
    return job.id


async def ok(task: Task, data: bytes) -> TaskResult:
    return TaskResult(Decimal(1), b"{}", f"{task.name}.json")


async def run_until_settled(pool, sender: CallbackSender, job_id: UUID, tmp_path: Path) -> str:
    """Run a worker (with ``sender``) until the job's callback is delivered or given up."""
    worker = Worker(JobQueue(pool), LocalDiskStore(tmp_path), {"stt": ok}, poll_s=0.05,
                    callbacks=sender)  # fmt: skip
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        async with asyncio.timeout(20):
            while (state := await _callback_state(pool, job_id)) not in ("delivered", "failed"):  # noqa: ASYNC110 - the state is in the database
                await asyncio.sleep(0.02)
    finally:
        stop.set()
        await running
    return str(state)


async def _callback_state(pool, job_id: UUID) -> str | None:
    state = await pool.fetchval("SELECT callback_state FROM legacy.jobs WHERE id = $1", job_id)
    return None if state is None else str(state)


async def test_a_finished_job_is_posted_its_status_once_with_the_token(
    pool, receiver: Receiver, tmp_path: Path
) -> None:
    job_id = await finished_job(pool, tmp_path, {"url": receiver.url, "auth_token": "s3cret"})
    async with httpx.AsyncClient() as client:
        sender = CallbackSender(JobQueue(pool), client, poll_s=0.05)
        assert await run_until_settled(pool, sender, job_id, tmp_path) == "delivered"
    ((headers, body),) = receiver.calls
    assert headers["authorization"] == "Bearer s3cret"
    assert body["job_id"] == str(job_id)
    assert body["job_state"] == "Completed"
    assert body["successful_files_count"] == 1
    assert body["job_details"][0]["outputs"][0]["file_name"] == "a.wav.json"


async def test_a_receiver_that_fails_is_tried_again(
    pool, receiver: Receiver, tmp_path: Path
) -> None:
    receiver.failures_first = 2
    job_id = await finished_job(pool, tmp_path, {"url": receiver.url})
    async with httpx.AsyncClient() as client:
        sender = CallbackSender(JobQueue(pool), client, poll_s=0.05, retry_s=0.05)
        assert await run_until_settled(pool, sender, job_id, tmp_path) == "delivered"
    assert len(receiver.calls) == 3
    assert "authorization" not in receiver.calls[0][0]  # no token given, none sent
    attempts = await pool.fetchval("SELECT callback_attempts FROM legacy.jobs")
    assert attempts == 3


async def test_a_receiver_that_never_answers_is_given_up_with_the_reason(
    pool, tmp_path: Path
) -> None:
    nowhere = f"http://127.0.0.1:{claim_port('test', '127.0.0.1', 0, hint='')}/hook"
    job_id = await finished_job(pool, tmp_path, {"url": nowhere})
    async with httpx.AsyncClient() as client:
        sender = CallbackSender(JobQueue(pool), client, poll_s=0.05, retry_s=0.05,
                                max_attempts=2)  # fmt: skip
        assert await run_until_settled(pool, sender, job_id, tmp_path) == "failed"
    row = await pool.fetchrow("SELECT callback_attempts, callback_error, state FROM legacy.jobs")
    assert row["callback_attempts"] == 2
    assert "could not be reached" in row["callback_error"]
    assert row["state"] == "Completed"  # the job itself is done whatever its callback did

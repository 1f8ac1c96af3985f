"""The worker as a process, against a real inference server whose recogniser takes 2 s a call:
killed mid-file it loses nothing and bills nothing twice; and a full queue refuses at the door
without losing a job (issue 8's acceptance; rfcs/0007 §4, §6, §8)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx
import pytest

from banyan.launcher import ChildProcess, ProcessSpec, claim_port, http_probe, wait_until_ready
from legacy.app import create_app
from legacy.commerce.pricing import charge
from legacy.commerce.tenants import create_tenant
from legacy.jobs.queue import JobQueue, QueueLimits
from legacy.jobs.work import SpeechJobProcessor
from legacy.jobs.worker import Worker
from legacy.storage import LocalDiskStore

pytestmark = pytest.mark.anyio

RECOGNITION_MS = 2000
LEASE_S = 2.0


def start_child(name: str, argv: list[str], log_dir: Path, health: str, env: dict[str, str]):
    child = ChildProcess(
        ProcessSpec(name=name, argv=argv, log_path=log_dir / f"{name}.log", env=env)
    )
    child.start()
    return child, wait_until_ready(child, http_probe(health), within=60)


@pytest.fixture(scope="module")
def slow_inference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An inference server whose speech recognition takes RECOGNITION_MS per call, so a
    worker is reliably caught mid-file."""
    work = tmp_path_factory.mktemp("slow-inference")
    config = work / "models.yaml"
    config.write_text(
        f"asr: {{latency: {{fixed_ms: {RECOGNITION_MS}, per_unit_ms: 0, jitter_ms: 0}}}}\n"
    )
    port = claim_port("test", "127.0.0.1", 0, hint="")
    url = f"http://127.0.0.1:{port}"
    child, ready = start_child(
        "inference",
        [sys.executable, "-m", "banyan", "inference", "--port", str(port), "--config", str(config)],
        work, f"{url}/healthz", dict(os.environ),
    )  # fmt: skip
    try:
        asyncio.run(ready)
        yield url
    finally:
        asyncio.run(child.stop(grace=10))


class Lab:
    """legacy in-process (its API over ASGI) on the test's database and an object root."""

    def __init__(self, app, http: httpx.AsyncClient, pool: asyncpg.Pool, root: Path, key: str):
        self.app, self.http, self.pool, self.root, self.key = app, http, pool, root, key

    async def job_with(self, files: dict[str, bytes]) -> str:
        headers = {"api-subscription-key": self.key}
        made = await self.http.post(
            "/speech-to-text/job/v1", json={"job_parameters": {"language_code": "hi-IN"}},
            headers=headers,
        )  # fmt: skip
        job_id = made.json()["job_id"]
        links = await self.http.post(
            "/speech-to-text/job/v1/upload-files",
            json={"job_id": job_id, "files": list(files)}, headers=headers,
        )  # fmt: skip
        for name, data in files.items():
            url = links.json()["upload_urls"][name]["file_url"]
            put = await self.http.put(url, content=data, headers={"x-ms-blob-type": "BlockBlob"})
            assert put.status_code == 201
        return str(job_id)

    async def start(self, job_id: str) -> httpx.Response:
        return await self.http.post(
            f"/speech-to-text/job/v1/{job_id}/start", headers={"api-subscription-key": self.key}
        )

    async def status(self, job_id: str) -> dict:
        response = await self.http.get(
            f"/speech-to-text/job/v1/{job_id}/status", headers={"api-subscription-key": self.key}
        )
        return dict(response.json())

    async def until(self, job_id: str, states: set[str], within: float = 60) -> dict:
        async with asyncio.timeout(within):
            while (status := await self.status(job_id))["job_state"] not in states:  # noqa: ASYNC110 - polled as a client polls
                await asyncio.sleep(0.1)
        return status

    async def ledger(self, job_id: str) -> list[tuple[str, Decimal]]:
        rows = await self.pool.fetch(
            "SELECT request_id, quantity FROM legacy.ledger WHERE request_id LIKE $1"
            " ORDER BY request_id",
            f"job:{job_id}:%",
        )
        return [(r["request_id"], r["quantity"]) for r in rows]


@pytest.fixture
async def lab(database_url, redis_url, tmp_path: Path) -> AsyncIterator[Lab]:
    root = tmp_path / "objects"
    limits = QueueLimits(per_tenant=2, total=50, workers=1)
    app = create_app(
        database_url=database_url, redis_url=redis_url, object_root=root,
        storage_secret="s", queue_limits=limits,
    )  # fmt: skip
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=5)
    async with pool.acquire() as conn:
        _, key = await create_tenant(conn, f"t{uuid.uuid4().hex[:10]}", Decimal(100))
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://legacy") as http:
                yield Lab(app, http, pool, root, key)
    finally:
        await pool.close()


def worker_process(database_url: str, inference: str, root: Path, log_dir: Path, name: str):
    port = claim_port("test", "127.0.0.1", 0, hint="")
    env = {**os.environ, "BANYAN_INFERENCE_URL": inference, "BANYAN_OBJECT_ROOT": str(root)}
    return start_child(
        name,
        [sys.executable, "-m", "banyan", "worker", "--port", str(port), "--database-url",
         database_url, "--lease-s", str(LEASE_S), "--concurrency", "1"],
        log_dir, f"http://127.0.0.1:{port}/healthz", env,
    )  # fmt: skip


async def test_a_worker_killed_mid_file_leaves_it_to_the_next_and_it_is_billed_once(
    lab: Lab, database_url, slow_inference, speech, tmp_path: Path
) -> None:
    files = {"one.wav": speech.wav(), "two.wav": speech.wav()}
    job_id = await lab.job_with(files)
    assert (await lab.start(job_id)).status_code == 200

    first, ready = worker_process(database_url, slow_inference, lab.root, tmp_path, "worker-1")
    await ready
    async with asyncio.timeout(30):
        while not await lab.pool.fetchval(  # noqa: ASYNC110 - the worker is another process
            "SELECT count(*) FROM legacy.job_files WHERE state = 'running'"
        ):
            await asyncio.sleep(0.05)
    await asyncio.sleep(RECOGNITION_MS / 4000)  # inside the recogniser's call
    os.kill(first.pid, signal.SIGKILL)
    await first.stop(grace=5)
    assert await lab.ledger(job_id) == []  # nothing settled: the kill came first

    second, ready = worker_process(database_url, slow_inference, lab.root, tmp_path, "worker-2")
    try:
        await ready
        final = await lab.until(job_id, {"Completed", "Failed"})
    finally:
        await second.stop(grace=10)
    assert final["job_state"] == "Completed", final
    assert final["successful_files_count"] == 2
    attempts = await lab.pool.fetch("SELECT name, attempts FROM legacy.job_files ORDER BY name")
    assert {r["name"]: r["attempts"] for r in attempts}["one.wav"] == 2  # the killed one
    ledger = await lab.ledger(job_id)
    assert len(ledger) == 2  # one row per file, never two for the retried one
    seconds = Decimal(len(speech.pcm) // 2) / 16000
    assert all(abs(quantity - seconds) < Decimal("0.002") for _, quantity in ledger)
    wallet = await lab.pool.fetchrow("SELECT balance, reserved FROM legacy.wallets")
    charged = sum(charge(q, Decimal("0.0080")) for _, q in ledger)
    assert wallet["reserved"] == 0
    assert wallet["balance"] == Decimal(100) - charged


async def test_a_full_queue_refuses_with_retry_after_and_loses_no_job(
    lab: Lab, slow_inference, speech
) -> None:
    queued = await lab.job_with({"a.wav": speech.wav(), "b.wav": speech.wav()})
    assert (await lab.start(queued)).status_code == 200
    waiting = await lab.job_with({"c.wav": speech.wav()})
    refused = await lab.start(waiting)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    error = refused.json()["error"]
    assert error["code"] == "rate_limit_exceeded_error"
    assert "nothing was queued" in error["message"]
    assert (await lab.status(waiting))["job_state"] == "Accepted"
    reserved = await lab.pool.fetchval("SELECT reserved FROM legacy.wallets")
    assert reserved == 2 * charge(_seconds(speech), Decimal("0.0080"))  # the queued job's holds

    client = httpx.AsyncClient(timeout=30)
    worker = Worker(
        JobQueue(lab.pool, lease_s=5), LocalDiskStore(lab.root),
        {"stt": SpeechJobProcessor(client, slow_inference)}, concurrency=2, poll_s=0.05,
    )  # fmt: skip
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        assert (await lab.until(queued, {"Completed"}))["successful_files_count"] == 2
        assert (await lab.start(waiting)).status_code == 200  # the same call, later
        assert (await lab.until(waiting, {"Completed"}))["successful_files_count"] == 1
    finally:
        stop.set()
        await running
        await client.aclose()
    assert len(await lab.ledger(queued)) == 2
    assert len(await lab.ledger(waiting)) == 1


def _seconds(speech) -> Decimal:
    return (Decimal(len(speech.pcm) // 2) / 16000).quantize(Decimal("0.001"))

"""The worker process: a bounded pool of slots, each working one claimed file at a time.

``banyan worker`` runs :func:`create_worker_app`: the pool, the sender of finished jobs'
callbacks (``callbacks.py``), and a small HTTP listener for the lab's health probe
(``/healthz``: slots, busy slots, files done, callbacks sent). Each slot loops claim →
work → finish; while it works, a heartbeat renews the file's lease every third of the lease,
and if the lease is lost (the file was taken over after a stall) the work is cancelled and its
result dropped: the new owner's result is the one that counts.

Stopping (SIGTERM, Ctrl-C): slots stop claiming and running files get ``grace_s`` to finish;
what is still running after that is abandoned, and its lease lapses so another worker takes
it. A SIGKILL is the same without the grace: the lease lapses (rfcs/0007 §8).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from banyan.logs import get_logger
from legacy.jobs.callbacks import CallbackSender
from legacy.jobs.queue import QUEUED_CHANNEL, JobQueue, Task
from legacy.jobs.work import (
    DocumentJobProcessor,
    Processor,
    SpeechJobProcessor,
    TaskRejected,
    output_key,
)
from legacy.storage import LocalDiskStore, ObjectMissing, ObjectStore

__all__ = ["Worker", "WorkerStats", "create_worker_app"]

_log = get_logger(__name__)


@dataclass(slots=True)
class WorkerStats:
    busy: int = 0
    succeeded: int = 0
    failed: int = 0
    retried: int = 0
    lost_leases: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


class Worker:
    def __init__(
        self, queue: JobQueue, store: ObjectStore, processors: Mapping[str, Processor], *,
        concurrency: int = 2, poll_s: float = 2.0, grace_s: float = 10.0,
        callbacks: CallbackSender | None = None,
    ) -> None:  # fmt: skip
        self.queue = queue
        self.store = store
        self.processors = processors
        self.concurrency = concurrency
        self.poll_s = poll_s
        self.grace_s = grace_s
        self.callbacks = callbacks
        self.stats = WorkerStats()
        self._wake = asyncio.Event()
        # One id per process and slot: a lease names exactly who holds it.
        self._owner = f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    async def run(self, stop: asyncio.Event) -> None:
        slots = [asyncio.create_task(self._slot(n, stop)) for n in range(self.concurrency)]
        if self.callbacks is not None:
            slots.append(asyncio.create_task(self.callbacks.run(stop)))
        async with self._listening():
            try:
                await asyncio.gather(*slots)
            finally:
                for slot in slots:
                    slot.cancel()
                await asyncio.gather(*slots, return_exceptions=True)

    @contextlib.asynccontextmanager
    async def _listening(self) -> AsyncIterator[None]:
        """Wake idle slots when files are queued (LISTEN); without it they still poll."""
        try:
            conn = await self.queue.pool.acquire()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            _log.warning("cannot listen for queued files; polling only", error=str(exc))
            yield
            return

        def wake(*_: object) -> None:
            self._wake.set()

        try:
            await conn.add_listener(QUEUED_CHANNEL, wake)
            yield
        finally:
            with contextlib.suppress(Exception):
                await conn.remove_listener(QUEUED_CHANNEL, wake)
            await self.queue.pool.release(conn)

    async def _slot(self, n: int, stop: asyncio.Event) -> None:
        owner = f"{self._owner}/{n}"
        while not stop.is_set():
            # Cleared before looking, so a NOTIFY that comes while we look is not lost.
            self._wake.clear()
            try:
                task = await self.queue.claim(owner)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                _log.warning("could not claim a file", error=str(exc))
                task = None
            if task is None:
                await self._idle(stop)
                continue
            work = asyncio.create_task(self._work(task))
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait({work, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not work.done():  # stopping: give the file its grace, then let its lease lapse
                await asyncio.wait({work}, timeout=self.grace_s)
                work.cancel()
            stopping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await work

    async def _idle(self, stop: asyncio.Event) -> None:
        """Until files are queued (a NOTIFY), the poll interval passes, or a stop."""
        waits = {asyncio.create_task(stop.wait()), asyncio.create_task(self._wake.wait())}
        try:
            await asyncio.wait(waits, timeout=self.poll_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()

    async def _work(self, task: Task) -> None:
        log = _log.bind(job_id=str(task.job_id), file_id=str(task.file_id), attempt=task.attempts)
        self.stats.busy += 1
        try:
            if task.attempts > self.queue.max_attempts:
                await self.queue.fail(
                    task, message=f"processing this file stopped {task.attempts - 1} times"
                    " without finishing (the worker died or timed out)",
                    exception_name="WorkerLost", input_fault=False,
                )  # fmt: skip
                self.stats.failed += 1
                return
            heartbeat = asyncio.create_task(self._heartbeat(task))
            process = asyncio.create_task(self._process(task))
            done, _ = await asyncio.wait({heartbeat, process}, return_when=asyncio.FIRST_COMPLETED)
            if process not in done:  # the lease is gone: another worker owns the file now
                process.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await process
                self.stats.lost_leases += 1
                log.warning("lease lost; result dropped")
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
        finally:
            self.stats.busy -= 1

    async def _heartbeat(self, task: Task) -> None:
        """Returns only when the lease could not be renewed."""
        while True:
            await asyncio.sleep(self.queue.lease_s / 3)
            try:
                if not await self.queue.heartbeat(task):
                    return
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                _log.warning("heartbeat failed; will retry", error=str(exc))

    async def _process(self, task: Task) -> None:
        bound = _log.bind(job_id=str(task.job_id), file_id=str(task.file_id))
        started = time.monotonic()
        processor = self.processors.get(task.kind)
        try:
            if processor is None:
                raise RuntimeError(f"this worker has no processor for {task.kind} jobs")
            try:
                data = await self.store.read(task.object_key)
            except ObjectMissing:
                raise TaskRejected(f"{task.name} was not uploaded (or was deleted)") from None
            result = await processor(task, data)
            key = output_key(task)
            await self.store.put_bytes(key, result.output)
            finished = await self.queue.succeed(
                task, quantity=result.quantity, output_key=key, output_name=result.output_name,
                run_seconds=time.monotonic() - started, pages_total=result.pages_total,
                pages_succeeded=result.pages_succeeded,
            )  # fmt: skip
        except TaskRejected as exc:
            await self.queue.fail(
                task, message=str(exc), exception_name="TaskRejected", input_fault=True
            )
            self.stats.failed += 1
            bound.info("file rejected", reason=str(exc))
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            retried = task.attempts < self.queue.max_attempts
            await self.queue.fail(
                task, message=_public_message(exc), exception_name=type(exc).__name__,
                input_fault=False,
            )  # fmt: skip
            if retried:
                self.stats.retried += 1
            else:
                self.stats.failed += 1
            bound.warning("file failed", error=repr(exc), retried=retried)
            return
        if finished:
            self.stats.succeeded += 1
            self.stats.by_kind[task.kind] = self.stats.by_kind.get(task.kind, 0) + 1
            bound.info("file done", quantity=str(result.quantity))
        else:
            self.stats.lost_leases += 1


def _public_message(exc: Exception) -> str:
    """What the job's status may say about a failure of ours: its kind, never a traceback."""
    text = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    return f"processing failed ({type(exc).__name__}: {text}); it was retried"


def create_worker_app(
    *, database_url: str, inference_url: str | None, object_root: Path, concurrency: int = 2,
    lease_s: float = 30.0, processors: Mapping[str, Processor] | None = None,
) -> Starlette:  # fmt: skip
    """The worker as an ASGI app: its lifespan runs the pool; ``/healthz`` reports it."""
    state: dict[str, Worker] = {}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(database_url, min_size=1, max_size=concurrency + 2)
        client = httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=5.0))
        chosen = dict(processors or {})
        if inference_url and not processors:
            speech = SpeechJobProcessor(client, inference_url.rstrip("/"))
            documents = DocumentJobProcessor(client, inference_url.rstrip("/"))
            chosen.update({
                "stt": speech, "stt-translate": speech,
                "doc-ai-digitise": documents, "doc-ai-extract": documents,
            })  # fmt: skip
        queue = JobQueue(pool, lease_s=lease_s)
        worker = Worker(
            queue, LocalDiskStore(object_root), chosen, concurrency=concurrency,
            callbacks=CallbackSender(queue, client),
        )  # fmt: skip
        state["worker"] = worker
        stop = asyncio.Event()
        running = asyncio.create_task(worker.run(stop))
        _log.info("worker started", concurrency=concurrency, kinds=sorted(chosen))
        try:
            yield
        finally:
            stop.set()
            await running
            await client.aclose()
            await pool.close()

    async def healthz(request: Request) -> JSONResponse:
        worker = state["worker"]
        stats = worker.stats
        callbacks = worker.callbacks
        return JSONResponse({
            "status": "ok", "slots": worker.concurrency, "busy": stats.busy,
            "succeeded": stats.succeeded, "failed": stats.failed, "retried": stats.retried,
            "lost_leases": stats.lost_leases, "kinds": sorted(worker.processors),
            "callbacks_delivered": callbacks.delivered if callbacks else 0,
            "callbacks_given_up": callbacks.failed if callbacks else 0,
        })  # fmt: skip

    return Starlette(routes=[Route("/healthz", healthz)], lifespan=lifespan)

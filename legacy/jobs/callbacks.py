"""Job callbacks: a finished job created with ``callback: {url, auth_token?}`` is POSTed to it.

The body is the job's status (what ``GET .../status`` answers, ``status.py``); the token, when
given, comes as ``Authorization: Bearer <auth_token>`` so the receiver can tell the call is
ours. The receiver has 30 s to answer 2xx. Delivery is **at least once and durable**: the job's
terminal transaction marks its callback ``pending`` (``queue.py``), and a sender in each
worker process takes due callbacks with SKIP LOCKED, as slots take files; a failed delivery
(no answer, a non-2xx) is retried with backoff (``retry_s`` times 2^attempt) and given up after
``max_attempts``, its last error kept on the job. A worker that dies mid-delivery leaves the
callback to be taken again after ``claim_s``: a receiver may see a job twice, never zero times
while the platform runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Final
from uuid import UUID

import asyncpg
import httpx

from banyan.logs import get_logger
from legacy.jobs.queue import JobQueue
from legacy.jobs.status import stt_status

__all__ = ["CallbackSender"]

_log = get_logger(__name__)
_ANSWER_WITHIN_S: Final = 30.0


class CallbackSender:
    def __init__(
        self, queue: JobQueue, client: httpx.AsyncClient, *, max_attempts: int = 5,
        retry_s: float = 2.0, poll_s: float = 0.5, claim_s: float = 60.0,
    ) -> None:  # fmt: skip
        self.queue = queue
        self.client = client
        self.max_attempts = max_attempts
        self.retry_s = retry_s
        self.poll_s = poll_s
        self.claim_s = claim_s
        self.delivered = 0
        self.failed = 0

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                sent = await self.deliver_one()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                _log.warning("could not take a job callback", error=str(exc))
                sent = False
            if not sent:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.poll_s)

    async def deliver_one(self) -> bool:
        """Send the next due callback; False when none is due."""
        row = await self.queue.pool.fetchrow(
            """
            UPDATE legacy.jobs SET callback_attempts = callback_attempts + 1,
                callback_next_at = now() + make_interval(secs => $1)
            WHERE id = (
                SELECT id FROM legacy.jobs
                WHERE callback_state = 'pending' AND callback_next_at <= now()
                ORDER BY callback_next_at LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING id, tenant_id, callback, callback_attempts
            """,
            self.claim_s,
        )
        if row is None:
            return False
        job = await self.queue.get(row["id"], row["tenant_id"])
        assert job is not None
        callback = json.loads(row["callback"])
        headers = {"content-type": "application/json"}
        if callback.get("auth_token"):
            headers["authorization"] = f"Bearer {callback['auth_token']}"
        error = None
        try:
            answer = await self.client.post(
                callback["url"], content=json.dumps(stt_status(job)), headers=headers,
                timeout=_ANSWER_WITHIN_S,
            )  # fmt: skip
            if not answer.is_success:
                error = f"the callback answered {answer.status_code}"
        except httpx.HTTPError as exc:
            error = f"the callback could not be reached: {type(exc).__name__}"
        await self._record(row["id"], row["callback_attempts"], error)
        return True

    async def _record(self, job_id: UUID, attempts: int, error: str | None) -> None:
        if error is None:
            self.delivered += 1
            await self.queue.pool.execute(
                "UPDATE legacy.jobs SET callback_state = 'delivered', callback_error = NULL,"
                " callback_next_at = NULL WHERE id = $1",
                job_id,
            )
            return
        given_up = attempts >= self.max_attempts
        self.failed += given_up
        await self.queue.pool.execute(
            "UPDATE legacy.jobs SET callback_error = $2, callback_state = $3,"
            " callback_next_at = CASE WHEN $3 = 'failed' THEN NULL"
            " ELSE now() + make_interval(secs => $4) END WHERE id = $1",
            job_id, error, "failed" if given_up else "pending",
            self.retry_s * 2 ** (attempts - 1),
        )  # fmt: skip
        _log.warning("job callback failed", job_id=str(job_id), attempt=attempts, error=error,
                     given_up=given_up)  # fmt: skip

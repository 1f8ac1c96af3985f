"""Starting a job, shared by every job API: room in the queue, the rate limit, one hold per
file, then the files queued, in that order, and nothing left behind when a step refuses.

The order is what makes a refusal lose nothing (rfcs/0007 §5, §6): the queue is looked at
first (429/503 before any credit is touched), then the request is counted against the rate
limit once for the whole job, then each file's estimate is held (402 if the wallet cannot
cover them all: the holds taken so far are given back), and only then are the files queued,
with the capacity checked again under the queue's lock. A job that is refused stays
``Accepted`` with its files uploaded, so the same call succeeds later.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Final
from uuid import UUID

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from banyan.contract import SHADOW
from legacy.commerce.billing import Billing
from legacy.errors import error_response
from legacy.jobs.queue import JobQueue, JobRecord, QueueFull, file_request_id
from legacy.metering import api_key_from

__all__ = ["JOB_HOLD_TTL_S", "install_job_errors", "start_job"]

# A file's hold must outlive its wait in the queue and its retries (the sweeper releases
# holds older than their TTL); a day is far more than the lab's queue ever holds.
JOB_HOLD_TTL_S: Final = 24 * 3600.0


async def start_job(
    request: Request, queue: JobQueue, job: JobRecord, *, route: str, unit: str,
    estimates: Mapping[UUID, Decimal], pages: Mapping[UUID, int] | None = None,
) -> bool:  # fmt: skip
    """Queue ``job``'s files (``estimates``: file id → quantity to hold). False when another
    start of the same job got there first. Raises QueueFull or a CommerceError to refuse."""
    billing: Billing = request.app.state.billing
    api_key = api_key_from(request.headers)
    await queue.check_capacity(job.tenant_id, len(estimates))
    tenant = await billing.tenant_for_key(api_key)
    if request.headers.get(SHADOW) != "1":
        decision = await billing.check_rate(tenant, route, sum(estimates.values(), Decimal(0)))
        if decision is not None:
            request.scope.setdefault("state", {})["rate_decision"] = decision
    holds: dict[UUID, tuple[UUID, str, Decimal]] = {}
    queued = False
    try:
        for file_id, estimate in estimates.items():
            auth = await billing.authorize(
                api_key=api_key, route=route, unit=unit, quantity=estimate,
                request_id=file_request_id(job.id, file_id), shadow=job.shadow,
                ttl_s=JOB_HOLD_TTL_S, rate_limit=False,
            )  # fmt: skip
            holds[file_id] = (auth.reservation_id, unit, estimate)
        queued = await queue.enqueue(job.id, job.tenant_id, holds, pages=pages)
    finally:
        if not queued:
            for reservation_id, _, _ in holds.values():
                await billing.release(reservation_id)
    return queued


async def _queue_full(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, QueueFull)
    return error_response(
        request, exc.status, str(exc), headers={"Retry-After": str(exc.retry_after_s)}
    )


def install_job_errors(app: FastAPI) -> None:
    app.add_exception_handler(QueueFull, _queue_full)

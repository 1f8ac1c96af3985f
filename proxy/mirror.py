"""The mirror seam: what the proxy hands the shadow side, through a bounded queue.

The proxy builds one :class:`MirrorRecord` per sampled exchange *after* the live response has
been written, and offers it to a :class:`MirrorQueue` that never blocks and never raises: a
full queue drops the record and counts why (brief §6: every skipped mirror is counted by
reason). The shadow engine (issue 6) is the consumer; it replays the request to the other
side and compares. Nothing here can touch the live response.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from proxy._types import Side
from proxy.headers import Headers
from proxy.metrics import Counters

__all__ = ["MirrorQueue", "MirrorRecord", "SkipReason"]

# Why a sampled exchange was not mirrored (metric label values).
SkipReason = str
BODY_TOO_LARGE: SkipReason = "body_too_large"
QUEUE_FULL: SkipReason = "queue_full"
LIVE_FAILED: SkipReason = "live_failed"
CLIENT_GONE: SkipReason = "client_disconnected"
REJECTED: SkipReason = "rejected"


@dataclass(frozen=True, slots=True)
class MirrorRecord:
    """One live exchange, as the shadow side needs it to replay and compare.

    ``request_headers`` are the end-to-end inbound headers (credentials included: the replay
    authenticates as the same tenant; redaction happens before anything is stored)."""

    request_id: bytes
    traceparent: bytes
    route: str
    served_by: Side
    mirror_to: Side
    method: bytes
    target: bytes
    request_headers: Headers
    request_body: bytes
    status: int
    response_headers: Headers
    response_body: bytes
    # Monotonic seconds: request head parsed, response head relayed, response finished.
    started_at: float
    first_byte_at: float
    finished_at: float


class MirrorQueue:
    """Bounded, non-blocking handoff. ``offer`` is the proxy's side, ``get`` the consumer's."""

    def __init__(self, maxsize: int, counters: Counters) -> None:
        if maxsize < 1:
            raise ValueError("a mirror queue needs room for at least one record")
        self._queue: asyncio.Queue[MirrorRecord] = asyncio.Queue(maxsize)
        self._counters = counters

    def offer(self, record: MirrorRecord) -> bool:
        try:
            self._queue.put_nowait(record)
        except asyncio.QueueFull:
            self.skip(record.route, QUEUE_FULL)
            return False
        self._counters.inc("banyan_proxy_mirror_enqueued_total", record.route)
        return True

    def skip(self, route: str, reason: SkipReason) -> None:
        self._counters.inc("banyan_proxy_mirror_skipped_total", route, reason)

    async def get(self) -> MirrorRecord:
        return await self._queue.get()

    def qsize(self) -> int:
        return self._queue.qsize()

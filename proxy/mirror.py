"""The mirror seam: what the proxy hands the shadow side, through a bounded queue.

The proxy builds one :class:`MirrorRecord` per sampled exchange *after* the live response has
been written, and offers it to a :class:`MirrorQueue` that never blocks and never raises: a
full queue drops the record and counts why (brief §6: every skipped mirror is counted by
reason). The shadow engine (issue 6) is the consumer: ``proxy/shadow_feed.py`` takes records
off the queue and writes them to the shadow process's socket (rfcs/0005 §2), which replays the
request to the other side and compares. Nothing here can touch the live response.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from proxy._types import Side
from proxy.headers import Headers
from proxy.metrics import Counters

__all__ = ["WS_CAPTURE_BYTES", "MirrorQueue", "MirrorRecord", "SkipReason", "WsChunks"]

# Why a sampled exchange was not mirrored (metric label values).
SkipReason = str
BODY_TOO_LARGE: SkipReason = "body_too_large"
QUEUE_FULL: SkipReason = "queue_full"
LIVE_FAILED: SkipReason = "live_failed"
CLIENT_GONE: SkipReason = "client_disconnected"
REJECTED: SkipReason = "rejected"
# Counted by the feeder (rfcs/0005 §2): the shadow process reads too slowly, or is not there.
SHADOW_BACKLOG: SkipReason = "shadow_backlog"
SHADOW_UNAVAILABLE: SkipReason = "shadow_unavailable"

# A WebSocket session's bytes one way: (seconds since the 101 was relayed, bytes as they came).
WsChunks = tuple[tuple[float, bytes], ...]
# Cap on each direction's copy of a mirrored WebSocket session (rfcs/0005 §3); past it the copy
# stops and the session is skipped as ``body_too_large``.
WS_CAPTURE_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class MirrorRecord:
    """One live exchange, as the shadow side needs it to replay and compare.

    ``request_headers`` are the end-to-end inbound headers (credentials included: the replay
    authenticates as the same tenant; redaction happens before anything is stored).

    A WebSocket session is a record with ``status`` 101 (or the refusal the upstream answered
    the handshake with) whose ``ws_client``/``ws_server`` hold the raw bytes each way, frames
    unparsed, as relayed; ``request_headers`` then are the upgrade request's end-to-end
    fields (``sec-websocket-protocol`` among them) and ``response_headers`` the upstream's
    handshake answer (its ``sec-websocket-extensions`` says how to read the frames). Both are
    ``None`` for a plain HTTP exchange."""

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
    # Monotonic seconds (the proxy's loop clock; only differences mean anything elsewhere):
    # request head parsed, response head relayed, response finished, and the first response
    # body byte relayed (= finished_at when there was no body): the served side's TTFB/TTFT.
    started_at: float
    first_byte_at: float
    finished_at: float
    first_body_at: float
    ws_client: WsChunks | None = None
    ws_server: WsChunks | None = None

    @property
    def is_websocket(self) -> bool:
        return self.ws_client is not None


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

    def get_nowait(self) -> MirrorRecord | None:
        """A record if one is waiting, else None (for draining the queue at shutdown)."""
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            return None

    def qsize(self) -> int:
        return self._queue.qsize()

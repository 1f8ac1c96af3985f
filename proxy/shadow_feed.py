"""The feeder: mirror records from this proxy process to the shadow process's socket.

rfcs/0005 §2: the proxy's only new work for shadowing is this one task per process. It takes
records off the bounded :class:`~proxy.mirror.MirrorQueue`, encodes each as one frame
(:mod:`proxy.mirror_wire`) and writes it to a unix socket **without ever awaiting the peer**:

* connected, and the transport's write buffer under its cap (8 MiB) → ``transport.write``;
* buffer over the cap (the shadow process reads too slowly) → dropped, ``shadow_backlog``;
* not connected (no shadow process, or none configured) → dropped, ``shadow_unavailable``;
* a frame over the wire's size cap → dropped, ``body_too_large``.

Every drop is counted in ``banyan_proxy_mirror_skipped_total{route,reason}``. The queue is
drained even when no socket is configured, so it never sits full counting ``queue_full``.
A second task reconnects with a capped backoff (0.1 s doubling to 2 s) whenever the socket is
down. What it deliberately doesn't do: retry a dropped record, read from the peer, or block.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Final

from banyan.logs import get_logger
from proxy import mirror
from proxy.metrics import Counters
from proxy.mirror import MirrorQueue, MirrorRecord
from proxy.mirror_wire import FrameTooLarge, encode

__all__ = ["MAX_BACKLOG_BYTES", "ShadowFeed"]

_log = get_logger(__name__)
MAX_BACKLOG_BYTES: Final = 8 * 1024 * 1024
_BACKOFF_FIRST_S: Final = 0.1
_BACKOFF_MAX_S: Final = 2.0
# Records taken off the queue per wake-up: a burst becomes one write, yet the loop is not held.
_BATCH: Final = 64


class _FeedProtocol(asyncio.Protocol):
    """The socket's protocol: the peer never speaks; losing the connection wakes the dialer."""

    def __init__(self) -> None:
        self.lost = asyncio.Event()  # per connection: a stale one cannot wake a new dialer

    def data_received(self, data: bytes) -> None:
        pass  # the shadow process sends nothing; ignore anything it does

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost.set()


class ShadowFeed:
    """One per proxy process; an async context manager (or ``start``/``aclose``).

    ``path`` is the shadow process's socket, ``None`` when shadowing has nowhere to go (records
    are still drained and counted). ``max_backlog`` is the write-buffer cap in bytes."""

    def __init__(
        self,
        queue: MirrorQueue,
        counters: Counters,
        path: Path | None,
        *,
        max_backlog: int = MAX_BACKLOG_BYTES,
        backoff: tuple[float, float] = (_BACKOFF_FIRST_S, _BACKOFF_MAX_S),
    ) -> None:
        self._queue = queue
        self._counters = counters
        self.path = path
        self._max_backlog = max_backlog
        self._backoff = backoff
        self._transport: asyncio.Transport | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def connected(self) -> bool:
        return self._transport is not None and not self._transport.is_closing()

    @property
    def backlog(self) -> int:
        """Bytes written and not yet taken by the peer (0 when not connected)."""
        transport = self._transport
        return transport.get_write_buffer_size() if transport is not None else 0

    async def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._drain(), name="shadow-feed"))
        if self.path is not None:
            self._tasks.append(asyncio.create_task(self._dial(self.path), name="shadow-dial"))

    async def aclose(self) -> None:
        """Stop both tasks; records still queued are counted ``shadow_unavailable``; frames
        already written are flushed by the transport's close."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        while (record := self._queue.get_nowait()) is not None:
            self._queue.skip(record.route, mirror.SHADOW_UNAVAILABLE)
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    async def __aenter__(self) -> ShadowFeed:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:  # fmt: skip
        await self.aclose()

    def send(self, records: Sequence[MirrorRecord]) -> None:
        """Write the records' frames now (one ``writelines``: one syscall for a burst), or drop
        each that cannot go and count why. Never blocks."""
        transport = self._transport
        if transport is None or transport.is_closing():
            for record in records:
                self._queue.skip(record.route, mirror.SHADOW_UNAVAILABLE)
            return
        pending = transport.get_write_buffer_size()
        frames: list[bytes] = []
        for record in records:
            if pending > self._max_backlog:
                self._queue.skip(record.route, mirror.SHADOW_BACKLOG)
                continue
            try:
                frame = encode(record)
            except FrameTooLarge:
                self._queue.skip(record.route, mirror.BODY_TOO_LARGE)
                continue
            frames.append(frame)
            pending += len(frame)
            self._counters.inc("banyan_proxy_mirror_sent_total", record.route)
        if frames:
            transport.writelines(frames)

    async def _drain(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < _BATCH and (more := self._queue.get_nowait()) is not None:
                batch.append(more)
            self.send(batch)

    async def _dial(self, path: Path) -> None:
        loop = asyncio.get_running_loop()
        first, cap = self._backoff
        delay = first
        reported = False
        while True:
            try:
                transport, protocol = await loop.create_unix_connection(_FeedProtocol, str(path))
            except OSError as exc:
                if not reported:
                    _log.warning("shadow socket unreachable; mirrors dropped until it is",
                                 path=str(path), error=str(exc))  # fmt: skip
                    reported = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, cap)
                continue
            self._transport = transport
            _log.info("shadow socket connected", path=str(path))
            delay, reported = first, False
            await protocol.lost.wait()
            self._transport = None
            _log.warning("shadow socket lost; reconnecting", path=str(path))

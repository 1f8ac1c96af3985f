"""The shadow process's end of the mirror socket (rfcs/0005 §2): frames in, records queued.

Each proxy worker holds one connection; each connection is read by its own task, so one busy
worker does not starve the others. Every decoded record is counted
``banyan_shadow_received_total{route}`` and put on one bounded queue; when the queue is full
the record is dropped and counted ``banyan_shadow_dropped_total{route,reason=shadow_backlog}``
(never awaited: a slow engine must not back up into the proxies' sockets beyond their own cap).
A connection that sends a malformed frame is closed and counted ``bad_frame`` (route ``-``):
a length-prefixed stream cannot be resynchronised.

The socket file is created ``0600`` (records carry customers' credentials), and a stale file a
crashed process left is removed at start; a live one (another shadow process answering on it)
is an error rather than stolen. What it deliberately doesn't do: replay or compare.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import stat
from pathlib import Path
from types import TracebackType
from typing import Final

from banyan.logs import get_logger
from proxy.mirror import MirrorRecord
from proxy.mirror_wire import MAX_FRAME_BYTES, FrameDecoder, FrameError
from shadow.metrics import Counters

__all__ = ["Intake", "SocketInUse"]

_log = get_logger(__name__)
_READ_BYTES: Final = 256 * 1024


class SocketInUse(RuntimeError):
    """Another process is accepting on the socket path."""


class Intake:
    """A unix-socket server feeding one bounded queue; an async context manager (or
    ``start``/``aclose``). Consumers call :meth:`get`."""

    def __init__(
        self,
        path: Path,
        counters: Counters,
        *,
        maxsize: int = 1024,
        max_frame: int = MAX_FRAME_BYTES,
    ) -> None:
        if maxsize < 1:
            raise ValueError("the intake queue needs room for at least one record")
        self.path = path
        self._counters = counters
        self._max_frame = max_frame
        self._queue: asyncio.Queue[MirrorRecord] = asyncio.Queue(maxsize)
        self._server: asyncio.Server | None = None
        self._readers: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        sock = _bind(self.path)
        self._server = await asyncio.start_unix_server(self._serve, sock=sock)
        _log.info("shadow intake listening", path=str(self.path))

    async def aclose(self) -> None:
        """Stop accepting, cut every connection, remove the socket file."""
        if self._server is not None:
            self._server.close()
        for task in list(self._readers):
            task.cancel()
        for task in list(self._readers):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    async def __aenter__(self) -> Intake:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:  # fmt: skip
        await self.aclose()

    async def get(self) -> MirrorRecord:
        return await self._queue.get()

    def qsize(self) -> int:
        return self._queue.qsize()

    @property
    def connections(self) -> int:
        return len(self._readers)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._readers.add(task)
        decoder = FrameDecoder(max_frame=self._max_frame)
        try:
            while data := await reader.read(_READ_BYTES):
                for record in decoder.feed(data):
                    self._accept(record)
        except FrameError as exc:
            self._counters.inc("banyan_shadow_dropped_total", "-", "bad_frame")
            _log.error("bad frame on the shadow socket; closing that connection", error=str(exc))
        except ConnectionError:
            pass
        finally:
            self._readers.discard(task)
            writer.close()

    def _accept(self, record: MirrorRecord) -> None:
        self._counters.inc("banyan_shadow_received_total", record.route)
        try:
            self._queue.put_nowait(record)
        except asyncio.QueueFull:
            self._counters.inc("banyan_shadow_dropped_total", record.route, "shadow_backlog")


def _bind(path: Path) -> socket.socket:
    """A bound, not yet listening, 0600 socket at ``path``: nobody can connect before the
    mode is set, because connecting needs ``listen``."""
    _remove_stale(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(str(path))
        os.chmod(path, 0o600)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def _remove_stale(path: Path) -> None:
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise FileExistsError(f"{path} exists and is not a socket; not removing it")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except OSError:
        path.unlink()  # nobody answers: a crashed process left it
        return
    finally:
        probe.close()
    raise SocketInUse(f"another process is accepting on {path}")

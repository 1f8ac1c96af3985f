"""Where job objects live: the :class:`ObjectStore` interface and its local-disk implementation.

The interface is what the job system needs and no more: write a stream under a size limit,
write bytes, read, stream out, size, delete. Writes are all-or-nothing (a temporary file
renamed into place), so an upload cut off half-way or over its limit leaves no object, and a
worker that writes the same output twice (at-least-once processing) leaves one whole copy.

Keys are made by the platform (``jobs/<job_id>/…``, ``uploads/<upload_id>``), never taken from
a file name; :func:`check_key` still refuses anything that could leave the root, because a key
also arrives in a URL.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import Protocol

__all__ = ["LocalDiskStore", "ObjectMissing", "ObjectStore", "ObjectTooLarge", "check_key"]

_KEY = re.compile(r"^[a-z0-9][a-z0-9_.-]*(/[a-z0-9][a-z0-9_.-]*)*$")
_CHUNK = 64 * 1024


class ObjectMissing(LookupError):
    """No object under that key (never uploaded, or deleted)."""


class ObjectTooLarge(ValueError):
    """A write went past its limit; nothing was stored."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the object is over {limit} bytes")
        self.limit = limit


def check_key(key: str) -> str:
    """``key`` if it is one the platform could have made; ValueError otherwise."""
    if len(key) > 512 or not _KEY.match(key) or ".." in key.split("/"):
        raise ValueError(f"not an object key: {key[:80]!r}")
    return key


class ObjectStore(Protocol):
    async def put_stream(self, key: str, chunks: AsyncIterable[bytes], *, max_bytes: int) -> int:
        """Store what ``chunks`` yields; returns its size. ObjectTooLarge past ``max_bytes``."""

    async def put_bytes(self, key: str, data: bytes) -> None: ...

    async def read(self, key: str) -> bytes:
        """The whole object; ObjectMissing if there is none."""

    def stream(self, key: str) -> AsyncIterator[bytes]:
        """The object in chunks; ObjectMissing (on first iteration) if there is none."""

    async def size(self, key: str) -> int | None:
        """The object's size, None if there is none."""

    async def delete(self, key: str) -> None: ...


class LocalDiskStore:
    """Objects as files under ``root`` (``BANYAN_OBJECT_ROOT``; the lab's state directory by
    default). Blocking file calls run in threads so a 25 MiB upload never stalls the loop."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._tmp = self.root / ".tmp"

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _temporary(self) -> Path:
        self._tmp.mkdir(parents=True, exist_ok=True)
        return self._tmp / uuid.uuid4().hex

    def _place(self, tmp: Path, key: str) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, target)

    async def put_stream(self, key: str, chunks: AsyncIterable[bytes], *, max_bytes: int) -> int:
        self._path(key)  # a bad key fails before a byte is read
        tmp = self._temporary()
        size = 0
        out = await asyncio.to_thread(tmp.open, "wb")
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise ObjectTooLarge(max_bytes)
                await asyncio.to_thread(out.write, chunk)
            await asyncio.to_thread(out.close)
            await asyncio.to_thread(self._place, tmp, key)
        except BaseException:
            out.close()
            tmp.unlink(missing_ok=True)
            raise
        return size

    async def put_bytes(self, key: str, data: bytes) -> None:
        tmp = self._temporary()
        await asyncio.to_thread(tmp.write_bytes, data)
        await asyncio.to_thread(self._place, tmp, key)

    async def read(self, key: str) -> bytes:
        try:
            return await asyncio.to_thread(self._path(key).read_bytes)
        except FileNotFoundError:
            raise ObjectMissing(key) from None

    async def stream(self, key: str) -> AsyncIterator[bytes]:
        try:
            source = await asyncio.to_thread(self._path(key).open, "rb")
        except FileNotFoundError:
            raise ObjectMissing(key) from None
        try:
            while chunk := await asyncio.to_thread(source.read, _CHUNK):
                yield chunk
        finally:
            source.close()

    async def size(self, key: str) -> int | None:
        try:
            return (await asyncio.to_thread(self._path(key).stat)).st_size
        except FileNotFoundError:
            return None

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, True)

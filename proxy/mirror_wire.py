"""Mirror records on the wire between a proxy worker and the shadow process (rfcs/0005 §2).

One record is one frame::

    total:u32be  header_len:u32be  header (orjson)  request_body  response_body  ws chunks...

``total`` counts the bytes after itself (``4 + header_len + bodies``). The header holds every
field except the bodies; the bodies follow raw, in a fixed order, their lengths in the header:
encoding a 25 MB upload is a memcpy, not a JSON string escape. Header fields are latin-1
strings (bytes → str one to one, lossless for any byte, and cheaper than base64 for the ASCII
that headers nearly always are).

The shadow process imports this module (``shadow/`` may import ``proxy/``, never the reverse).
What it deliberately doesn't do: I/O. :func:`encode` is called by the feeder, and
:class:`FrameDecoder` by the intake with whatever bytes a socket read returned.
"""

from __future__ import annotations

import struct
from typing import Any, Final

import orjson

from proxy.headers import Headers
from proxy.mirror import MirrorRecord, WsChunks

__all__ = ["MAX_FRAME_BYTES", "FrameDecoder", "FrameError", "FrameTooLarge", "encode"]

# Two 25 MiB bodies (the default shadow.max_body_bytes) and a header fit; a larger frame is
# refused by both ends rather than buffered.
MAX_FRAME_BYTES: Final = 64 * 1024 * 1024
VERSION: Final = 1
_U32: Final = struct.Struct(">I")
_PREFIX: Final = struct.Struct(">II")


class FrameError(ValueError):
    """The byte stream is not a valid frame sequence; the connection cannot be resynchronised."""


class FrameTooLarge(FrameError):
    """A frame over the size cap (encoding refuses to make one; decoding refuses to buffer one)."""


def _headers_out(headers: Headers) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers]


def encode(record: MirrorRecord, *, max_frame: int = MAX_FRAME_BYTES) -> bytes:
    """One frame for ``record``; raises :class:`FrameTooLarge` rather than make one over
    ``max_frame`` (the peer would drop the connection)."""
    bodies: list[bytes] = [record.request_body, record.response_body]
    ws: dict[str, list[tuple[float, int]] | None] = {"ws_client": None, "ws_server": None}
    for name, chunks in (("ws_client", record.ws_client), ("ws_server", record.ws_server)):
        if chunks is not None:
            ws[name] = [(at, len(data)) for at, data in chunks]
            bodies.extend(data for _, data in chunks)
    header = orjson.dumps(
        {
            "v": VERSION,
            "request_id": record.request_id.decode("latin-1"),
            "traceparent": record.traceparent.decode("latin-1"),
            "route": record.route,
            "served_by": record.served_by,
            "mirror_to": record.mirror_to,
            "method": record.method.decode("latin-1"),
            "target": record.target.decode("latin-1"),
            "request_headers": _headers_out(record.request_headers),
            "request_body": len(record.request_body),
            "status": record.status,
            "response_headers": _headers_out(record.response_headers),
            "response_body": len(record.response_body),
            "started_at": record.started_at,
            "first_byte_at": record.first_byte_at,
            "finished_at": record.finished_at,
            "first_body_at": record.first_body_at,
            **ws,
        }
    )
    total = 4 + len(header) + sum(len(b) for b in bodies)
    if total > max_frame:
        raise FrameTooLarge(f"a {total}-byte frame is over the {max_frame}-byte cap")
    return b"".join((_PREFIX.pack(total, len(header)), header, *bodies))


class FrameDecoder:
    """Incremental decoder for one connection's byte stream: ``feed`` whatever arrived, get
    back every record completed by it. Memory is bounded by ``max_frame`` plus one read: a
    length over the cap raises :class:`FrameTooLarge` before anything is buffered for it. After
    a :class:`FrameError` the stream is unusable (close the connection)."""

    def __init__(self, *, max_frame: int = MAX_FRAME_BYTES) -> None:
        self._buffer = bytearray()
        self._max_frame = max_frame

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes) -> list[MirrorRecord]:
        buffer = self._buffer
        buffer += data
        records: list[MirrorRecord] = []
        start = 0
        while len(buffer) - start >= 4:
            (total,) = _U32.unpack_from(buffer, start)
            if total > self._max_frame:
                raise FrameTooLarge(f"a {total}-byte frame is over the {self._max_frame}-byte cap")
            if len(buffer) - start - 4 < total:
                break
            records.append(_decode(memoryview(buffer)[start + 4 : start + 4 + total]))
            start += 4 + total
        if start:
            del buffer[:start]
        return records


def _decode(frame: memoryview) -> MirrorRecord:
    with frame:
        if len(frame) < 4:
            raise FrameError("a frame shorter than its header length")
        (header_len,) = _U32.unpack_from(frame, 0)
        if 4 + header_len > len(frame):
            raise FrameError("a header longer than its frame")
        try:
            header = orjson.loads(frame[4 : 4 + header_len])
            return _record(header, frame, 4 + header_len)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise FrameError(f"a malformed frame: {exc!r}") from exc


def _record(header: dict[str, Any], frame: memoryview, offset: int) -> MirrorRecord:
    if header["v"] != VERSION:
        raise FrameError(f"frame version {header['v']!r}, expected {VERSION}")
    position = offset

    def take(length: object) -> bytes:
        nonlocal position
        if not isinstance(length, int) or length < 0 or position + length > len(frame):
            raise FrameError("body lengths do not add up to the frame")
        data = bytes(frame[position : position + length])
        position += length
        return data

    request_body = take(header["request_body"])
    response_body = take(header["response_body"])
    ws: dict[str, WsChunks | None] = {}
    for name in ("ws_client", "ws_server"):
        spec = header[name]
        ws[name] = None if spec is None else tuple((float(at), take(n)) for at, n in spec)
    if position != len(frame):
        raise FrameError("bytes left over after the last body")
    served_by, mirror_to = header["served_by"], header["mirror_to"]
    if served_by not in ("legacy", "candidate") or mirror_to not in ("legacy", "candidate"):
        raise FrameError(f"unknown sides {served_by!r} → {mirror_to!r}")
    return MirrorRecord(
        request_id=header["request_id"].encode("latin-1"),
        traceparent=header["traceparent"].encode("latin-1"),
        route=str(header["route"]),
        served_by=served_by,
        mirror_to=mirror_to,
        method=header["method"].encode("latin-1"),
        target=header["target"].encode("latin-1"),
        request_headers=_headers_in(header["request_headers"]),
        request_body=request_body,
        status=int(header["status"]),
        response_headers=_headers_in(header["response_headers"]),
        response_body=response_body,
        started_at=float(header["started_at"]),
        first_byte_at=float(header["first_byte_at"]),
        finished_at=float(header["finished_at"]),
        first_body_at=float(header["first_body_at"]),
        ws_client=ws["ws_client"],
        ws_server=ws["ws_server"],
    )


def _headers_in(fields: list[list[str]]) -> Headers:
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in fields]

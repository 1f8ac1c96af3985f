"""WebSocket sessions: captured bytes to messages, and two server-message sequences compared
(rfcs/0005 §3 "WebSockets", §4 "WebSocket").

:func:`parse_frames` reads one direction of a tunnel's copy (the bytes after the 101, with
their arrival times) with wsproto's frame layer: client frames are masked, so they are read
by a *server*-role connection, server frames by a *client*-role one. Fragmented messages are
reassembled, control frames dropped, a close frame ends the stream. Bounded: a message keeps
at most :data:`MAX_MESSAGE_BYTES` (more is cut off and the message's index is reported), and a
permessage-deflate stream is inflated at most that much per frame (a deflate bomb is an error,
not a gigabyte).

:func:`compare_sessions` aligns legacy's and the candidate's server messages by their
``type`` (the ``"type"`` field every JSON message of this platform's sockets has; other
messages are ``<binary>``, ``<text>`` or ``<json>``) with an edit-distance alignment, so one
missing message is one ``removed`` diff at ``$ws[<i>]``, one extra is one ``added``, and one
of another type is one ``changed``; aligned JSON pairs go to the injected message comparator
at prefix ``$ws[<i>].``, aligned binary pairs that are both audio to
:func:`shadow.compare.audio.compare_audio`. ``<i>`` is the control message's index (for an
added message: the index of the control message it was inserted before). A route whose
message types run on independent clocks (``compare.messages: by_type``) is aligned type by
type instead: the k-th message of a type against the k-th of it, however the types interleave.

Cost: the common prefix and suffix are matched in linear time; the middle is aligned by a
numpy edit-distance table (rows vectorised) only while it has at most
:data:`MAX_ALIGNED_MESSAGES` messages a side; a longer middle is aligned by index (pairs in
order, the surplus added or removed at the end), which a 2000-message session rarely needs.

Not here: audio inside JSON messages (``{"type": "audio", "data": {"audio": <base64>}}``), which
the JSON comparator handles as it does ``audios[0]``; and opening sessions (``ws_replay.py``).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import orjson
from wsproto.connection import Connection, ConnectionState, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, TextMessage
from wsproto.extensions import Extension, PerMessageDeflate
from wsproto.frame_protocol import CloseReason, FrameDecoder, FrameProtocol

from shadow.compare.audio import compare_audio, looks_like_audio
from shadow.compare.config import CompareConfig
from shadow.model import CandidateGarbage, Diff, WsMessage

__all__ = [
    "MAX_ALIGNED_MESSAGES",
    "MAX_MESSAGE_BYTES",
    "MessageComparator",
    "ParsedStream",
    "compare_sessions",
    "message_type",
    "parse_frames",
]

MAX_MESSAGE_BYTES: Final = 1 << 20  # per message (text: characters); the SDK's own limit
MAX_ALIGNED_MESSAGES: Final = 2000  # per side, in the part that needs the alignment table
_SHOWN_CHARS: Final = 200  # of a non-JSON text message, in a diff's values

# (control bytes, candidate bytes, config, path prefix) -> diffs; compare_json fits.
MessageComparator = Callable[[bytes, bytes, CompareConfig, str], list[Diff]]


@dataclass(frozen=True, slots=True)
class ParsedStream:
    """The complete messages of one direction, and why parsing stopped early if it did.

    ``error`` is set for bytes that are not a valid WebSocket stream (what came before them
    is in ``messages``) and for a stream that ends inside a message; ``truncated`` holds the
    indices of messages cut at :data:`MAX_MESSAGE_BYTES`; ``close_code`` is the close frame's
    code, None when the stream ended without one."""

    messages: tuple[WsMessage, ...]
    error: str | None = None
    truncated: tuple[int, ...] = ()
    close_code: int | None = None


class _BoundedDeflate(PerMessageDeflate):
    """permessage-deflate whose inflation stops at MAX_MESSAGE_BYTES per frame."""

    def frame_inbound_payload_data(
        self, proto: FrameDecoder | FrameProtocol, data: bytes
    ) -> bytes | CloseReason:
        if not self._inbound_compressed or not self._inbound_is_compressible:
            return data
        assert self._decompressor is not None
        try:
            inflated = self._decompressor.decompress(bytes(data), MAX_MESSAGE_BYTES)
        except zlib.error:
            return CloseReason.INVALID_FRAME_PAYLOAD_DATA
        if self._decompressor.unconsumed_tail:
            return CloseReason.MESSAGE_TOO_BIG
        return inflated


def _extensions(negotiated: str | None) -> list[Extension]:
    """The handshake's ``Sec-WebSocket-Extensions`` answer as wsproto extensions."""
    for offer in (negotiated or "").split(","):
        if offer.split(";")[0].strip().lower() == "permessage-deflate":
            deflate = _BoundedDeflate()
            deflate.finalize(offer)  # the parameters both sides agreed on
            return [deflate]
    return []


def parse_frames(
    chunks: Sequence[tuple[float, bytes]], *, from_client: bool, extensions: str | None = None
) -> ParsedStream:
    """The messages in one direction's captured bytes; each message's ``at`` is the arrival
    time of the chunk that completed it. ``extensions`` is the negotiated
    ``Sec-WebSocket-Extensions`` header of the 101 (permessage-deflate is understood)."""
    role = ConnectionType.SERVER if from_client else ConnectionType.CLIENT
    connection = Connection(role, extensions=_extensions(extensions))
    messages: list[WsMessage] = []
    truncated: list[int] = []
    text: list[str] = []
    data: list[bytes] = []
    size = 0
    cut = False
    for at, chunk in chunks:
        connection.receive_data(chunk)
        for event in connection.events():
            if isinstance(event, CloseConnection):
                if connection.state is ConnectionState.OPEN:  # a parse failure, not a close
                    return ParsedStream(
                        tuple(messages),
                        f"invalid WebSocket data ({event.code}): {event.reason}",
                        tuple(truncated),
                    )
                return ParsedStream(tuple(messages), None, tuple(truncated), int(event.code))
            if not isinstance(event, TextMessage | BytesMessage):
                continue  # ping and pong
            room = MAX_MESSAGE_BYTES - size
            piece = event.data
            if len(piece) > room:
                piece, cut = piece[:room], True
            if piece:
                size += len(piece)
                if isinstance(piece, str):
                    text.append(piece)
                else:
                    data.append(bytes(piece))
            if event.message_finished:
                if cut:
                    truncated.append(len(messages))
                if isinstance(event, TextMessage):
                    messages.append(WsMessage(at=at, text="".join(text)))
                else:
                    messages.append(WsMessage(at=at, data=b"".join(data)))
                text, data, size, cut = [], [], 0, False
    pending = size > 0 or cut
    return ParsedStream(
        tuple(messages),
        "the stream ended inside a message" if pending else None,
        tuple(truncated),
    )


def message_type(message: WsMessage) -> str:
    """What a message is, for alignment: its JSON ``type`` field, else ``<json>``, ``<text>``
    or ``<binary>``."""
    if message.text is None:
        return "<binary>"
    parsed = _json(message.text)
    if parsed is _NOT_JSON:
        return "<text>"
    if isinstance(parsed, dict):
        kind = parsed.get("type")
        if isinstance(kind, str):
            return kind
    return "<json>"


def compare_sessions(
    control: Sequence[WsMessage],
    candidate: Sequence[WsMessage],
    config: CompareConfig,
    *,
    compare_message: MessageComparator,
) -> list[Diff]:
    """Every difference between two server-message sequences, in control order (module
    docstring). ``compare_message`` compares two JSON messages; it may raise
    :class:`shadow.model.CandidateGarbage`, which propagates."""
    control_types = [message_type(m) for m in control]
    candidate_types = [message_type(m) for m in candidate]
    if config.messages == "by_type":
        steps = _align_by_type(control_types, candidate_types)
    else:
        steps = _align(control_types, candidate_types)
    # An added message is reported at the index of the control message that follows it.
    following: list[int] = []
    next_control = len(control)
    for i, _ in reversed(steps):
        next_control = next_control if i is None else i
        following.append(next_control)
    following.reverse()
    diffs: list[Diff] = []
    for (i, j), at in zip(steps, following, strict=True):
        if j is None:
            diffs.append(Diff(f"$ws[{at}]", "removed", control_types[at], None))
        elif i is None:
            diffs.append(Diff(f"$ws[{at}]", "added", None, candidate_types[j]))
        elif control_types[i] != candidate_types[j]:
            diffs.append(Diff(f"$ws[{i}]", "changed", control_types[i], candidate_types[j]))
        else:
            diffs.extend(_compare_pair(i, control[i], candidate[j], config, compare_message))
    return diffs


# An alignment step: (control index, candidate index); None on the side that lacks it.
_Step = tuple[int | None, int | None]


def _align(control: list[str], candidate: list[str]) -> list[_Step]:
    """Pairs, removals and additions turning ``control`` into ``candidate`` at least cost
    (unit costs; a pair of two types counts one). Ties put matches first and gaps last, so a
    dropped final message is removed at its own index."""
    n, m = len(control), len(candidate)
    head = 0
    while head < min(n, m) and control[head] == candidate[head]:
        head += 1
    tail = 0
    while tail < min(n, m) - head and control[n - 1 - tail] == candidate[m - 1 - tail]:
        tail += 1
    steps: list[_Step] = [(k, k) for k in range(head)]
    middle_control, middle_candidate = control[head : n - tail], candidate[head : m - tail]
    if max(len(middle_control), len(middle_candidate)) > MAX_ALIGNED_MESSAGES:
        middle = _by_index(len(middle_control), len(middle_candidate))
    else:
        middle = _edit_alignment(middle_control, middle_candidate)
    for i, j in middle:
        steps.append((None if i is None else i + head, None if j is None else j + head))
    steps.extend((n - tail + k, m - tail + k) for k in range(tail))
    return steps


def _align_by_type(control: list[str], candidate: list[str]) -> list[_Step]:
    """Each type's messages paired in their order, whatever the interleaving of the types
    (``messages: by_type``): the k-th of a type with the k-th of it on the other side, the
    surplus removed or added. Steps come in control order, an added message after the last
    control message of its type (or at the end), so paths and diffs read as in_order's."""
    control_at: dict[str, list[int]] = {}
    for i, kind in enumerate(control):
        control_at.setdefault(kind, []).append(i)
    candidate_at: dict[str, list[int]] = {}
    for j, kind in enumerate(candidate):
        candidate_at.setdefault(kind, []).append(j)
    keyed: list[tuple[float, _Step]] = []
    for kind in control_at.keys() | candidate_at.keys():
        ours, theirs = control_at.get(kind, []), candidate_at.get(kind, [])
        # The surplus of a type goes between its last control message and the next one.
        last, surplus = (ours[-1] if ours else len(control) - 1), len(theirs) - len(ours)
        for k in range(max(len(ours), len(theirs))):
            mine = ours[k] if k < len(ours) else None
            other = theirs[k] if k < len(theirs) else None
            at = mine if mine is not None else last + (k - len(ours) + 1) / (surplus + 1)
            keyed.append((at, (mine, other)))
    return [step for _, step in sorted(keyed, key=lambda item: item[0])]


def _by_index(n: int, m: int) -> list[_Step]:
    pairs: list[_Step] = [(k, k) for k in range(min(n, m))]
    pairs += [(k, None) for k in range(m, n)]
    pairs += [(None, k) for k in range(n, m)]
    return pairs


def _edit_alignment(control: list[str], candidate: list[str]) -> list[_Step]:
    n, m = len(control), len(candidate)
    if n == 0 or m == 0:
        return [(k, None) for k in range(n)] + [(None, k) for k in range(m)]
    codes: dict[str, int] = {}
    # Reversed, so the table holds suffix distances and the trace runs forward, preferring
    # matches early (gaps pushed to the end on ties).
    a = np.array([codes.setdefault(t, len(codes)) for t in reversed(control)], dtype=np.int32)
    b = np.array([codes.setdefault(t, len(codes)) for t in reversed(candidate)], dtype=np.int32)
    table = np.empty((n + 1, m + 1), dtype=np.int32)
    columns = np.arange(m + 1, dtype=np.int32)
    table[0] = columns
    for row in range(1, n + 1):
        previous = table[row - 1]
        best = np.empty(m + 1, dtype=np.int32)
        best[0] = row
        best[1:] = np.minimum(previous[1:] + 1, previous[:-1] + (b != a[row - 1]))
        # Insertions along the row: best[j] = min over k <= j of best[k] + (j - k).
        table[row] = np.minimum.accumulate(best - columns) + columns

    def suffix(i: int, j: int) -> int:  # distance of control[i:] to candidate[j:]
        return int(table[n - i, m - j])

    steps: list[_Step] = []
    i = j = 0
    while i < n or j < m:
        here = suffix(i, j)
        # Preference on ties: a pair (same type, then another type), a removal, an addition.
        if i < n and j < m and suffix(i + 1, j + 1) + (control[i] != candidate[j]) == here:
            steps.append((i, j))
            i, j = i + 1, j + 1
        elif i < n and suffix(i + 1, j) + 1 == here:
            steps.append((i, None))
            i += 1
        else:
            steps.append((None, j))
            j += 1
    return steps


def _compare_pair(
    index: int,
    control: WsMessage,
    candidate: WsMessage,
    config: CompareConfig,
    compare_message: MessageComparator,
) -> list[Diff]:
    path = f"$ws[{index}]"
    if control.text is not None and candidate.text is not None:
        if control.text == candidate.text:
            return []
        if _json(control.text) is _NOT_JSON:  # both <text>: the type says so
            return [
                Diff(path, "changed", control.text[:_SHOWN_CHARS], candidate.text[:_SHOWN_CHARS])
            ]
        return compare_message(control.text.encode(), candidate.text.encode(), config, f"{path}.")
    ours, theirs = control.data or b"", candidate.data or b""
    if ours == theirs:
        return []
    if looks_like_audio(ours):
        try:
            return compare_audio(ours, theirs, config.audio, prefix=f"{path}.")
        except CandidateGarbage:
            pass  # one undecodable binary message is a changed message, not a broken session
    return [Diff(path, "changed", f"{len(ours)} bytes", f"{len(theirs)} bytes")]


_NOT_JSON: Final = object()


def _json(text: str) -> object:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return _NOT_JSON

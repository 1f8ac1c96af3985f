"""The shadow engine's vocabulary: what one side answered, how two answers differ, the verdict.

Words follow GitHub Scientist (STYLE §5): legacy is the *control*, the Go service the
*candidate*; each side's answer to one request is an :class:`Observation`; comparing two gives
a list of :class:`Diff`; classifying those (ignore rules, learned noise) gives one
:class:`Outcome`. Everything here is a frozen value with no I/O, so comparators, the noise
learner, storage and reports can be written and tested apart (rfcs/0005 §4-§6).

Paths name where two answers differ, in one notation shared by every comparator:

- ``$status``, ``$headers.<lower-case name>``, ``$body`` (bytes that are neither JSON, audio,
  SSE nor a WebSocket session);
- JSON fields as ``choices[0].message.content``; ``$`` alone is the document root;
- audio as ``$audio.<property>`` (``container``, ``codec``, ``sample_rate``, ``channels``,
  ``duration``, ``signal``), prefixed by the JSON path when the audio is base64 inside JSON:
  ``audios[0].$audio.sample_rate``;
- SSE streams as ``$sse.<aspect>`` (``count``, ``order``, ``terminal``, ``text``, ``usage``,
  ``usage.<field>``) and ``$sse[<i>].<json path>`` for one event's schema;
- WebSocket sessions as ``$ws[<i>]`` (a whole server message) and ``$ws[<i>].<json path>``,
  ``<i>`` being the message's index in legacy's sequence after alignment.

A concrete path keeps its list indices; :attr:`Diff.field` replaces them with ``[*]``. Counts,
noise and ignore rules work on fields (``timestamps.words[*]``), examples keep the concrete path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, TypeAlias

from proxy._types import Side

__all__ = [
    "CandidateErrorKind",
    "CandidateGarbage",
    "Diff",
    "DiffKind",
    "Observation",
    "Outcome",
    "SkipReason",
    "Trial",
    "Verdict",
    "WsMessage",
    "field_of",
]

# How a value differs: present on both sides with another value or JSON type, or on one only.
DiffKind: TypeAlias = Literal["changed", "type_changed", "added", "removed"]

# The five outcomes of one mirrored request (brief §6).
Outcome: TypeAlias = Literal["matched", "ignored", "mismatched", "candidate_error", "skipped"]

# Why the candidate produced no comparable answer: evidence against it, not a dropped mirror.
CandidateErrorKind: TypeAlias = Literal[
    "timeout",  # no complete answer within the route's shadow timeout
    "connect_error",  # the candidate could not be reached
    "reset",  # the connection broke mid-answer (a cut stream, a dropped socket)
    "server_error",  # 5xx where the control answered below 500
    "garbage",  # an answer that does not parse as what the control's answer is
]

# Why a sampled request was not compared (metric label values, counted where it happens).
SkipReason: TypeAlias = str

_INDEX = re.compile(r"\[\d+\]")


def field_of(path: str) -> str:
    """The path with its list indices generalised: ``a[3].b[0]`` → ``a[*].b[*]``."""
    return _INDEX.sub("[*]", path) if "[" in path else path


@dataclass(frozen=True, slots=True)
class Diff:
    """One place where the candidate's answer differs from the control's.

    ``control`` and ``candidate`` are the two values as JSON-able scalars (or short
    descriptions such as a type name or an audio property), ``None`` on the side that lacks
    the path; they end up in stored examples only, redacted and capped."""

    path: str
    kind: DiffKind
    control: object = None
    candidate: object = None

    @property
    def field(self) -> str:
        return field_of(self.path)


@dataclass(frozen=True, slots=True)
class WsMessage:
    """One complete WebSocket message a server sent, ``at`` seconds after the session opened."""

    at: float
    text: str | None = None
    data: bytes | None = None


@dataclass(frozen=True, slots=True)
class Observation:
    """One side's answer to one request (Scientist's observation): what came back and when.

    Times are durations in seconds from sending the request (or opening the session).
    ``ttfb_s`` is the time to the first *body* byte, which for an SSE stream is the time to
    its first event. ``error`` is set when the side gave no usable answer (then ``status`` is
    0 and the body holds whatever arrived). ``messages`` is set for a WebSocket session: the
    server's messages in arrival order."""

    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes
    latency_s: float
    ttfb_s: float | None = None
    error: CandidateErrorKind | None = None
    messages: tuple[WsMessage, ...] | None = None

    def header(self, name: bytes) -> bytes | None:
        """The first value of a (lower-case) header, or None."""
        for key, value in self.headers:
            if key == name:
                return value
        return None


@dataclass(frozen=True, slots=True)
class Trial:
    """One mirrored request with every answer to it, ready to compare (the replayer's output).

    ``served_by`` says which side answered the customer (its observation comes from the
    proxy's record); the other side's comes from the replay. ``noise`` is the second legacy
    call made for a sampled share of requests (rfcs/0005 §5), under ``<id>.noise``.
    ``request_headers`` still hold credentials: redact before storing anything."""

    request_id: str
    route: str
    method: str
    target: str
    served_by: Side
    request_headers: tuple[tuple[bytes, bytes], ...]
    request_body: bytes
    legacy: Observation
    candidate: Observation
    noise: Observation | None = None


class CandidateGarbage(Exception):
    """Raised by a comparator when the candidate's body cannot be read the way the control's
    was (JSON that does not parse, audio that does not decode, a broken SSE stream): the
    request's outcome is ``candidate_error`` of kind ``garbage``, not a list of diffs."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """The classified result of one comparison (Scientist's result).

    ``mismatched`` holds the diffs that count; ``ignored`` maps an ignore rule's name (or
    ``"noise"`` for learned noise) to the diffs it covered. ``outcome`` is ``mismatched``
    when any diff counts, ``ignored`` when diffs exist but all are covered, else ``matched``;
    ``candidate_error`` carries ``error`` instead of diffs."""

    outcome: Outcome
    mismatched: tuple[Diff, ...] = ()
    ignored: tuple[tuple[str, tuple[Diff, ...]], ...] = ()
    error: CandidateErrorKind | None = None

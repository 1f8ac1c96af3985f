"""The SSE comparator: two event streams, compared as streams rather than as bytes.

Parsing follows the WHATWG event-stream rules (``data:`` lines joined with ``\\n``, ``event:``,
``id:``, comments and unknown fields ignored, CRLF/CR/LF, an event without its blank line at
the end of the body discarded, as a browser would). Comparing is tuned to OpenAI-style chat
streams (legacy/chat/chunks.py: a role chunk, content chunks, a finish chunk, an optional usage
chunk with ``choices: []``, ``data: [DONE]``) and still works for any other stream, where each
event is only a name and a payload. Reported at (rfcs/0005 §4, shadow/model.py):

- ``$sse.count`` — the numbers of events differ;
- ``$sse.order`` — the sequence of event *kinds* differs once repeats are collapsed (so another
  split of the same text into chunks is not an order change); values show the two sequences;
- ``$sse.terminal`` — ``[DONE]`` missing or extra, the finish chunk missing, extra, or with
  another ``finish_reason``;
- ``$sse.text`` — the reassembled ``choices[0].delta.content`` differs (values: both texts);
- ``$sse.usage`` (the usage chunk on one side only), ``$sse.usage.<field>`` (its values);
- ``$sse[<i>].<json path>`` — schema: the paths of aligned events' JSON, not their values (ids,
  timestamps and text splits are noise); each field is reported once per stream, at the first
  event where it differs. A non-JSON payload is compared whole, at ``$sse[<i>]``.

Events are aligned run by run: runs of one kind are matched in order, and events inside two
matched runs pair up by position (``<i>`` is the control's index). ``subset`` drops ``added``
JSON paths (schema and usage fields), not stream-level findings such as an extra usage chunk.
Time to first event is not here: the engine takes it from ``Observation.ttfb_s``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Final

import orjson

from shadow.compare.config import CompareConfig
from shadow.compare.json_diff import describe, diff_values
from shadow.model import CandidateGarbage, Diff, field_of

__all__ = ["SseEvent", "compare_sse", "parse_sse"]

DONE: Final = "[DONE]"
_LINE_END: Final = re.compile(r"\r\n|\r|\n")
_NOT_JSON: Final = object()


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One dispatched event: its type (``message`` unless named), data, and last event id."""

    event: str
    data: str
    id: str | None = None


def parse_sse(body: bytes) -> list[SseEvent]:
    """The events of a whole ``text/event-stream`` body.

    Raises :class:`UnicodeDecodeError` for a body that is not UTF-8 (the spec would replace the
    bad bytes; a comparator wants to know)."""
    text = body.decode("utf-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = _LINE_END.split(text) if "\r" in text else text.split("\n")
    events: list[SseEvent] = []
    data: list[str] = []
    event = ""
    last_id: str | None = None
    for line in lines[:-1]:  # the last piece has no line end: an unfinished line, discarded
        if not line:
            if data:
                events.append(SseEvent(event or "message", "\n".join(data), last_id))
            data, event = [], ""
        elif line[0] != ":":
            name, colon, value = line.partition(":")
            if colon and value[:1] == " ":
                value = value[1:]
            if name == "data":
                data.append(value)
            elif name == "event":
                event = value
            elif name == "id" and "\0" not in value:
                last_id = value
    return events


@dataclass(frozen=True, slots=True)
class _Stream:
    """One side's events, read once: each event's kind and parsed payload, and the chat facts."""

    kinds: list[str]
    docs: list[object]  # parsed JSON, or _NOT_JSON
    data: list[str]
    text: str | None  # reassembled content, None when no chunk carried any
    finish_reason: str | None
    usage: dict[str, object] | None
    done: bool

    @classmethod
    def read(cls, events: list[SseEvent]) -> _Stream:
        kinds, docs, data, text = [], [], [], []
        finish_reason: str | None = None
        usage: dict[str, object] | None = None
        has_text = False
        for event in events:
            doc = _parse(event.data)
            shape = "other"
            if event.data == DONE:
                shape = DONE
            elif type(doc) is dict:
                shape, content, reason = _chat_shape(doc)
                if content is not None:
                    text.append(content)
                    has_text = True
                finish_reason = reason or finish_reason
                if type(found := doc.get("usage")) is dict:
                    usage = found
            kinds.append(_kind(event.event, shape))
            docs.append(doc)
            data.append(event.data)
        joined = "".join(text) if has_text else None
        done = DONE in data
        return cls(kinds, docs, data, joined, finish_reason, usage, done)

    def is_json(self) -> bool:
        """Every payload but ``[DONE]`` is JSON (and there is one): its peer's must be too."""
        payloads = [d for d, raw in zip(self.docs, self.data, strict=True) if raw != DONE]
        return bool(payloads) and all(d is not _NOT_JSON for d in payloads)


def compare_sse(control: bytes, candidate: bytes, config: CompareConfig) -> list[Diff]:
    """Diffs of two SSE bodies (see the module docstring); ``[]`` when equal.

    A control body that is not UTF-8 is compared as bytes (``$body``). Raises
    :class:`~shadow.model.CandidateGarbage` when the control's stream reads and the
    candidate's does not: not UTF-8, no event while the control has some, or a payload that is
    not JSON in a stream whose control payloads all are."""
    if control == candidate:
        return []
    try:
        legacy_events = parse_sse(control)
    except UnicodeDecodeError:
        return [Diff("$body", "changed", f"bytes({len(control)})", f"bytes({len(candidate)})")]
    try:
        candidate_events = parse_sse(candidate)
    except UnicodeDecodeError as exc:
        raise CandidateGarbage(f"candidate stream is not UTF-8: {exc}") from exc
    if legacy_events and not candidate_events:
        raise CandidateGarbage("candidate stream has no event; the control's has some")
    a, b = _Stream.read(legacy_events), _Stream.read(candidate_events)
    if a.is_json() and any(
        doc is _NOT_JSON and raw != DONE for doc, raw in zip(b.docs, b.data, strict=True)
    ):
        raise CandidateGarbage("a candidate event's data is not JSON; the control's all are")
    diffs = _stream_diffs(a, b)
    if a.usage is not None and b.usage is not None:
        diffs += diff_values(a.usage, b.usage, config, prefix="$sse.usage")
    diffs += _event_diffs(a, b, config)
    return diffs


def _stream_diffs(a: _Stream, b: _Stream) -> list[Diff]:
    diffs: list[Diff] = []
    if len(a.kinds) != len(b.kinds):
        diffs.append(Diff("$sse.count", "changed", len(a.kinds), len(b.kinds)))
    runs_a, runs_b = _runs(a.kinds), _runs(b.kinds)
    if [kind for kind, _ in runs_a] != [kind for kind, _ in runs_b]:
        diffs.append(Diff("$sse.order", "changed", _show(runs_a), _show(runs_b)))
    if a.done != b.done:
        diffs.append(_presence("$sse.terminal", DONE if a.done else None, DONE if b.done else None))
    if a.finish_reason != b.finish_reason:
        diffs.append(_presence("$sse.terminal", a.finish_reason, b.finish_reason))
    if a.text != b.text:
        diffs.append(Diff("$sse.text", "changed", a.text, b.text))
    if (a.usage is None) != (b.usage is None):
        diffs.append(_presence("$sse.usage", _maybe(a.usage), _maybe(b.usage)))
    return diffs


def _event_diffs(a: _Stream, b: _Stream, config: CompareConfig) -> list[Diff]:
    """Schema diffs of aligned events, each (field, kind) once, at its first event."""
    runs_a, runs_b = _runs(a.kinds), _runs(b.kinds)
    matcher = SequenceMatcher(None, [k for k, _ in runs_a], [k for k, _ in runs_b], autojunk=False)
    seen: set[tuple[str, str]] = set()
    diffs: list[Diff] = []
    for block in matcher.get_matching_blocks():
        for r in range(block.size):
            (_, events_a), (_, events_b) = runs_a[block.a + r], runs_b[block.b + r]
            for i, j in zip(events_a, events_b, strict=False):
                for diff in _pair_diffs(a, i, b, j, config):
                    key = (field_of(diff.path), diff.kind)
                    if key not in seen:
                        seen.add(key)
                        diffs.append(diff)
    return diffs


def _pair_diffs(a: _Stream, i: int, b: _Stream, j: int, config: CompareConfig) -> list[Diff]:
    doc_a, doc_b = a.docs[i], b.docs[j]
    where = f"$sse[{i}]"
    if doc_a is not _NOT_JSON and doc_b is not _NOT_JSON:
        return diff_values(doc_a, doc_b, config, prefix=where, schema_only=True)
    if doc_a is _NOT_JSON and doc_b is _NOT_JSON:
        same = a.data[i] == b.data[j]
        return [] if same else [Diff(where, "changed", a.data[i], b.data[j])]
    return [Diff(where, "type_changed", _payload(doc_a), _payload(doc_b))]


def _chat_shape(doc: dict[str, object]) -> tuple[str, str | None, str | None]:
    """An OpenAI chunk's shape class, the content it carries and its finish_reason."""
    choices = doc.get("choices")
    if type(choices) is not list:
        return "other", None, None
    if not choices:
        return ("usage", None, None) if type(doc.get("usage")) is dict else ("other", None, None)
    choice = choices[0]
    if type(choice) is not dict:
        return "other", None, None
    delta = choice.get("delta")
    content = delta.get("content") if type(delta) is dict else None
    text = content if type(content) is str else None
    reason = choice.get("finish_reason")
    if type(reason) is str:
        return "finish", text, reason
    if type(delta) is not dict:
        return "other", None, None
    if "role" in delta:
        return "role", text, None
    if "content" in delta or "tool_calls" in delta:
        return "content", text, None
    return "other", text, None


def _kind(event: str, shape: str) -> str:
    """``content`` for a chat chunk, ``progress`` for a named event, ``delta:content`` for both."""
    if event == "message":
        return shape
    return event if shape == "other" else f"{event}:{shape}"


def _parse(data: str) -> object:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return _NOT_JSON


def _runs(kinds: list[str]) -> list[tuple[str, list[int]]]:
    """Consecutive events of one kind, grouped: ``[(kind, [indices]), ...]``."""
    runs: list[tuple[str, list[int]]] = []
    for index, kind in enumerate(kinds):
        if runs and runs[-1][0] == kind:
            runs[-1][1].append(index)
        else:
            runs.append((kind, [index]))
    return runs


def _show(runs: list[tuple[str, list[int]]]) -> str:
    return " ".join(kind if len(ix) == 1 else f"{kind}x{len(ix)}" for kind, ix in runs)


def _presence(path: str, control: object, candidate: object) -> Diff:
    if candidate is None:
        return Diff(path, "removed", control, None)
    if control is None:
        return Diff(path, "added", None, candidate)
    return Diff(path, "changed", control, candidate)


def _maybe(value: object) -> object:
    return None if value is None else describe(value)


def _payload(doc: object) -> str:
    return "text" if doc is _NOT_JSON else str(describe(doc))

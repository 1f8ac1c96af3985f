"""A route's ``compare:`` block of ``banyan.yaml``, checked and frozen (rfcs/0005 §4).

The proxy carries the block without looking inside (proxy/config.py); the shadow engine parses
it here, once per route at start, and refuses a bad block with a message naming the route and
the field to fix, so a typo cannot silently compare nothing::

    compare:
      kind: json                     # auto (default) | json | audio | sse | websocket | bytes
      headers: [content-type]        # compared response headers, lower-cased
      ignore:                        # named rules; a diff they cover is "ignored(<name>)"
        - {name: request-id, path: request_id}          # a field and everything under it
        - {name: timings, regex: "^timestamps\\.(start|end)_time_seconds\\[\\d+\\]$"}
      tolerance: {default: 0, metrics.latency: 1000}     # absolute, per field
      unordered: ["data[*]"]         # fields whose lists compare as multisets
      subset: false                  # true: the candidate may add fields
      audio: {duration_tolerance_s: 0.05, min_similarity: 0.9}
      redact: [input]                # body fields never stored in examples
      messages: in_order             # a socket's server messages: in_order (default) | by_type
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, TypeAlias

from shadow.model import field_of

__all__ = ["AudioOptions", "CompareConfig", "CompareConfigError", "IgnoreRule", "parse_compare"]

CompareKind: TypeAlias = Literal["auto", "json", "audio", "sse", "websocket", "bytes"]
# How a socket's server messages are lined up: as one sequence, or each type as its own. A
# route whose message types come from independent clocks (speech-to-text: VAD events as audio
# arrives, transcripts as recognition finishes) interleaves them by timing, which two sides
# never share: in_order would report the interleaving; by_type compares each type's messages in
# their order and ignores how the types interleave.
MessageOrder: TypeAlias = Literal["in_order", "by_type"]
_KINDS: tuple[CompareKind, ...] = ("auto", "json", "audio", "sse", "websocket", "bytes")
_RULE_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


class CompareConfigError(ValueError):
    """A ``compare:`` block that cannot be used; the message names the route and the field."""


@dataclass(frozen=True, slots=True)
class IgnoreRule:
    """A named reason to ignore diffs: a field (and everything under it) or a regex on paths.

    ``path`` is written like :attr:`shadow.model.Diff.field` (``data[*].id``); ``regex``
    searches the concrete path (``choices[0].message.content``)."""

    name: str
    path: str | None = None
    regex: re.Pattern[str] | None = None

    def covers(self, path: str) -> bool:
        if self.regex is not None:
            return self.regex.search(path) is not None
        assert self.path is not None
        general = field_of(path)
        prefix = self.path
        return general == prefix or general.startswith((prefix + ".", prefix + "["))


@dataclass(frozen=True, slots=True)
class AudioOptions:
    duration_tolerance_s: float = 0.05
    min_similarity: float = 0.9


@dataclass(frozen=True, slots=True)
class CompareConfig:
    kind: CompareKind = "auto"
    headers: tuple[str, ...] = ("content-type",)
    ignore: tuple[IgnoreRule, ...] = ()
    # Absolute numeric tolerance per field (generalised path); "default" applies elsewhere.
    tolerance: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    unordered: frozenset[str] = frozenset()
    subset: bool = False
    audio: AudioOptions = AudioOptions()
    redact: frozenset[str] = frozenset()
    messages: MessageOrder = "in_order"

    def tolerance_for(self, path: str) -> float:
        """The tolerance of a concrete path: its field's, else ``default``, else 0."""
        general = field_of(path)
        if general in self.tolerance:
            return self.tolerance[general]
        return self.tolerance.get("default", 0.0)


def parse_compare(raw: Mapping[str, Any], *, route: str) -> CompareConfig:
    """Check one route's block; raise :class:`CompareConfigError` on the first problem."""

    def fail(where: str, problem: str) -> CompareConfigError:
        return CompareConfigError(f"route {route!r}: compare.{where}: {problem}")

    known = {
        "kind", "headers", "ignore", "tolerance", "unordered", "subset", "audio", "redact",
        "messages",
    }  # fmt: skip
    for key in raw:
        if key not in known:
            raise fail(str(key), f"unknown key (known: {', '.join(sorted(known))})")
    kind = raw.get("kind", "auto")
    if kind not in _KINDS:
        raise fail("kind", f"{kind!r}: expected one of {', '.join(_KINDS)}")
    headers = _strings(raw.get("headers", ["content-type"]), "headers", fail)
    rules = tuple(
        _rule(i, item, fail) for i, item in enumerate(_list(raw.get("ignore", []), "ignore", fail))
    )
    names = [rule.name for rule in rules]
    if len(set(names)) != len(names):
        raise fail("ignore", f"rule names must be unique, got {names}")
    tolerance = raw.get("tolerance", {})
    if not isinstance(tolerance, Mapping):
        raise fail("tolerance", "expected a mapping of field to a number >= 0")
    tolerances: dict[str, float] = {}
    for key, value in tolerance.items():
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not value >= 0
            or math.isinf(value)
        ):
            raise fail(f"tolerance.{key}", f"{value!r}: expected a finite number >= 0")
        tolerances[str(key)] = float(value)
    subset = raw.get("subset", False)
    if not isinstance(subset, bool):
        raise fail("subset", f"{subset!r}: expected true or false")
    audio_raw = raw.get("audio", {})
    if not isinstance(audio_raw, Mapping) or set(audio_raw) - {
        "duration_tolerance_s",
        "min_similarity",
    }:
        raise fail("audio", "expected {duration_tolerance_s: s >= 0, min_similarity: 0..1}")
    audio = AudioOptions(**{key: _fraction(key, audio_raw[key], fail) for key in audio_raw})
    messages = raw.get("messages", "in_order")
    if messages not in ("in_order", "by_type"):
        raise fail("messages", f"{messages!r}: expected in_order or by_type")
    return CompareConfig(
        kind=kind,
        headers=tuple(name.lower() for name in headers),
        ignore=rules,
        tolerance=MappingProxyType(tolerances),
        unordered=frozenset(_strings(raw.get("unordered", []), "unordered", fail)),
        subset=subset,
        audio=audio,
        redact=frozenset(_strings(raw.get("redact", []), "redact", fail)),
        messages=messages,
    )


def _list(value: object, where: str, fail: Any) -> list[Any]:
    if not isinstance(value, list):
        raise fail(where, f"{value!r}: expected a list")
    return value


def _strings(value: object, where: str, fail: Any) -> list[str]:
    items = _list(value, where, fail)
    for item in items:
        if not isinstance(item, str) or not item:
            raise fail(where, f"{item!r}: expected a non-empty string")
    return items


def _rule(index: int, item: object, fail: Any) -> IgnoreRule:
    where = f"ignore[{index}]"
    if not isinstance(item, Mapping) or set(item) - {"name", "path", "regex"}:
        raise fail(where, "expected {name, path} or {name, regex}")
    name = item.get("name")
    if not isinstance(name, str) or not _RULE_NAME.match(name):
        raise fail(f"{where}.name", f"{name!r}: expected a name like 'request-id'")
    if ("path" in item) == ("regex" in item):
        raise fail(where, "give exactly one of path or regex")
    if "path" in item:
        path = item["path"]
        if not isinstance(path, str) or not path:
            raise fail(f"{where}.path", f"{path!r}: expected a field such as data[*].id")
        return IgnoreRule(name=name, path=field_of(path))
    try:
        regex = re.compile(str(item["regex"]))
    except re.error as exc:
        raise fail(f"{where}.regex", f"{item['regex']!r}: {exc}") from exc
    return IgnoreRule(name=name, regex=regex)


def _fraction(key: str, value: object, fail: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise fail(f"audio.{key}", f"{value!r}: expected a number >= 0")
    if key == "min_similarity" and value > 1:
        raise fail(f"audio.{key}", f"{value!r}: expected a number in 0..1")
    return float(value)

"""The JSON comparator on the counting path: every compared JSON answer goes through here.

Fast enough to compare *every* mirrored request (rfcs/0005 §1.3, §4): equal raw bytes return at
once; otherwise both bodies are parsed with orjson and their canonical forms (sorted keys) are
compared, which settles the common case of equal documents with another key order. Only
documents that really differ are walked, both at once, node by node, which yields exactly the
set of places where they differ:

- a key or list element on one side only is ONE ``added``/``removed`` diff at the root of that
  subtree (``debug``, ``data[3]``), never one per leaf below it;
- two values of different JSON types are one ``type_changed`` (``1`` vs ``"1"``, an object vs
  ``null``); ``1`` vs ``1.0`` is the same number and no diff;
- two values of one type that differ are ``changed``; numbers first get the route's absolute
  tolerance (exact by default: ``0.1`` vs ``0.1 + 1e-9`` is ``changed``).

The RFC describes this as "flatten both, compare the path sets"; walking the two trees together
gives the same paths with the subtree-root rule for free and builds no path for equal leaves.

Values in a :class:`~shadow.model.Diff` are the scalars themselves, or ``"object(3 keys)"`` /
``"array(2 items)"`` for a subtree. Strings are kept whole, never truncated here: the engine
decodes base64 audio (``audios[0]``, ``audio``) from them, and storage caps what it keeps.

Paths follow shadow/model.py: ``choices[0].message.content``, ``$`` for the root. A key that
would make a path ambiguous (empty, starting with ``$``, or holding ``.``, ``[``, ``]`` or ``"``)
is written as a quoted index: ``meta["a.b"]``. Deliberately not here: ignore rules and learned
noise (the engine classifies the diffs), DeepDiff (shadow/compare/explain.py, examples only).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from typing import Final

import orjson

from shadow.compare.config import CompareConfig
from shadow.model import CandidateGarbage, Diff, field_of

__all__ = ["canonical", "compare_json", "describe", "diff_values", "key_segment"]

_SORT: Final = orjson.OPT_SORT_KEYS
_MISSING: Final = object()
_AMBIGUOUS: Final = re.compile(r'[.\[\]"]')
_CONTAINERS: Final = (dict, list)
# JSON type of a parsed value; int and float are one "number" (1 == 1.0), bool is not a number.
_JSON_TYPE: Final[dict[type, str]] = {
    dict: "object",
    list: "array",
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    type(None): "null",
}


def compare_json(
    control: bytes, candidate: bytes, config: CompareConfig, *, prefix: str = ""
) -> list[Diff]:
    """Diffs of two JSON bodies; ``[]`` when they are the same document.

    ``prefix`` is the path of the document's root when it sits inside something else
    (``$ws[3]``); paths then read ``$ws[3].type``. A control body that is not JSON is compared
    as bytes (one ``changed`` at ``$body``, or at ``prefix``); a candidate body that is not
    JSON while the control's is raises :class:`~shadow.model.CandidateGarbage`."""
    if control == candidate:
        return []
    try:
        legacy_doc = orjson.loads(control)
    except orjson.JSONDecodeError:
        where = prefix or "$body"
        return [Diff(where, "changed", f"bytes({len(control)})", f"bytes({len(candidate)})")]
    try:
        candidate_doc = orjson.loads(candidate)
    except orjson.JSONDecodeError as exc:
        raise CandidateGarbage(f"candidate body is not JSON: {exc}") from exc
    if orjson.dumps(legacy_doc, option=_SORT) == orjson.dumps(candidate_doc, option=_SORT):
        return []
    return diff_values(legacy_doc, candidate_doc, config, prefix=prefix)


def diff_values(
    control: object,
    candidate: object,
    config: CompareConfig,
    *,
    prefix: str = "",
    schema_only: bool = False,
) -> list[Diff]:
    """Diffs of two parsed JSON values (see the module docstring for the rules).

    ``schema_only`` compares shapes, not values (SSE chunks, whose ids and text splits are
    noise): keys and list elements present on one side only, and ``type_changed`` where one
    side has a non-empty object or array and the other a scalar or an empty one. Tolerance and
    ``unordered`` are looked up by the reported path's field, in the notation of
    :attr:`~shadow.model.Diff.field`, like ignore rules."""
    out: list[Diff] = []
    _Walk(config, out, schema_only).node(control, candidate, prefix)
    return out


def canonical(value: object) -> bytes:
    """The bytes two equal documents share, whatever their key order."""
    return orjson.dumps(value, option=_SORT)


def describe(value: object) -> object:
    """What a diff shows of a value: the scalar itself, or the size of a subtree."""
    if type(value) is dict:
        return f"object({len(value)} keys)"
    if type(value) is list:
        return f"array({len(value)} items)"
    return value


def key_segment(key: str) -> str:
    """How a key is written in a path: bare when unambiguous, else ``["quoted"]``."""
    if key.isidentifier() or (key and key[0] != "$" and _AMBIGUOUS.search(key) is None):
        return key
    return "[" + json.dumps(key, ensure_ascii=False) + "]"


class _Walk:
    """One walk over two documents; holds what every node needs so the recursion passes
    only the node. Paths are built per visited pair; equal scalars are skipped before that."""

    __slots__ = ("added", "config", "out", "schema_only", "tolerant", "unordered")

    def __init__(self, config: CompareConfig, out: list[Diff], schema_only: bool) -> None:
        self.config = config
        self.out = out
        self.schema_only = schema_only
        self.added = not config.subset
        self.tolerant = bool(config.tolerance)
        self.unordered = config.unordered

    def node(self, a: object, b: object, path: str) -> None:
        if type(a) is dict and type(b) is dict:
            self.objects(a, b, path)
        elif type(a) is list and type(b) is list:
            if self.unordered and self.is_unordered(path):
                self.multisets(a, b, path)
            else:
                self.arrays(a, b, path)
        elif self.schema_only:
            if (type(a) in _CONTAINERS and a) or (type(b) in _CONTAINERS and b):
                self.type_changed(a, b, path)
        else:
            self.scalars(a, b, path)

    def objects(self, a: dict[str, object], b: dict[str, object], path: str) -> None:
        out = self.out
        shared = 0
        for key, va in a.items():
            vb = b.get(key, _MISSING)
            if vb is _MISSING:
                out.append(Diff(_child(path, key), "removed", describe(va), None))
                continue
            shared += 1
            if type(va) is not type(vb) or type(va) in _CONTAINERS or va != vb:
                self.node(va, vb, _child(path, key))
        if self.added and len(b) > shared:
            for key, vb in b.items():
                if key not in a:
                    out.append(Diff(_child(path, key), "added", None, describe(vb)))

    def arrays(self, a: list[object], b: list[object], path: str) -> None:
        for i, (va, vb) in enumerate(zip(a, b, strict=False)):
            if type(va) is not type(vb) or type(va) in _CONTAINERS or va != vb:
                self.node(va, vb, f"{path}[{i}]")
        self.extras(a, range(len(b), len(a)), b, range(len(a), len(b)), path)

    def multisets(self, a: list[object], b: list[object], path: str) -> None:
        """An unordered list: equal as multisets of canonical elements, or else the elements
        left over on each side, sorted by their canonical bytes, compared pairwise (a changed
        element at the control's index) and the rest added/removed."""
        keys_a = [canonical(v) for v in a]
        keys_b = [canonical(v) for v in b]
        left_a, left_b = _unmatched(keys_a, keys_b), _unmatched(keys_b, keys_a)
        if not left_a and not left_b:
            return
        left_a.sort()
        left_b.sort()
        pairs = min(len(left_a), len(left_b))
        for (_, i), (_, j) in zip(left_a[:pairs], left_b[:pairs], strict=True):
            self.node(a[i], b[j], f"{path}[{i}]")
        rest_a = sorted(i for _, i in left_a[pairs:])
        rest_b = sorted(j for _, j in left_b[pairs:])
        self.extras(a, rest_a, b, rest_b, path)

    def extras(
        self,
        a: list[object],
        only_a: Iterable[int],
        b: list[object],
        only_b: Iterable[int],
        path: str,
    ) -> None:
        for i in only_a:
            self.out.append(Diff(f"{path}[{i}]", "removed", describe(a[i]), None))
        if self.added:
            for j in only_b:
                self.out.append(Diff(f"{path}[{j}]", "added", None, describe(b[j])))

    def scalars(self, a: object, b: object, path: str) -> None:
        kind_a, kind_b = _JSON_TYPE[type(a)], _JSON_TYPE[type(b)]
        if kind_a != kind_b:
            self.type_changed(a, b, path)
            return
        if a == b:
            return  # equal scalars; 1 == 1.0 (both "number"), True != 1 (another type)
        if kind_a == "number" and self.tolerant:
            assert isinstance(a, int | float)
            assert isinstance(b, int | float)
            if abs(a - b) <= self.config.tolerance_for(path or "$"):
                return
        self.out.append(Diff(path or "$", "changed", a, b))

    def type_changed(self, a: object, b: object, path: str) -> None:
        self.out.append(Diff(path or "$", "type_changed", describe(a), describe(b)))

    def is_unordered(self, path: str) -> bool:
        general = field_of(path) if path else "$"
        elements = general + "[*]" if path else "[*]"
        return general in self.unordered or elements in self.unordered


def _child(path: str, key: str) -> str:
    segment = key_segment(key)
    if segment[0] == "[":
        return path + segment
    return f"{path}.{segment}" if path else segment


def _unmatched(keys: list[bytes], others: list[bytes]) -> list[tuple[bytes, int]]:
    """``keys`` (with their index) that ``others`` has no copy left of, as multisets."""
    available = Counter(others)
    left: list[tuple[bytes, int]] = []
    for i, key in enumerate(keys):
        if available[key] > 0:
            available[key] -= 1
        else:
            left.append((key, i))
    return left

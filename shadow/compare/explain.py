"""A rich, human-oriented explanation of two JSON bodies, for *stored examples only*.

DeepDiff (v9) explains a difference better than a list of paths (what changed into what, items
moved in an unordered list), but at ~400 comparisons/s it must never be on the counting path
(rfcs/0005 §1.3, §4): the engine calls :func:`explain` only for an example it is about to keep.

The route's compare block is honoured so an explanation agrees with the counted verdict:

- ignore rules: ``path`` rules become DeepDiff ``exclude_regex_paths`` (pruned while diffing);
  ``regex`` rules are written against *our* path notation, which DeepDiff does not speak, so
  every reported item is mapped back to our notation and dropped when a rule covers it;
- ``unordered`` fields get ``ignore_order`` through ``ignore_order_func``, per list;
- tolerance: DeepDiff's ``math_epsilon`` is one global number, so a custom operator applies
  ``CompareConfig.tolerance_for`` per field instead (exact, and bool is never a number);
- ``1`` vs ``1.0`` is no difference and ``1`` vs ``1.5`` a changed value, as in json_diff
  (``ignore_type_in_groups=[(int, float)]``); since bool is an int to Python, an operator keeps
  ``true`` vs ``1`` a type change;
- ``subset`` drops ``*_item_added``.

The result maps DeepDiff's report types (``values_changed``, ``type_changes``,
``dictionary_item_added`` ...) to ``{path in our notation: {"control": …, "candidate": …}}``,
JSON-safe, and at most :data:`MAX_BYTES` once serialized: strings are cut at 256 characters,
subtrees over 1 KB are described (``"object(40 keys)"``), and entries past the budget are
counted in ``"omitted"`` instead of kept.
"""

from __future__ import annotations

import re
from typing import Any, Final

import orjson
from deepdiff import DeepDiff
from deepdiff.model import DiffLevel
from deepdiff.operator import BaseOperator

from shadow.compare.config import CompareConfig
from shadow.compare.json_diff import describe, key_segment
from shadow.model import field_of

__all__ = ["MAX_BYTES", "explain"]

MAX_BYTES: Final = 16 * 1024
_MAX_STRING: Final = 256
_MAX_VALUE_BYTES: Final = 1024
_MAX_DIFFS: Final = 1000
_ADDED: Final = frozenset({"dictionary_item_added", "iterable_item_added"})
# One segment of our path notation: [*] or [3], ["quoted key"], or a bare key.
_SEGMENT: Final = re.compile(r'\[(\*|\d+)\]|\[("(?:[^"\\]|\\.)*")\]|\.?([^.\[\]]+)')


def explain(control: bytes, candidate: bytes, config: CompareConfig) -> dict[str, Any]:
    """DeepDiff's explanation of two JSON bodies under the route's rules (module docstring).

    ``{}`` when they do not differ once the rules apply; ``{"unparsed": [...]}`` naming the
    side(s) whose body is not JSON, since there is nothing to explain field by field."""
    docs: list[object] = []
    unparsed = []
    for side, body in (("control", control), ("candidate", candidate)):
        try:
            docs.append(orjson.loads(body))
        except orjson.JSONDecodeError:
            unparsed.append(side)
    if unparsed:
        return {"unparsed": unparsed}
    tree = DeepDiff(
        docs[0],
        docs[1],
        view="tree",
        ignore_type_in_groups=[(int, float)],
        exclude_regex_paths=[r for rule in config.ignore if (r := _deepdiff_regex(rule.path))],
        ignore_order_func=lambda level: _is_unordered(our_path(level), config),
        custom_operators=[_BoolIsNotANumber(), *([_Tolerance(config)] if config.tolerance else [])],
        max_diffs=_MAX_DIFFS,
    )
    return _capped(_entries(tree, config))


def our_path(level: DiffLevel) -> str:
    """A DeepDiff level's path in shadow/model.py's notation (``choices[0].message``)."""
    path = ""
    for item in level.path(output_format="list"):
        if isinstance(item, int):
            path += f"[{item}]"
        else:
            segment = key_segment(str(item))
            path += segment if segment[0] == "[" or not path else "." + segment
    return path or "$"


class _BoolIsNotANumber(BaseOperator):
    """``true`` vs ``1`` is a type change, which the (int, float) type group would hide."""

    def match(self, level: DiffLevel) -> bool:
        return (type(level.t1) is bool) != (type(level.t2) is bool)

    def give_up_diffing(self, level: DiffLevel, diff_instance: DeepDiff) -> bool:
        diff_instance.custom_report_result("type_changes", level)  # type: ignore[no-untyped-call]
        return True

    def normalize_value_for_hashing(self, parent: object, obj: object) -> object:
        return obj


class _Tolerance(BaseOperator):
    """Two numbers within the field's tolerance are no difference (bool is not a number)."""

    def __init__(self, config: CompareConfig) -> None:
        super().__init__()
        self.config = config

    def match(self, level: DiffLevel) -> bool:
        return _is_number(level.t1) and _is_number(level.t2)

    def give_up_diffing(self, level: DiffLevel, diff_instance: object) -> bool:
        allowed = self.config.tolerance_for(our_path(level))
        return bool(abs(level.t1 - level.t2) <= allowed)

    def normalize_value_for_hashing(self, parent: object, obj: object) -> object:
        """Unordered lists hash elements as they are: a tolerance pairs, it does not merge."""
        return obj


def _entries(tree: Any, config: CompareConfig) -> list[tuple[str, str, dict[str, object]]]:
    """(report type, our path, entry) for every reported item the rules leave, sorted."""
    entries = []
    for report in sorted(tree):
        if config.subset and report in _ADDED:
            continue
        for level in tree[report]:
            path = our_path(level)
            if any(rule.covers(path) for rule in config.ignore):
                continue
            entry: dict[str, object] = {}
            if not report.endswith("_added"):
                entry["control"] = _safe(level.t1)
            if not report.endswith("_removed"):
                entry["candidate"] = _safe(level.t2)
            entries.append((report, path, entry))
    entries.sort(key=lambda e: (e[0], e[1]))
    return entries


def _capped(entries: list[tuple[str, str, dict[str, object]]]) -> dict[str, Any]:
    """The entries grouped by report type, as many as fit :data:`MAX_BYTES` serialized."""
    out: dict[str, Any] = {}
    budget = MAX_BYTES - 64  # room for the "omitted" count and the braces
    used, omitted = 2, 0
    for report, path, entry in entries:
        # An entry's share: its path and entry, quotes and separators, and the report's key
        # the first time (a slight overestimate, never an underestimate).
        cost = len(orjson.dumps({path: entry})) + (len(report) + 6 if report not in out else 0)
        if used + cost > budget:
            omitted += 1
            continue
        used += cost
        out.setdefault(report, {})[path] = entry
    if omitted:
        out["omitted"] = omitted
    return out


def _safe(value: object) -> object:
    """A JSON-safe, bounded rendering of one side's value (DeepDiff's "not present" → None)."""
    if isinstance(value, str):
        if len(value) > _MAX_STRING:
            return f"{value[:_MAX_STRING]}…(+{len(value) - _MAX_STRING} chars)"
        return value
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict | list):
        if len(orjson.dumps(value)) > _MAX_VALUE_BYTES:
            return describe(value)
        return value
    return None  # deepdiff's NotPresent marker


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_unordered(path: str, config: CompareConfig) -> bool:
    if not config.unordered:
        return False
    general = field_of(path)
    elements = "[*]" if general == "$" else general + "[*]"
    return general in config.unordered or elements in config.unordered


def _deepdiff_regex(field: str | None) -> str | None:
    """A ``path`` ignore rule (``data[*].id``) as a DeepDiff path regex; None for a rule that
    names no JSON field (``$status``, ``$headers.x``) or a regex rule."""
    if field is None or (field.startswith("$") and field != "$"):
        return None
    parts = ["^root"]
    rest = "" if field == "$" else field
    for match in _SEGMENT.finditer(rest):
        index, quoted, bare = match.groups()
        if index == "*":
            parts.append(r"\[\d+\]")
        elif index is not None:
            parts.append(rf"\[{index}\]")
        else:
            key = orjson.loads(quoted) if quoted is not None else bare
            parts.append(r"\[['\"]" + re.escape(key) + r"['\"]\]")
    return "".join(parts) + r"(?=$|\[)"

"""Per (route, minute) aggregates of comparisons, mergeable (rfcs/0005 §6 ``shadow.windows``).

A :class:`Window` counts outcomes, mismatched fields by kind, every candidate diff field (for
noise rates), legacy-vs-legacy diffs, skip reasons, candidate error kinds and ignore-rule hits,
and keeps four DDSketch latency sketches in milliseconds (legacy, candidate, and their time to
first byte for streams: SSE and WebSocket sessions). Windows merge exactly (counters add,
sketches merge), so a report over an hour merges 60 rows and never sorts latencies.

Sketch bytes: ``ddsketch`` 3.x's protobuf support needs the ``protobuf`` package (not a
dependency of ours), drops count/sum/min/max, and rebuilds stores bin by bin. We write the same
information plus those four numbers in a small fixed layout (:func:`encode_sketch`): a header of
doubles, then each store as its first key, its length and its counts (uint32 when every count is
whole, float64 otherwise), trimmed to the occupied key range. A 1 ms..10 s latency spread at 1%
accuracy is at most ~460 bins, so a sketch is at most ~1.9 KB and usually a few hundred bytes.
"""

from __future__ import annotations

import math
import struct
import sys
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from ddsketch import DDSketch
from ddsketch.store import DenseStore

from shadow.classify import NOISE_RULE
from shadow.model import Diff, Trial, Verdict

__all__ = [
    "COLUMNS",
    "RELATIVE_ACCURACY",
    "SKETCHES",
    "Window",
    "decode_sketch",
    "encode_sketch",
    "is_stream",
    "merge_windows",
    "new_sketch",
]

RELATIVE_ACCURACY = 0.01
# The latency sketches of a window, in milliseconds; also their column names without "_ms".
SKETCHES = ("legacy", "candidate", "legacy_ttfb", "candidate_ttfb")

_MAGIC = 0xD1
_HEADER = struct.Struct("<BBdddddd")  # magic, version, gamma, zero, count, sum, min, max
_STORE = struct.Struct("<qIB")  # first key, number of bins, 0 = uint32 counts / 1 = float64


def new_sketch() -> DDSketch:
    return DDSketch(RELATIVE_ACCURACY)


def _encode_store(store: DenseStore) -> bytes:
    if store.count == 0:
        return _STORE.pack(0, 0, 0)
    first = store.min_key
    counts = store.bins[first - store.offset : store.max_key - store.offset + 1]
    whole = all(c.is_integer() and 0 <= c < 2**32 for c in counts)
    values = array("I" if whole else "d", [int(c) for c in counts] if whole else counts)
    if sys.byteorder == "big":
        values.byteswap()
    return _STORE.pack(first, len(counts), 0 if whole else 1) + values.tobytes()


def encode_sketch(sketch: DDSketch) -> bytes:
    """Bytes of a sketch made by :func:`new_sketch` (see the module docstring for the layout)."""
    header = _HEADER.pack(
        _MAGIC, 1, sketch._mapping.gamma, sketch._zero_count, sketch._count, sketch._sum,
        sketch._min, sketch._max,
    )  # fmt: skip
    return header + _encode_store(sketch._store) + _encode_store(sketch._negative_store)


def decode_sketch(data: bytes) -> DDSketch:
    """The sketch :func:`encode_sketch` wrote; ValueError when the bytes are not one."""
    try:
        magic, version, gamma, zero, count, total, low, high = _HEADER.unpack_from(data, 0)
    except struct.error as exc:
        raise ValueError(f"not a latency sketch: {exc}") from exc
    sketch = new_sketch()
    if magic != _MAGIC or version != 1:
        raise ValueError(f"not a latency sketch (magic {magic:#x}, version {version})")
    if not math.isclose(gamma, sketch._mapping.gamma, rel_tol=1e-12):
        raise ValueError(f"sketch of another accuracy (gamma {gamma})")
    offset = _HEADER.size
    for store in (sketch._store, sketch._negative_store):
        try:
            first, length, kind = _STORE.unpack_from(data, offset)
        except struct.error as exc:
            raise ValueError(f"truncated latency sketch: {exc}") from exc
        offset += _STORE.size
        values = array("I" if kind == 0 else "d")
        end = offset + length * values.itemsize
        if end > len(data):
            raise ValueError("truncated latency sketch")
        values.frombytes(data[offset:end])
        if sys.byteorder == "big":
            values.byteswap()
        offset = end
        for index, value in enumerate(values):
            if value:
                store.add(first + index, float(value))
    sketch._zero_count = zero
    sketch._count = count
    sketch._sum = total
    sketch._min = low
    sketch._max = high
    return sketch


def is_stream(trial: Trial) -> bool:
    """Whether a trial's time to first byte is a time to first token (SSE or WebSocket)."""
    if trial.legacy.messages is not None:
        return True
    content_type = trial.legacy.header(b"content-type") or b""
    return content_type.startswith(b"text/event-stream")


def _json(counts: Mapping[str, Any]) -> str:
    return orjson.dumps(counts).decode()


def _loads(value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, str | bytes):
        loaded = orjson.loads(value)
        return loaded if isinstance(loaded, dict) else {}
    return dict(value) if isinstance(value, Mapping) else {}


@dataclass(slots=True)
class Window:
    """One route's aggregates over some span (a minute of one writer, or a merged range)."""

    matched: int = 0
    ignored: int = 0
    mismatched: int = 0
    candidate_errors: int = 0
    skipped: int = 0
    legacy_5xx: int = 0
    fields: Counter[tuple[str, str]] = field(default_factory=Counter)  # (field, kind) → n
    diff_fields: Counter[str] = field(default_factory=Counter)
    noise_comparisons: int = 0
    noise_fields: Counter[str] = field(default_factory=Counter)
    skipped_reasons: Counter[str] = field(default_factory=Counter)
    error_kinds: Counter[str] = field(default_factory=Counter)
    ignored_rules: Counter[str] = field(default_factory=Counter)
    sketches: dict[str, DDSketch] = field(default_factory=dict)

    @property
    def compared(self) -> int:
        return self.matched + self.ignored + self.mismatched + self.candidate_errors

    # -- recording ---------------------------------------------------------------------------

    def add_comparison(self, trial: Trial, verdict: Verdict) -> None:
        """Count one compared request (any outcome but ``skipped``)."""
        outcome = verdict.outcome
        if outcome == "matched":
            self.matched += 1
        elif outcome == "ignored":
            self.ignored += 1
        elif outcome == "mismatched":
            self.mismatched += 1
        elif outcome == "candidate_error":
            self.candidate_errors += 1
            self.error_kinds[verdict.error or "unknown"] += 1
        else:
            raise ValueError(f"add_comparison got outcome {outcome!r}; use add_skip")
        if trial.legacy.status >= 500:
            self.legacy_5xx += 1
        if verdict.mismatched:
            self.fields.update({(d.field, d.kind) for d in verdict.mismatched})
        diff_fields = {d.field for d in verdict.mismatched}
        for name, diffs in verdict.ignored:
            self.ignored_rules[name] += 1
            diff_fields.update(d.field for d in diffs)
        self.diff_fields.update(diff_fields)
        stream = is_stream(trial)
        for side, observation in (("legacy", trial.legacy), ("candidate", trial.candidate)):
            if observation.error is not None or observation.status <= 0:
                continue
            self._sketch(side).add(max(observation.latency_s, 0.0) * 1000.0)
            if stream and observation.ttfb_s is not None:
                self._sketch(f"{side}_ttfb").add(max(observation.ttfb_s, 0.0) * 1000.0)

    def add_skip(self, reason: str) -> None:
        self.skipped += 1
        self.skipped_reasons[reason] += 1

    def add_noise(self, diffs: Iterable[Diff]) -> None:
        """Count one legacy-vs-legacy comparison."""
        self.noise_comparisons += 1
        self.noise_fields.update({d.field for d in diffs})

    def _sketch(self, name: str) -> DDSketch:
        sketch = self.sketches.get(name)
        if sketch is None:
            sketch = self.sketches[name] = new_sketch()
        return sketch

    # -- merging and reading -----------------------------------------------------------------

    def merge(self, other: Window) -> None:
        """Add ``other`` into this window (``other`` is left as it was)."""
        self.matched += other.matched
        self.ignored += other.ignored
        self.mismatched += other.mismatched
        self.candidate_errors += other.candidate_errors
        self.skipped += other.skipped
        self.legacy_5xx += other.legacy_5xx
        self.noise_comparisons += other.noise_comparisons
        self.fields.update(other.fields)
        for mine, theirs in (
            (self.diff_fields, other.diff_fields),
            (self.noise_fields, other.noise_fields),
            (self.skipped_reasons, other.skipped_reasons),
            (self.error_kinds, other.error_kinds),
            (self.ignored_rules, other.ignored_rules),
        ):
            mine.update(theirs)
        for name, sketch in other.sketches.items():
            if sketch.count:
                self._sketch(name).merge(sketch)

    def quantiles(self, name: str, qs: Sequence[float]) -> list[float] | None:
        """Quantiles of a latency sketch in ms, or None when it holds no value."""
        sketch = self.sketches.get(name)
        if sketch is None or sketch.count == 0:
            return None
        values = [sketch.get_quantile_value(q) for q in qs]
        return [float(v) if v is not None else math.nan for v in values]

    @property
    def noise_ignored(self) -> int:
        return self.ignored_rules.get(NOISE_RULE, 0)

    # -- rows of shadow.windows --------------------------------------------------------------

    def column_values(self) -> tuple[object, ...]:
        """Values for :data:`COLUMNS` after ``route, minute, writer``."""
        by_field: dict[str, dict[str, int]] = {}
        for (name, kind), count in self.fields.items():
            by_field.setdefault(name, {})[kind] = count
        return (
            self.matched, self.ignored, self.mismatched, self.candidate_errors, self.skipped,
            self.legacy_5xx, _json(by_field), _json(self.diff_fields), self.noise_comparisons,
            _json(self.noise_fields), _json(self.skipped_reasons), _json(self.error_kinds),
            _json(self.ignored_rules),
            *(
                encode_sketch(self.sketches[name]) if name in self.sketches else None
                for name in SKETCHES
            ),
        )  # fmt: skip

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Window:
        """A window from a ``shadow.windows`` row (jsonb as text or decoded)."""
        window = cls(
            matched=row["matched"], ignored=row["ignored"], mismatched=row["mismatched"],
            candidate_errors=row["candidate_errors"], skipped=row["skipped"],
            legacy_5xx=row["legacy_5xx"], noise_comparisons=row["noise_comparisons"],
        )  # fmt: skip
        for name, kinds in _loads(row["fields"]).items():
            for kind, count in kinds.items():
                window.fields[(name, kind)] += int(count)
        window.diff_fields.update(_loads(row["diff_fields"]))
        window.noise_fields.update(_loads(row["noise_fields"]))
        window.skipped_reasons.update(_loads(row["skipped_reasons"]))
        window.error_kinds.update(_loads(row["error_kinds"]))
        window.ignored_rules.update(_loads(row["ignored_rules"]))
        for name in SKETCHES:
            data = row[f"{name}_ms"]
            if data is not None:
                window.sketches[name] = decode_sketch(bytes(data))
        return window


# Column order of shadow.windows rows written by the store.
COLUMNS = (
    "route", "minute", "writer", "matched", "ignored", "mismatched", "candidate_errors",
    "skipped", "legacy_5xx", "fields", "diff_fields", "noise_comparisons", "noise_fields",
    "skipped_reasons", "error_kinds", "ignored_rules",
    *(f"{name}_ms" for name in SKETCHES),
)  # fmt: skip


def merge_windows(windows: Iterable[Window]) -> Window:
    """One window holding the sum of ``windows``."""
    total = Window()
    for window in windows:
        total.merge(window)
    return total

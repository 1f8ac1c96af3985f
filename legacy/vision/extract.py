"""Extraction: a caller's JSON schema filled from a digitised document, deterministically.

Where a vision-language model would read the page and answer the schema, this step reads the
page's laid-out text the way a person fills a form from a printed one: by labels. It is a
documented, deterministic stand-in: the same pages and schema always give the same result.

1. **Index.** Every line of the document (headings, paragraphs, table cells) is read as key
   then value: split at its first colon, or else after each of its first six words; a table
   row also as its first cell (key) and the rest (value). A line that is only a key takes
   its value from the line below, unless that line has a key of its own (a colon). Every
   table keeps its first row as its header.
2. **Fields** (``fields.py`` scores keys and coerces values). A string, number, integer or
   boolean is the value of the best-scoring key whose value coerces to the field's type and
   validates against the field's own schema (``pattern``, ``minimum``...); ties go to the
   first in reading order. An enum with no labelled value takes the first line mentioning one
   of its options. An object is its fields, filled the same way with its name as context.
   An array of objects is the rows of the tables whose headers name the most of its item's
   fields (rows filling half of them or fewer, like a totals row, are skipped); an array of
   strings or numbers is a matching table column, or a labelled line split at commas.
3. **Absent, not wrong.** A field with no value found is left out (never null or a guess);
   an object or array is left out when it ends up empty or invalid.
4. **Checked.** A required field left out makes the document ``DocumentRejected`` (it lacks
   what the schema demands); otherwise the result is validated against the whole schema, and
   a result that fails is a bug, ``ExtractionInvalid``, never returned.

``annotations`` mirrors ``result``: each leaf replaced by ``{"confidence", "sources"}``, the
confidence being the OCR confidence times the label's score (0.9 more when the value sat on
the line below its label), the sources the lines it came from (page, box, text).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final, cast

from jsonschema.validators import Draft202012Validator

from legacy.vision._types import Box, JsonObject
from legacy.vision.errors import DocumentRejected, ExtractionInvalid
from legacy.vision.fields import Label, coerce, key_words, label_of, score
from legacy.vision.layout import Block, Line, Page
from legacy.vision.schema import check_schema

__all__ = ["Extraction", "extract"]

_KEY_WORDS: Final = 6
_ACCEPT: Final = 0.5
_BELOW: Final = 0.9
_MENTION: Final = 0.5


@dataclass(frozen=True, slots=True)
class Extraction:
    result: JsonObject
    annotations: JsonObject


@dataclass(frozen=True, slots=True)
class _Source:
    page: int
    box: Box
    text: str
    confidence: float


@dataclass(frozen=True, slots=True)
class _Reading:
    key: frozenset[str]
    value: str
    source: _Source
    below: _Source | None


@dataclass(frozen=True, slots=True)
class _Table:
    header: tuple[_Source | None, ...]
    rows: tuple[tuple[_Source | None, ...], ...]


@dataclass(frozen=True, slots=True)
class _Index:
    readings: tuple[_Reading, ...]  # in reading order
    sources: tuple[_Source, ...]  # every line and cell, in reading order
    tables: tuple[_Table, ...]


@dataclass(frozen=True, slots=True)
class _Found:
    value: object
    note: object
    certainty: float = 1.0


def extract(pages: Sequence[Page], schema: JsonObject) -> Extraction:
    """``schema`` (checked first: SchemaRejected) filled from ``pages``; raises
    DocumentRejected when a required field is not in the document."""
    check_schema(schema)
    result, notes, missing = _object(schema, _index(pages), ())
    if missing:
        names = ", ".join(repr(m) for m in missing)
        raise DocumentRejected(
            f"no value was found in the document for the required field(s) {names}: check it "
            "is the right document, or make them optional in the schema"
        )
    error = next(iter(Draft202012Validator(schema).iter_errors(result)), None)
    if error is not None:
        raise ExtractionInvalid(f"the extraction breaks its own schema: {error.message}")
    return Extraction(result, notes)


# -- the index -----------------------------------------------------------------------------------


def _index(pages: Sequence[Page]) -> _Index:
    readings: list[_Reading] = []
    sources: list[_Source] = []
    tables: list[_Table] = []
    for page in pages:
        for number, block in enumerate(page.blocks):
            if block.kind == "table":
                table = _table(page.page_number, block)
                tables.append(table)
                for row in (table.header, *table.rows):
                    cells = [cell for cell in row if cell is not None]
                    sources += cells
                    for cell in cells:
                        readings += _readings(cell, None)
                    if len(cells) >= 2:
                        value = " ".join(c.text for c in cells[1:])
                        readings += _keyed(cells[0], cells[0].text, value, None)
                continue
            following = page.blocks[number + 1] if number + 1 < len(page.blocks) else None
            lines = [_source(page.page_number, line) for line in block.lines]
            below = [*lines[1:], _first(page.page_number, following)]
            for line, under in zip(lines, below, strict=True):
                sources.append(line)
                readings += _readings(line, under)
    return _Index(tuple(readings), tuple(sources), tuple(tables))


def _source(page: int, line: Line) -> _Source:
    return _Source(page, line.box, line.text, line.confidence)


def _first(page: int, block: Block | None) -> _Source | None:
    if block is None or block.kind == "table" or not block.lines:
        return None
    return _source(page, block.lines[0])


def _table(page: int, block: Block) -> _Table:
    rows = tuple(tuple(_source(page, c) if c else None for c in row) for row in block.rows)
    return _Table(rows[0], rows[1:])


def _readings(line: _Source, below: _Source | None) -> list[_Reading]:
    text = line.text
    if ":" in text:
        key, _, value = text.partition(":")
        return _keyed(line, key, value, below)
    words = text.split()
    return [
        reading
        for count in range(1, min(_KEY_WORDS, len(words)) + 1)
        for reading in _keyed(line, " ".join(words[:count]), " ".join(words[count:]), below)
    ]


def _keyed(line: _Source, key: str, value: str, below: _Source | None) -> list[_Reading]:
    words = frozenset(key_words(key))
    if not words or any(w.isdigit() for w in words):
        return []
    return [_Reading(words, value.strip(), line, below)]


# -- filling the schema --------------------------------------------------------------------------


def _spec(value: object) -> JsonObject:
    return cast(JsonObject, value)  # check_schema proved every field an object


def _valid(value: object, spec: JsonObject) -> bool:
    return bool(Draft202012Validator(spec).is_valid(value))


def _object(
    spec: JsonObject, index: _Index, parents: tuple[str, ...]
) -> tuple[JsonObject, JsonObject, list[str]]:
    """The object's found fields, their annotations, and the paths of required fields not
    found."""
    result: JsonObject = {}
    notes: JsonObject = {}
    missing: list[str] = []
    required = cast(list[str], spec.get("required", []))
    for name, field in _spec(spec["properties"]).items():
        found, inner = _field(name, _spec(field), index, parents)
        if found is None:
            if name in required:
                missing += inner or [".".join((*parents, name))]
            continue
        result[name], notes[name] = found.value, found.note
    return result, notes, missing


def _field(
    name: str, spec: JsonObject, index: _Index, parents: tuple[str, ...]
) -> tuple[_Found | None, list[str]]:
    label = label_of(name, str(spec.get("description", "")), parents)
    kind = spec["type"]
    if kind == "object":
        value, notes, missing = _object(spec, index, (*parents, name))
        if missing or not value or not _valid(value, spec):
            return None, missing
        return _Found(value, notes), []
    if kind == "array":
        found = _array(name, spec, label, index, parents)
        return (found if found and _valid(found.value, spec) else None), []
    return _primitive(spec, label, index), []


def _primitive(spec: JsonObject, label: Label, index: _Index) -> _Found | None:
    best: _Found | None = None
    for reading in index.readings:
        certainty = min(score(reading.key, label), 1.0)
        if certainty < _ACCEPT or (best and certainty <= best.certainty):
            continue
        used, text = [reading.source], reading.value
        if not text and reading.below and ":" not in reading.below.text:  # a label above
            used, text = [reading.source, reading.below], reading.below.text
            certainty *= _BELOW
        value = coerce(text, spec, label)
        if value is not None and _valid(value, spec):
            best = _Found(value, _note(used, certainty), certainty)
    if best is None and "enum" in spec:
        for source in index.sources:
            value = coerce(source.text, spec, label)
            if value is not None and _valid(value, spec):
                return _Found(value, _note([source], _MENTION), _MENTION)
    return best


def _array(
    name: str, spec: JsonObject, label: Label, index: _Index, parents: tuple[str, ...]
) -> _Found | None:
    items = _spec(spec["items"])
    if items["type"] == "object":
        return _table_items(items, index, (*parents, name))
    if items["type"] == "array":
        return None  # arrays of arrays have no printed form this reader knows
    for table in index.tables:
        column = _columns(table, {"": label}).get("")
        if column is not None:
            cells = [_cell_value(row, column, items, label) for row in table.rows]
            found = [cell for cell in cells if cell is not None]
            if found:
                return _Found([f.value for f in found], [f.note for f in found])
    listed = _primitive({"type": "string"}, replace(label, identifier=False), index)
    if listed is None:
        return None
    parts = [coerce(part, items, label) for part in str(listed.value).replace(";", ",").split(",")]
    values = [p for p in parts if p is not None and _valid(p, items)]
    return _Found(values, [listed.note] * len(values)) if values else None


def _table_items(items: JsonObject, index: _Index, parents: tuple[str, ...]) -> _Found | None:
    properties = _spec(items["properties"])
    required = cast(list[str], items.get("required", []))
    labels = {
        name: label_of(name, str(_spec(field).get("description", "")), parents)
        for name, field in properties.items()
        if _spec(field)["type"] not in ("object", "array")
    }
    matched = [(table, _columns(table, labels)) for table in index.tables]
    matched = [(t, m) for t, m in matched if m and all(r in m for r in required)]
    most = max((len(m) for _, m in matched), default=0)
    values: list[object] = []
    notes: list[object] = []
    for table, mapping in (pair for pair in matched if len(pair[1]) == most):
        for row in table.rows:
            cells = {
                name: found
                for name, column in mapping.items()
                if (found := _cell_value(row, column, _spec(properties[name]), labels[name]))
            }
            item: JsonObject = {name: found.value for name, found in cells.items()}
            if 2 * len(item) <= len(mapping) or any(r not in item for r in required):
                continue
            if _valid(item, items):
                values.append(item)
                notes.append({name: found.note for name, found in cells.items()})
    return _Found(values, notes) if values else None


def _columns(table: _Table, labels: dict[str, Label]) -> dict[str, int]:
    """Each label's column in ``table``, by its header: best scores first, one column each."""
    pairs = sorted(
        (-score(frozenset(key_words(cell.text)), label), column, name)
        for name, label in labels.items()
        for column, cell in enumerate(table.header)
        if cell is not None
    )
    mapping: dict[str, int] = {}
    for negative, column, name in pairs:
        if -negative >= _ACCEPT and name not in mapping and column not in mapping.values():
            mapping[name] = column
    return mapping


def _cell_value(
    row: tuple[_Source | None, ...], column: int, spec: JsonObject, label: Label
) -> _Found | None:
    cell = row[column] if column < len(row) else None
    if cell is None:
        return None
    value = coerce(cell.text, spec, label)
    if value is None or not _valid(value, spec):
        return None
    return _Found(value, _note([cell], 1.0))


def _note(sources: Sequence[_Source], certainty: float) -> JsonObject:
    return {
        "confidence": round(min(s.confidence for s in sources) * certainty, 3),
        "sources": [{"page": s.page, "box": list(s.box), "text": s.text} for s in sources],
    }

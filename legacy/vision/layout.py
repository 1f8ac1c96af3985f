"""A page's layout from its OCR lines: blocks (headings, paragraphs, tables) in reading order.

Pure and deterministic: the same lines, in any order, give the same page. Every threshold is
in units of the page's body text height (``unit``: the median line height, counting each line
once per character, so a few large headings do not move it), so it holds at any resolution:

1. **Columns.** A gutter is a vertical strip at least 1.5 units (and 2% of the page) wide that
   no line crosses, apart from lines wider than 55% of the text (titles, full-width
   paragraphs) and at most one line in 20 (a centred heading), with text on both sides that
   reads like prose (at least 3 lines a side, a median of 3 or more words, side by side for
   half their height). Tables and key-value columns have short cells, so they never make
   gutters.
2. **Reading order.** Lines crossing a gutter's middle split the page into sections; a section
   is read column by column, left to right, each top to bottom, and the crossing lines on
   their own, where they fall. Without gutters the page is one region.
3. **Rows.** Within a region, lines whose heights overlap by half are one row; parts of a row
   less than 0.8 units apart are one cell.
4. **Tables.** At least 2 consecutive rows (at most 2.5 units apart) of 2 or more cells each,
   every cell under exactly one column (columns are the cells' x-extents, merged down the
   rows), that are not all prose (a median of 5 or more words in every column).
5. **Paragraphs.** Other rows become lines (their cells joined by a space). A new paragraph
   starts after a vertical gap half a unit wider than the page's usual line gap, at an
   indented line, or at an outdented one (unless the paragraph's first line was indented).
6. **Headings.** Lines at least 1.2 times the body text in both height and character width;
   levels 1-3 by size, largest first. Also a page's first block when it is a single short line
   (at most 8 words, no colon, no closing punctuation) set apart from what follows.

Deliberately not here: OCR, rendering (``render.py``), extraction.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Final, Literal

import numpy as np

from legacy.vision._types import Box
from legacy.vision.ocr_client import OcrPage

__all__ = ["Block", "BlockKind", "Line", "Page", "build_page"]

BlockKind = Literal["heading", "paragraph", "table"]

_GUTTER_UNITS: Final = 1.5
_GUTTER_PAGE: Final = 0.02
_WIDE: Final = 0.55
_CELL_GAP: Final = 0.8
_ROW_GAP: Final = 2.5
_HEADING: Final = 1.2
_LEVEL_STEP: Final = 0.9
_TITLE_WORDS: Final = 8


@dataclass(frozen=True, slots=True)
class Line:
    text: str
    box: Box
    confidence: float


@dataclass(frozen=True, slots=True)
class Block:
    kind: BlockKind
    box: Box
    lines: tuple[Line, ...] = ()  # a heading's or paragraph's, top to bottom
    rows: tuple[tuple[Line | None, ...], ...] = ()  # a table's cells by column; None: empty
    level: int = 0  # a heading's, 1 (largest) to 3

    @property
    def text(self) -> str:
        """The block as plain text: a heading on one line, a paragraph's lines as printed,
        a table's rows one a line with their cells between " | "."""
        if self.kind == "table":
            return "\n".join(" | ".join(c.text if c else "" for c in row) for row in self.rows)
        return ("\n" if self.kind == "paragraph" else " ").join(x.text for x in self.lines)


@dataclass(frozen=True, slots=True)
class Page:
    page_number: int
    width: int
    height: int
    blocks: tuple[Block, ...]


@dataclass(frozen=True, slots=True)
class _Metrics:
    unit: float  # body text height
    char: float  # body text character width
    leading: float  # usual vertical gap between a paragraph's lines


def build_page(ocr: OcrPage) -> Page:
    """The page's blocks in reading order, from its OCR lines (blank ones dropped)."""
    lines = sorted(
        (Line(x.text.strip(), x.box, x.confidence) for x in ocr.lines if x.text.strip()),
        key=lambda x: (x.box[1], x.box[0], x.box[3], x.box[2], x.text),
    )
    if not lines:
        return Page(ocr.page_number, ocr.width, ocr.height, ())
    unit = _body([(_height(x), len(x.text)) for x in lines])
    regions = [
        _rows(region, unit)
        for region in _regions(lines, max(_GUTTER_UNITS * unit, _GUTTER_PAGE * ocr.width))
    ]
    gaps = [b[0].box[1] - _bottom(a) for rows in regions for a, b in itertools.pairwise(rows)]
    usual = [gap for gap in gaps if 0 <= gap <= 2 * unit]
    char = _body([(_width(x) / len(x.text), len(x.text)) for x in lines if len(x.text) >= 5])
    metrics = _Metrics(unit, char or unit / 2, statistics.median(usual) if usual else unit / 2)
    blocks = [block for rows in regions for block in _blocks(rows, metrics)]
    return Page(ocr.page_number, ocr.width, ocr.height, _titled(blocks, metrics))


def _body(measures: list[tuple[float, int]]) -> float:
    """The median of (value, weight) pairs: the value of the middle character of the page."""
    half, seen = sum(weight for _, weight in measures) / 2, 0
    for value, weight in sorted(measures):
        seen += weight
        if seen >= half:
            return value
    return 0.0


def _height(line: Line) -> int:
    return line.box[3] - line.box[1]


def _width(line: Line) -> int:
    return line.box[2] - line.box[0]


def _bottom(row: Sequence[Line]) -> int:
    return max(x.box[3] for x in row)


def _union(boxes: Iterable[Box]) -> Box:
    x0, y0, x1, y1 = zip(*boxes, strict=True)
    return min(x0), min(y0), max(x1), max(y1)


def _words(lines: Sequence[Line]) -> float:
    return statistics.median(len(x.text.split()) for x in lines) if lines else 0.0


# -- 1, 2: columns and reading order -----------------------------------------------------------


def _regions(lines: list[Line], min_gutter: float) -> list[list[Line]]:
    """The page's lines in reading order, as regions (a column of a section, or crossing
    lines); ``lines`` sorted top to bottom."""
    middles = _gutters(lines, min_gutter)
    if not middles:
        return [lines]
    regions: list[list[Line]] = []
    section: list[list[Line]] = [[] for _ in range(len(middles) + 1)]
    crossing: list[Line] = []
    for line in lines:
        x0, _, x1, _ = line.box
        if any(x0 < middle < x1 for middle in middles):
            regions += [column for column in section if column]
            section = [[] for _ in section]
            crossing.append(line)
        else:
            if crossing:
                regions.append(crossing)
                crossing = []
            section[sum(middle <= x0 for middle in middles)].append(line)
    regions += [column for column in section if column]
    if crossing:
        regions.append(crossing)
    return regions


def _gutters(lines: list[Line], min_gutter: float) -> list[float]:
    """The middles of the page's column gutters, left to right."""
    left = min(x.box[0] for x in lines)
    right = max(x.box[2] for x in lines)
    narrow = [x for x in lines if _width(x) <= _WIDE * (right - left)]
    coverage = np.zeros(right - left, dtype=np.int32)
    for line in narrow:
        coverage[line.box[0] - left : line.box[2] - left] += 1
    allowed = max(1, len(lines) // 20)
    clear = np.concatenate(([0], (coverage <= allowed).astype(np.int8), [0]))
    edges = np.flatnonzero(np.diff(clear))
    middles = [
        left + (int(a) + int(b)) / 2
        for a, b in zip(edges[::2], edges[1::2], strict=True)
        if a > 0 and b < len(coverage) and b - a >= min_gutter
    ]
    while middles:  # drop the gutters without prose on both sides, until every one has it
        kept = [m for i, m in enumerate(middles) if _is_gutter(narrow, middles, i)]
        if kept == middles:
            break
        middles = kept
    return middles


def _is_gutter(lines: list[Line], middles: list[float], index: int) -> bool:
    low = middles[index - 1] if index else float("-inf")
    high = middles[index + 1] if index + 1 < len(middles) else float("inf")
    middle = middles[index]
    before = [x for x in lines if low <= x.box[0] and x.box[2] <= middle]
    after = [x for x in lines if middle <= x.box[0] and x.box[2] <= high]
    if len(before) < 3 or len(after) < 3 or min(_words(before), _words(after)) < 3:
        return False
    top = max(min(x.box[1] for x in before), min(x.box[1] for x in after))
    bottom = min(max(x.box[3] for x in before), max(x.box[3] for x in after))
    shorter = min(
        max(x.box[3] for x in side) - min(x.box[1] for x in side) for side in (before, after)
    )
    return bottom - top >= shorter / 2


# -- 3, 4, 5: rows, tables and paragraphs ------------------------------------------------------


def _rows(lines: list[Line], unit: float) -> list[list[Line]]:
    """The region's rows, top to bottom, each its cells left to right."""
    rows: list[list[Line]] = []
    for line in sorted(lines, key=lambda x: (x.box[1] + x.box[3], x.box[0])):
        if rows:
            top, bottom = min(x.box[1] for x in rows[-1]), _bottom(rows[-1])
            overlap = min(bottom, line.box[3]) - max(top, line.box[1])
            if overlap >= 0.5 * min(_height(line), bottom - top):
                rows[-1].append(line)
                continue
        rows.append([line])
    return [_cells(sorted(row, key=lambda x: x.box[0]), unit) for row in rows]


def _cells(row: list[Line], unit: float) -> list[Line]:
    cells = [row[0]]
    for line in row[1:]:
        last = cells[-1]
        if line.box[0] - last.box[2] < _CELL_GAP * unit:
            cells[-1] = _joined([last, line])
        else:
            cells.append(line)
    return cells


def _joined(parts: Sequence[Line]) -> Line:
    return Line(
        " ".join(x.text for x in parts),
        _union(x.box for x in parts),
        min(x.confidence for x in parts),
    )


def _blocks(rows: list[list[Line]], metrics: _Metrics) -> list[Block]:
    blocks: list[Block] = []
    lines: list[Line] = []
    index = 0
    while index < len(rows):
        end = _table_end(rows, index, metrics.unit)
        if end > index:
            blocks += _paragraphs(lines, metrics)
            blocks.append(_table(rows[index:end]))
            lines, index = [], end
        else:
            lines.append(_joined(rows[index]))
            index += 1
    return blocks + _paragraphs(lines, metrics)


def _table_end(rows: list[list[Line]], start: int, unit: float) -> int:
    """One past the last row of the table starting at ``start``; ``start`` if none does."""
    columns = _columns([], rows[start])
    end = start + 1
    while columns is not None and end < len(rows):
        if rows[end][0].box[1] - _bottom(rows[end - 1]) > _ROW_GAP * unit:
            break
        merged = _columns(columns, rows[end])
        if merged is None:
            break
        columns, end = merged, end + 1
    if columns is None or end - start < 2:
        return start
    table = rows[start:end]
    by_column = [[c for row in table for c in row if _overlaps(c.box, span)] for span in columns]
    return start if min(_words(cells) for cells in by_column) >= 5 else end


def _columns(columns: list[tuple[int, int]], row: list[Line]) -> list[tuple[int, int]] | None:
    """``columns`` widened by ``row``'s cells, or None if the row does not fit: fewer than 2
    cells, a cell under two columns, or two cells under one."""
    if len(row) < 2:
        return None
    merged = list(columns)
    taken: set[int] = set()
    for cell in row:
        under = [i for i, span in enumerate(columns) if _overlaps(cell.box, span)]
        if len(under) > 1 or (under and under[0] in taken):
            return None
        if under:
            taken.add(under[0])
            low, high = merged[under[0]]
            merged[under[0]] = (min(low, cell.box[0]), max(high, cell.box[2]))
        else:
            merged.append((cell.box[0], cell.box[2]))
    merged.sort()
    if any(a[1] > b[0] for a, b in itertools.pairwise(merged)):
        return None
    return merged


def _overlaps(box: Box, span: tuple[int, int]) -> bool:
    return min(box[2], span[1]) > max(box[0], span[0])


def _table(rows: list[list[Line]]) -> Block:
    columns: list[tuple[int, int]] = []
    for row in rows:
        columns = _columns(columns, row) or columns
    grid = tuple(
        tuple(next((c for c in row if _overlaps(c.box, span)), None) for span in columns)
        for row in rows
    )
    return Block("table", _union(c.box for row in rows for c in row), rows=grid)


def _paragraphs(lines: list[Line], metrics: _Metrics) -> list[Block]:
    groups: list[list[Line]] = []
    for line in lines:
        if groups and not _starts_block(groups[-1], line, metrics):
            groups[-1].append(line)
        else:
            groups.append([line])
    return [
        Block("heading" if _is_tall(g[0], metrics) else "paragraph", _union(x.box for x in g),
              lines=tuple(g))
        for g in groups
    ]  # fmt: skip


def _starts_block(group: list[Line], line: Line, metrics: _Metrics) -> bool:
    last = group[-1]
    if _is_tall(line, metrics) != _is_tall(last, metrics):
        return True
    if line.box[1] - last.box[3] > metrics.leading + metrics.unit / 2:
        return True
    shift = line.box[0] - last.box[0]
    if shift > metrics.unit:  # indented: a new paragraph's first line
        return True
    return shift < -metrics.unit and len(group) > 1  # outdented, not after an indented first


def _is_tall(line: Line, metrics: _Metrics) -> bool:
    wide = len(line.text) < 3 or _width(line) / len(line.text) >= _HEADING * metrics.char
    return _height(line) >= _HEADING * metrics.unit and wide


# -- 6: heading levels ---------------------------------------------------------------------------


def _titled(blocks: list[Block], metrics: _Metrics) -> tuple[Block, ...]:
    """``blocks`` with heading levels set, and the first block made a heading if it is a short
    line standing alone."""
    if len(blocks) > 1 and blocks[0].kind == "paragraph" and len(blocks[0].lines) == 1:
        text = blocks[0].text
        if len(text.split()) <= _TITLE_WORDS and ":" not in text and text[-1] not in ".,;:!?":
            blocks[0] = replace(blocks[0], kind="heading")
    sizes = sorted({_height(b.lines[0]) for b in blocks if b.kind == "heading"}, reverse=True)
    levels: dict[int, int] = {}
    level, anchor = 0, 0
    for size in sizes:  # largest first; a size under 90% of its level's largest goes down one
        if not level or size < _LEVEL_STEP * anchor:
            level, anchor = min(level + 1, 3), size
        levels[size] = level
    return tuple(
        replace(b, level=levels[_height(b.lines[0])]) if b.kind == "heading" else b for b in blocks
    )

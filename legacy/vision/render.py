"""A laid-out page as Markdown, HTML or a JSON-able dict: the digitise job's output formats.

Pure functions of the ``Page``; the same page always renders to the same string. Markdown:
headings as ``#`` (level 1-3) on one line; a paragraph's lines as printed, one a line (soft
breaks: a key-value form keeps its lines, prose still reflows when rendered), a line that would
start Markdown syntax (``#``, ``>``, a list marker) escaped; tables as pipe tables whose first
row is the header, pipes in cells escaped. HTML: ``<h1>``-``<h3>``, ``<p>`` (lines separated
by newlines) and ``<table>`` (first row ``<th>``), every text escaped. JSON: every block with
its kind, box and text, its lines or cells with their boxes and OCR confidence. Blocks are
separated by a blank line (Markdown) or a newline (HTML).
"""

from __future__ import annotations

import html
import re
from typing import Final

from legacy.vision._types import JsonObject
from legacy.vision.layout import Block, Line, Page

__all__ = ["to_html", "to_json", "to_markdown"]

_BLOCK_MARKER: Final = re.compile(r"^(?:[#>]|[-+*](?=\s))")  # heading, quote, bullet
_ORDERED_MARKER: Final = re.compile(r"^(\d+)([.)])(?=\s)")


def to_markdown(page: Page) -> str:
    parts = []
    for block in page.blocks:
        if block.kind == "heading":
            parts.append(f"{'#' * block.level} {block.text}")
        elif block.kind == "table":
            parts.append(_markdown_table(block))
        else:
            parts.append("\n".join(_escaped(line.text) for line in block.lines))
    return "\n\n".join(parts) + "\n" if parts else ""


def _escaped(text: str) -> str:
    if _BLOCK_MARKER.match(text):
        return "\\" + text
    return _ORDERED_MARKER.sub(r"\1\\\2", text, count=1)


def _markdown_table(block: Block) -> str:
    rows = [[_cell(c).replace("|", "\\|") for c in row] for row in block.rows]
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + " --- |" * len(rows[0])]
    lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(lines)


def to_html(page: Page) -> str:
    parts = []
    for block in page.blocks:
        if block.kind == "heading":
            parts.append(f"<h{block.level}>{html.escape(block.text)}</h{block.level}>")
        elif block.kind == "table":
            head, *body = block.rows
            parts.append(
                "<table><thead>" + _html_row(head, "th") + "</thead><tbody>"
                + "".join(_html_row(row, "td") for row in body) + "</tbody></table>"
            )  # fmt: skip
        else:
            parts.append(f"<p>{html.escape(block.text)}</p>")
    return "\n".join(parts) + "\n" if parts else ""


def _html_row(row: tuple[Line | None, ...], tag: str) -> str:
    return "<tr>" + "".join(f"<{tag}>{html.escape(_cell(c))}</{tag}>" for c in row) + "</tr>"


def to_json(page: Page) -> JsonObject:
    return {
        "page_number": page.page_number,
        "width": page.width,
        "height": page.height,
        "blocks": [_json_block(block) for block in page.blocks],
    }


def _json_block(block: Block) -> JsonObject:
    body: JsonObject = {"kind": block.kind, "box": list(block.box), "text": block.text}
    if block.kind == "heading":
        body["level"] = block.level
    if block.kind == "table":
        body["rows"] = [[_json_line(c) if c else None for c in row] for row in block.rows]
    else:
        body["lines"] = [_json_line(line) for line in block.lines]
    return body


def _json_line(line: Line) -> JsonObject:
    return {"text": line.text, "box": list(line.box), "confidence": line.confidence}


def _cell(cell: Line | None) -> str:
    return cell.text if cell else ""

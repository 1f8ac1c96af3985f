"""A laid-out page as Markdown, HTML and JSON."""

from __future__ import annotations

import json

from legacy.vision.layout import Block, Line, Page
from legacy.vision.render import to_html, to_json, to_markdown


def cell(text: str) -> Line:
    return Line(text, (0, 0, 10, 10), 0.9)


PAGE = Page(
    1,
    1240,
    1754,
    (
        Block("heading", (60, 60, 400, 110), lines=(cell("Annual <Report> & more"),), level=1),
        Block(
            "paragraph", (60, 150, 900, 240),
            lines=(cell("Invoice number: 4417"), cell("# not a heading")),
        ),
        Block("paragraph", (60, 250, 900, 290), lines=(cell("1. not a list"),)),
        Block(
            "table",
            (60, 300, 1000, 400),
            rows=((cell("Item"), cell("Price")), (cell("Pipe | tea"), None)),
        ),
    ),
)  # fmt: skip


def test_markdown_has_headings_lines_and_pipe_tables_with_syntax_escaped() -> None:
    assert to_markdown(PAGE) == (
        "# Annual <Report> & more\n\n"
        "Invoice number: 4417\n\\# not a heading\n\n"
        "1\\. not a list\n\n"
        "| Item | Price |\n| --- | --- |\n| Pipe \\| tea |  |\n"
    )


def test_html_escapes_every_text() -> None:
    assert to_html(PAGE) == (
        "<h1>Annual &lt;Report&gt; &amp; more</h1>\n"
        "<p>Invoice number: 4417\n# not a heading</p>\n"
        "<p>1. not a list</p>\n"
        "<table><thead><tr><th>Item</th><th>Price</th></tr></thead>"
        "<tbody><tr><td>Pipe | tea</td><td></td></tr></tbody></table>\n"
    )


def test_json_keeps_kinds_boxes_lines_cells_and_confidence() -> None:
    body = to_json(PAGE)
    assert json.loads(json.dumps(body)) == body
    assert body["page_number"] == 1
    assert (body["width"], body["height"]) == (1240, 1754)
    heading, paragraph, _, table = body["blocks"]
    assert heading == {
        "kind": "heading", "box": [60, 60, 400, 110], "text": "Annual <Report> & more",
        "level": 1, "lines": [{"text": "Annual <Report> & more", "box": [0, 0, 10, 10],
                               "confidence": 0.9}],
    }  # fmt: skip
    assert paragraph["text"] == "Invoice number: 4417\n# not a heading"
    assert table["rows"][1][1] is None
    assert table["rows"][0][0] == {"text": "Item", "box": [0, 0, 10, 10], "confidence": 0.9}
    assert table["text"] == "Item | Price\nPipe | tea | "


def test_an_empty_page_renders_empty() -> None:
    empty = Page(2, 100, 100, ())
    assert (to_markdown(empty), to_html(empty)) == ("", "")
    assert to_json(empty)["blocks"] == []

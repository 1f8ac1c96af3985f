"""Page layout from synthetic OCR lines: paragraphs, headings, columns, tables, reading order.

No OCR here: each line is placed where a 15 px-per-character, 30 px-tall font would put it,
so the tests are fast and say exactly what the layout sees.
"""

from __future__ import annotations

import random

from legacy.vision.layout import Block, build_page
from legacy.vision.ocr_client import OcrLine, OcrPage

CHAR = 15
HEIGHT = 30
PITCH = 45  # a line every 45 px: 15 px between lines


def line(text: str, x: int, y: int, *, scale: float = 1.0, width: int | None = None) -> OcrLine:
    w = width if width is not None else round(len(text) * CHAR * scale)
    return OcrLine(text, (x, y, x + w, y + round(HEIGHT * scale)), 0.98)


def page(*lines: OcrLine, width: int = 1240, height: int = 1754) -> OcrPage:
    return OcrPage(1, width, height, tuple(lines))


def texts(blocks: tuple[Block, ...]) -> list[tuple[str, str]]:
    return [(b.kind, b.text) for b in blocks]


def test_lines_close_together_are_one_paragraph_and_a_gap_starts_another() -> None:
    built = build_page(
        page(
            line("The first paragraph has two lines", 60, 100),
            line("that belong together.", 60, 100 + PITCH),
            line("A second paragraph after a blank line.", 60, 100 + 3 * PITCH),
            line("It continues here.", 60, 100 + 4 * PITCH),
        )
    )
    assert texts(built.blocks) == [
        ("paragraph", "The first paragraph has two lines\nthat belong together."),
        ("paragraph", "A second paragraph after a blank line.\nIt continues here."),
    ]
    assert built.blocks[0].box == (60, 100, 60 + 33 * CHAR, 100 + PITCH + HEIGHT)


def test_an_indented_line_starts_a_paragraph_but_a_first_line_indent_continues() -> None:
    built = build_page(
        page(
            line("Indented first line of one paragraph,", 120, 100),
            line("whose next line is flush left.", 60, 100 + PITCH),
            line("Another indented first line.", 120, 100 + 2 * PITCH),
        )
    )
    assert [len(b.lines) for b in built.blocks] == [2, 1]


def test_headings_are_larger_lines_and_levels_go_by_size() -> None:
    built = build_page(
        page(
            line("Annual Report", 60, 60, scale=1.8),
            line("Body text line number one here.", 60, 160),
            line("Results", 60, 240, scale=1.4),
            line("More body text follows the heading.", 60, 310),
            line("Outlook", 60, 390, scale=1.4),
            line("The last body line of the page.", 60, 460),
        )
    )
    assert [(b.kind, b.level, b.text) for b in built.blocks] == [
        ("heading", 1, "Annual Report"),
        ("paragraph", 0, "Body text line number one here."),
        ("heading", 2, "Results"),
        ("paragraph", 0, "More body text follows the heading."),
        ("heading", 2, "Outlook"),
        ("paragraph", 0, "The last body line of the page."),
    ]


def test_a_short_line_alone_at_the_top_is_a_heading_but_a_label_is_not() -> None:
    titled = build_page(
        page(
            line("Quarterly results", 60, 60),
            line("Revenue grew by twelve percent this quarter.", 60, 60 + 3 * PITCH),
        )
    )
    assert [(b.kind, b.level) for b in titled.blocks] == [("heading", 1), ("paragraph", 0)]
    labelled = build_page(
        page(
            line("Invoice number: 4417", 60, 60),
            line("Revenue grew by twelve percent this quarter.", 60, 60 + 3 * PITCH),
        )
    )
    assert [b.kind for b in labelled.blocks] == ["paragraph", "paragraph"]


def two_columns() -> list[OcrLine]:
    title = line("Two Column Newsletter Title", 300, 60, scale=1.6)
    left = [line(f"Left column prose line {i} goes here", 60, 200 + i * PITCH) for i in range(5)]
    right = [line(f"Right column prose line {i} goes on", 680, 200 + i * PITCH) for i in range(5)]
    footer = line(
        "A footer line that runs the whole width of the page under both columns", 60, 520,
        width=1100,
    )  # fmt: skip
    return [title, *left, *right, footer]


def test_columns_are_read_one_after_the_other_between_full_width_lines() -> None:
    built = build_page(page(*two_columns()))
    assert [b.kind for b in built.blocks] == ["heading", "paragraph", "paragraph", "paragraph"]
    left, right = built.blocks[1], built.blocks[2]
    assert [x.text for x in left.lines] == [
        f"Left column prose line {i} goes here" for i in range(5)
    ]
    assert [x.text for x in right.lines] == [
        f"Right column prose line {i} goes on" for i in range(5)
    ]
    assert built.blocks[3].text.startswith("A footer line")


def test_the_same_lines_in_any_order_give_the_same_page() -> None:
    lines = two_columns()
    expected = build_page(page(*lines))
    for seed in range(5):
        shuffled = lines[:]
        random.Random(seed).shuffle(shuffled)
        assert build_page(page(*shuffled)) == expected


def invoice_table(top: int) -> list[OcrLine]:
    columns = (60, 620, 860, 1060)
    rows = [
        ("Description", "Quantity", "Rate", "Amount"),
        ("Consulting services", "2", "500.00", "1,000.00"),
        ("Travel expenses", "", "250.00", "250.00"),
    ]
    return [
        line(cell, x, top + r * PITCH)
        for r, row in enumerate(rows)
        for x, cell in zip(columns, row, strict=True)
        if cell
    ]


def test_aligned_rows_of_cells_are_a_table_with_empty_cells_kept() -> None:
    built = build_page(
        page(
            line("Items billed this month:", 60, 60),
            *invoice_table(60 + 2 * PITCH),
            line("Total amount: 1,250.00", 60, 60 + 6 * PITCH),
        )
    )
    assert [b.kind for b in built.blocks] == ["paragraph", "table", "paragraph"]
    table = built.blocks[1]
    grid = [[c.text if c else None for c in row] for row in table.rows]
    assert grid == [
        ["Description", "Quantity", "Rate", "Amount"],
        ["Consulting services", "2", "500.00", "1,000.00"],
        ["Travel expenses", None, "250.00", "250.00"],
    ]


def test_a_table_is_not_taken_for_columns_of_text() -> None:
    built = build_page(page(*invoice_table(100)))
    assert [b.kind for b in built.blocks] == ["table"]


def test_two_cells_in_one_row_only_are_not_a_table() -> None:
    built = build_page(
        page(
            line("Date: 2024-03-15", 60, 100),
            line("Due in 30 days", 700, 100),
            line("Thank you for your business.", 60, 100 + PITCH),
        )
    )
    assert texts(built.blocks) == [
        ("paragraph", "Date: 2024-03-15 Due in 30 days\nThank you for your business.")
    ]


def test_parts_of_one_line_close_together_are_one_cell() -> None:
    built = build_page(page(line("Invoice", 60, 100), line("number 4417", 60 + 8 * CHAR, 100)))
    assert texts(built.blocks) == [("paragraph", "Invoice number 4417")]


def test_an_empty_page_has_no_blocks() -> None:
    built = build_page(page(OcrLine("  ", (10, 10, 20, 20), 0.9)))
    assert built.blocks == ()
    assert (built.page_number, built.width, built.height) == (1, 1240, 1754)

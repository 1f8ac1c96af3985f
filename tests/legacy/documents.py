"""Documents with known text for the vision tests: page images, PDFs, and an invoice.

Drawn with Pillow's bundled font (``ImageFont.load_default(size=...)``, Pillow 10.1+), never a
system font, so a fresh machine draws the same pixels. Sizes are in pixels at 150 DPI, the
resolution the platform renders PDFs at: the default 32 px is a 15 pt line, comfortably read.
Pages are at least 760 px tall: the OCR engine enlarges an image whose shorter side is under
736 px before detecting text, which makes a short strip slower to read than a taller page.
A line that starts with ``"# "`` is drawn as a heading (1.6 times the size, without the
marker); an empty line leaves a blank line (a paragraph break).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageDraw, ImageFont

__all__ = ["Invoice", "make_image", "make_invoice", "make_page", "make_pdf"]

DPI = 150
MIN_HEIGHT = 760
HEADING_SCALE = 1.6


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def make_page(
    lines: Sequence[str], *, size: int = 32, width: int = 1240, margin: int = 60,
    spacing: float = 1.7,
) -> Image.Image:  # fmt: skip
    """One white RGB page with ``lines`` drawn top to bottom from the left margin."""
    pitches = [
        round(size * HEADING_SCALE * spacing) if line.startswith("# ") else round(size * spacing)
        for line in lines
    ]
    page = Image.new("RGB", (width, max(MIN_HEIGHT, 2 * margin + sum(pitches))), "white")
    draw = ImageDraw.Draw(page)
    y = margin
    for line, pitch in zip(lines, pitches, strict=True):
        heading = line.startswith("# ")
        font = _font(round(size * HEADING_SCALE) if heading else size)
        draw.text((margin, y), line[2:] if heading else line, fill="black", font=font)
        y += pitch
    return page


def make_image(lines: Sequence[str], *, size: int = 32, fmt: str = "PNG") -> bytes:
    """``make_page(lines)`` encoded as ``fmt`` (PNG, JPEG, WEBP, TIFF...)."""
    return _encode(make_page(lines, size=size), fmt)


def make_pdf(pages: Sequence[Sequence[str]], *, size: int = 32) -> bytes:
    """A PDF with one page per item of ``pages``, each an image at 150 DPI (so rendering it at
    150 DPI gives back the drawn pixels)."""
    images = [make_page(lines, size=size) for lines in pages]
    buffer = io.BytesIO()
    images[0].save(
        buffer, "PDF", save_all=True, append_images=images[1:], resolution=DPI, quality=95
    )
    return buffer.getvalue()


@dataclass(frozen=True)
class Invoice:
    """What an extraction should find on ``make_invoice``'s page."""

    number: str = "4417"
    customer: str = "Asha Rao"
    paid: bool = True
    currency: str = "INR"
    total: float = 1250.0
    items: tuple[tuple[str, int, float], ...] = (
        ("Consulting services", 2, 500.0),
        ("Travel expenses", 1, 250.0),
    )


def make_invoice(size: int = 32) -> tuple[bytes, Invoice]:
    """A one-page invoice (PNG): a title, key-value lines, a line-item table whose columns are
    set apart by wide gaps, and a total; with the values it shows."""
    invoice = Invoice()
    head = [
        "# Tax Invoice",
        f"Invoice number: {invoice.number}",
        f"Customer name: {invoice.customer}",
        f"Currency: {invoice.currency}",
        f"Paid: {'Yes' if invoice.paid else 'No'}",
        "",
    ]
    page = make_page([*head, "", "", "", "", f"Total amount: {invoice.total:,.2f}"], size=size)
    draw = ImageDraw.Draw(page)
    font = _font(size)
    columns = (60, 620, 860, 1060)
    rows = [("Description", "Quantity", "Rate", "Amount")]
    rows += [
        (name, str(qty), f"{rate:,.2f}", f"{qty * rate:,.2f}") for name, qty, rate in invoice.items
    ]
    top = 60 + round(size * HEADING_SCALE * 1.7) + round(size * 1.7) * (len(head) - 1)
    for r, row in enumerate(rows):
        for x, cell in zip(columns, row, strict=True):
            draw.text((x, top + r * round(size * 1.7)), cell, fill="black", font=font)
    return _encode(page, "PNG"), invoice


def _encode(page: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    page.save(buffer, fmt)
    return buffer.getvalue()

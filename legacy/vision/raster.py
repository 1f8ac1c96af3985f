"""Document bytes to page images: what the OCR model reads.

The type comes from the bytes' magic numbers, never from a file name or a declared type: PDF,
PNG, JPEG, TIFF (every frame a page) or WebP (its first frame). Each page becomes an upright
RGB PNG:

* **PDFs** are rendered by PDFium at 150 DPI. That draws 10 pt text about 21 px tall, well
  inside what the OCR model reads reliably, and keeps an A4 (1240 x 1754) or Letter page under
  2000 px, the longest side the OCR engine works at (it scales larger images down before
  reading them, so more pixels would only be rendered, sent and thrown away). Larger pages (A3,
  drawings) are rendered at the resolution that fits 2000 px.
* **Images** are decoded by Pillow: EXIF orientation applied, transparency flattened on white,
  and scaled down (never up) to 2000 px on the longest side, for the same reason.

Limits (``RasterLimits``): at most 50 pages, and images of at most 50 MP before scaling; an
image's size is checked before its pixels are decoded, so a decompression bomb costs nothing.
Every refusal is a ``DocumentRejected`` whose message says what to fix. The same bytes always
give the same PNGs.

PDFium is process-global and not thread-safe (pypdfium2's documentation: "Incompatibility with
Threading"), so every call into it holds ``_PDFIUM``: the package's one module-level lock,
because the state it guards is process-wide too. Deliberately not here: OCR and any I/O.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import pypdfium2 as pdfium  # type: ignore[import-untyped]
from PIL import Image, ImageOps

from legacy.vision.errors import DocumentRejected

__all__ = [
    "DEFAULT_LIMITS",
    "DocumentKind",
    "PageImage",
    "RasterLimits",
    "page_count",
    "rasterize",
    "sniff",
]

_PDFIUM: Final = threading.Lock()
# FPDF_ERR_PASSWORD, FPDF_ERR_SECURITY. PDFium's error is its last one, process-wide, and a
# document without pages fails to load without setting one: the code can be a stale password
# error, so an encrypted document is also told by the /Encrypt entry that every one has.
_PDF_PASSWORD_ERRORS: Final = frozenset({4, 5})
_POINTS_PER_INCH: Final = 72
_UNSUPPORTED: Final = (  # formats people send, and what to do instead
    (b"PK\x03\x04", "a ZIP archive or an Office document: export it as PDF"),
    (b"GIF8", "a GIF image: convert it to PNG"),
    (b"BM", "a BMP image: convert it to PNG"),
    (b"{\\rtf", "an RTF document: export it as PDF"),
)
_DAMAGED_PDF: Final = (
    "the PDF is damaged or has no pages, and cannot be opened: export it again as a new PDF"
)
_NO_PAGES: Final = "the document has no pages: export it again with its pages"


class DocumentKind(StrEnum):
    PDF = "pdf"
    PNG = "png"
    JPEG = "jpeg"
    TIFF = "tiff"
    WEBP = "webp"


@dataclass(frozen=True, slots=True)
class RasterLimits:
    max_pages: int = 50
    max_image_pixels: int = 50_000_000  # of an image as sent, before scaling
    max_side: int = 2000  # px, the longest side of a rendered page
    dpi: int = 150


DEFAULT_LIMITS: Final = RasterLimits()


@dataclass(frozen=True, slots=True)
class PageImage:
    page_number: int  # from 1
    png: bytes
    width: int
    height: int


def sniff(data: bytes) -> DocumentKind:
    """The document's type, from its first bytes."""
    if not data:
        raise DocumentRejected("the file is empty: upload the document again")
    if b"%PDF-" in data[:1024]:  # readers accept the header anywhere in the first 1 KiB
        return DocumentKind.PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return DocumentKind.PNG
    if data.startswith(b"\xff\xd8\xff"):
        return DocumentKind.JPEG
    if data.startswith((b"II*\x00", b"MM\x00*")):
        return DocumentKind.TIFF
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return DocumentKind.WEBP
    what = next((name for magic, name in _UNSUPPORTED if data.startswith(magic)), None)
    if what is None and data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1"):
        what = "a HEIC photo: export it as JPEG"
    raise DocumentRejected(
        f"the file is {what}"
        if what
        else "the file is not a PDF or a PNG, JPEG, TIFF or WebP "
        "image: export it as PDF and upload it again"
    )


def page_count(data: bytes, limits: RasterLimits = DEFAULT_LIMITS) -> int:
    """The document's pages, without rendering any (for estimates at request time). Raises
    ``DocumentRejected`` for everything ``rasterize`` would refuse before rendering: the type,
    a damaged or encrypted PDF, no pages or too many."""
    kind = sniff(data)
    if kind is DocumentKind.PDF:
        with _PDFIUM:
            document = _open_pdf(data)
            try:
                count = len(document)
            finally:
                document.close()
    else:
        with _opened(data, kind) as image:
            count = _frames(image, kind)
    return _checked(count, limits)


def rasterize(data: bytes, limits: RasterLimits = DEFAULT_LIMITS) -> list[PageImage]:
    """Every page as an RGB PNG, in order. Blocks for about 0.1 s a page: call it from a
    worker thread."""
    kind = sniff(data)
    if kind is DocumentKind.PDF:
        return _pdf_pages(data, limits)
    pages = []
    with _opened(data, kind) as image:
        for index in range(_checked(_frames(image, kind), limits)):
            image.seek(index)
            width, height = image.size
            if width * height > limits.max_image_pixels:
                raise DocumentRejected(
                    f"the image is {width}x{height} pixels ({width * height / 1e6:.1f} MP); at "
                    f"most {limits.max_image_pixels / 1e6:g} MP are read: scale it down"
                )
            pages.append(_page(index + 1, _upright_rgb(image), limits))
    return pages


def _checked(count: int, limits: RasterLimits) -> int:
    if count == 0:
        raise DocumentRejected(_NO_PAGES)
    if count > limits.max_pages:
        raise DocumentRejected(
            f"the document has {count} pages; at most {limits.max_pages} are read per document: "
            f"split it into parts of {limits.max_pages} pages or fewer"
        )
    return count


def _open_pdf(data: bytes) -> pdfium.PdfDocument:
    """The PDF, opened; the caller holds ``_PDFIUM``, and closes it (under the lock)."""
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) in _PDF_PASSWORD_ERRORS and b"/Encrypt" in data:
            raise DocumentRejected(
                "the PDF is password-protected: remove the password (save or print it to a new "
                "PDF without one) and upload it again"
            ) from None
        raise DocumentRejected(_DAMAGED_PDF) from None


def _pdf_pages(data: bytes, limits: RasterLimits) -> list[PageImage]:
    """Renders one page at a time under the lock and encodes it outside, so a long document
    neither holds every page's pixels in memory nor holds PDFium while compressing."""
    with _PDFIUM:
        document = _open_pdf(data)
    try:
        with _PDFIUM:
            count = _checked(len(document), limits)
        pages = []
        for index in range(count):
            with _PDFIUM:
                image = _render(document, index, limits)
            pages.append(_page(index + 1, image, limits))
        return pages
    finally:
        with _PDFIUM:
            document.close()


def _render(document: pdfium.PdfDocument, index: int, limits: RasterLimits) -> Image.Image:
    try:
        page = document[index]
        try:
            longest = max(*page.get_size(), 1.0)  # points; rotation-proof
            scale = min(limits.dpi / _POINTS_PER_INCH, limits.max_side / longest)
            bitmap = page.render(scale=scale)
            try:
                # A copy: the bitmap's buffer is PDFium's, freed on close.
                image: Image.Image = bitmap.to_pil().convert("RGB")
            finally:
                bitmap.close()
        finally:
            page.close()
    except pdfium.PdfiumError:
        raise DocumentRejected(
            f"page {index + 1} of the PDF is damaged and cannot be drawn: export it again as a "
            "new PDF"
        ) from None
    return image


@contextmanager
def _opened(data: bytes, kind: DocumentKind) -> Iterator[Image.Image]:
    """The image, opened lazily (its size known, no pixels decoded); decoding errors inside
    the block become ``DocumentRejected``."""
    name = kind.value.upper()
    try:
        with Image.open(io.BytesIO(data), formats=(name,)) as image:
            yield image
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise DocumentRejected("the image has far too many pixels to read: scale it down") from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise DocumentRejected(
            f"the {name} image is damaged or truncated and cannot be decoded: export it again"
        ) from None


def _frames(image: Image.Image, kind: DocumentKind) -> int:
    """Pages in the image: TIFF's frames are pages; an animation's are not."""
    return int(getattr(image, "n_frames", 1)) if kind is DocumentKind.TIFF else 1


def _upright_rgb(image: Image.Image) -> Image.Image:
    upright = ImageOps.exif_transpose(image)  # a decoded copy, turned as the camera meant
    if upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info:
        flat = Image.new("RGBA", upright.size, "white")
        flat.alpha_composite(upright.convert("RGBA"))
        return flat.convert("RGB")
    return upright.convert("RGB")


def _page(number: int, image: Image.Image, limits: RasterLimits) -> PageImage:
    if max(image.size) > limits.max_side:
        image = image.copy()
        image.thumbnail((limits.max_side, limits.max_side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=3)  # text pages compress well even at 3; 6 is slow
    return PageImage(number, buffer.getvalue(), image.width, image.height)

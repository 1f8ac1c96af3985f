"""Document bytes to page images: types by magic bytes, PDF rendering, limits, refusals."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import Image

from legacy.vision.errors import DocumentRejected
from legacy.vision.raster import DocumentKind, RasterLimits, page_count, rasterize, sniff
from tests.legacy.documents import make_image, make_page, make_pdf


def decoded(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return image


@pytest.mark.parametrize(
    ("fmt", "kind"),
    [
        ("PNG", DocumentKind.PNG),
        ("JPEG", DocumentKind.JPEG),
        ("WEBP", DocumentKind.WEBP),
        ("TIFF", DocumentKind.TIFF),
    ],
)
def test_images_are_known_by_their_bytes_and_become_one_rgb_png(fmt: str, kind: str) -> None:
    data = make_image(["Hello world"], fmt=fmt)
    assert sniff(data) == kind
    (page,) = rasterize(data)
    image = decoded(page.png)
    assert (page.page_number, image.mode, image.size) == (1, "RGB", (page.width, page.height))
    assert page_count(data) == 1


def test_pdf_pages_are_rendered_at_150_dpi_in_order() -> None:
    data = make_pdf([["Page one"], ["Page two"], ["Page three"]])
    assert sniff(data) == DocumentKind.PDF
    assert page_count(data) == 3
    pages = rasterize(data)
    assert [p.page_number for p in pages] == [1, 2, 3]
    drawn = make_page(["Page one"])  # saved at 150 DPI, so rendered back at its own size
    assert abs(pages[0].width - drawn.width) <= 1
    assert abs(pages[0].height - drawn.height) <= 1


def test_every_tiff_frame_is_a_page() -> None:
    buffer = io.BytesIO()
    first, second = make_page(["one"]), make_page(["two"])
    first.save(buffer, "TIFF", save_all=True, append_images=[second])
    assert page_count(buffer.getvalue()) == 2
    assert len(rasterize(buffer.getvalue())) == 2


def test_large_pages_are_scaled_down_to_the_models_working_size() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (2400, 1800), "white").save(buffer, "PNG")
    (page,) = rasterize(buffer.getvalue())
    assert (page.width, page.height) == (2000, 1500)
    small = rasterize(buffer.getvalue(), RasterLimits(max_side=800))[0]
    assert (small.width, small.height) == (800, 600)


def test_transparency_is_flattened_on_white_and_exif_orientation_applied() -> None:
    buffer = io.BytesIO()
    Image.new("RGBA", (40, 20), (0, 0, 0, 0)).save(buffer, "PNG")
    assert decoded(rasterize(buffer.getvalue())[0].png).getpixel((5, 5)) == (255, 255, 255)
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: rotate 90 degrees to view
    Image.new("RGB", (40, 20), "white").save(buffer, "JPEG", exif=exif)
    assert decoded(rasterize(buffer.getvalue())[0].png).size == (20, 40)


def test_the_same_bytes_give_the_same_pngs_even_from_many_threads() -> None:
    data = make_pdf([["Alpha beta"], ["Gamma delta"]])
    expected = [p.png for p in rasterize(data)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: [p.png for p in rasterize(data)], range(8)))
    assert all(result == expected for result in results)


def encrypted_pdf() -> bytes:
    plain = make_pdf([["Secret"]])
    key = b"<" + b"00" * 32 + b">"
    encrypt = b"/Encrypt << /Filter /Standard /V 2 /R 3 /Length 128 /O " + key
    return plain.replace(b"trailer\n<<", b"trailer\n<<" + encrypt + b" /U " + key + b" /P -4 >>", 1)


def empty_pdf() -> bytes:
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"]
    body = b"%PDF-1.4\n"
    offsets = []
    for number, content in enumerate(objects, 1):
        offsets.append(len(body))
        body += b"%d 0 obj\n%s\nendobj\n" % (number, content)
    xref = len(body)
    body += b"xref\n0 3\n0000000000 65535 f \n"
    body += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    return body + b"trailer\n<< /Size 3 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"hello, plain text", "not a PDF or a PNG, JPEG, TIFF or WebP image: export it as PDF"),
        (b"PK\x03\x04 a docx", "an Office document: export it as PDF"),
        (b"GIF89a....", "a GIF image: convert it to PNG"),
        (make_pdf([["x"]])[:300], "the PDF is damaged or has no pages, and cannot be opened"),
        (b"%PDF-1.7\nnot really", "the PDF is damaged"),
        (make_image(["Hello"])[:200], "the PNG image is damaged or truncated"),
        (make_image(["Hello"], fmt="JPEG")[:400], "the JPEG image is damaged or truncated"),
        (encrypted_pdf(), "the PDF is password-protected: remove the password"),
        (empty_pdf(), "the PDF is damaged or has no pages"),  # PDFium opens none without pages
    ],
)
def test_bad_input_is_rejected_with_what_to_do(data: bytes, message: str) -> None:
    with pytest.raises(DocumentRejected) as rejected:
        rasterize(data)
    assert message in str(rejected.value)


def test_too_many_pages_is_rejected_before_rendering() -> None:
    data = make_pdf([["one"], ["two"], ["three"]])
    limits = RasterLimits(max_pages=2)
    for call in (page_count, rasterize):
        with pytest.raises(DocumentRejected) as rejected:
            call(data, limits)
        assert "has 3 pages; at most 2 are read" in str(rejected.value)
        assert "split it" in str(rejected.value)


def test_an_image_over_the_pixel_limit_is_rejected() -> None:
    with pytest.raises(DocumentRejected) as rejected:
        rasterize(make_image(["Hello"]), RasterLimits(max_image_pixels=100_000))
    assert "at most 0.1 MP are read: scale it down" in str(rejected.value)

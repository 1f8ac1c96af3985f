"""The pipeline's entry points: a scripted OCR model for the wiring, the real one end to end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from legacy.inference.app import create_inference_app
from legacy.inference.espeak import EspeakEngine
from legacy.inference.ocr import OcrEngine
from legacy.vision import pipeline
from legacy.vision.pipeline import (
    DocumentRejected,
    VisionFailed,
    digitise,
    extract,
    to_markdown,
)
from legacy.vision.raster import rasterize
from tests.legacy.documents import make_invoice, make_pdf

pytestmark = pytest.mark.anyio

URL = "http://inference"
PAGES = [
    [
        "# Quarterly report",
        "Revenue grew by twelve percent this quarter.",
        "Costs stayed flat.",
        "",
        "Invoice number 4417 was paid on time.",
    ],
    ["Page two has one line."],
]


def test_the_public_surface_is_pinned() -> None:
    assert set(pipeline.__all__) == {
        "DEFAULT_LIMITS", "Block", "DigitisedDocument", "DocumentRejected", "Extraction",
        "ExtractionInvalid", "Line", "Page", "RasterLimits", "SchemaRejected", "VisionError",
        "VisionFailed", "check_schema", "digitise", "extract", "load_schema", "page_count",
        "to_html", "to_json", "to_markdown",
    }  # fmt: skip
    for name in pipeline.__all__:
        assert hasattr(pipeline, name), name


def scripted(data: bytes, statuses: dict[int, int], *, slow: frozenset[int] = frozenset()):
    """An OCR model that reads page n as "Page n" (a 200), or answers ``statuses[n]``; pages
    in ``slow`` answer after 0.2 s."""
    numbers = {page.png: page.page_number for page in rasterize(data)}

    async def answer(request: httpx.Request) -> httpx.Response:
        number = numbers[request.content]
        if number in slow:
            await asyncio.sleep(0.2)
        if number in statuses:
            return httpx.Response(statuses[number], json={"error": {"message": "no"}})
        line = {"text": f"Page {number}", "box": [60, 60, 200, 90], "confidence": 0.9}
        return httpx.Response(200, json={"width": 1240, "height": 760, "lines": [line]})

    return httpx.AsyncClient(transport=httpx.MockTransport(answer))


async def test_pages_come_back_in_order_with_the_language_recorded() -> None:
    data = make_pdf([["one"], ["two"], ["three"]])
    async with scripted(data, {}, slow=frozenset({1})) as http:
        document = await digitise(http, URL, data, language="en-IN", concurrency=3)
    assert document.language == "en-IN"
    assert [p.page_number for p in document.pages] == [1, 2, 3]
    assert [to_markdown(p) for p in document.pages] == ["Page 1\n", "Page 2\n", "Page 3\n"]


async def test_a_failed_page_fails_the_document_and_a_rejection_is_decisive() -> None:
    data = make_pdf([["one"], ["two"], ["three"]])
    async with scripted(data, {2: 503}) as http:
        with pytest.raises(VisionFailed, match="page 2") as failed:
            await digitise(http, URL, data, language=None)
    assert isinstance(failed.value.__cause__, httpx.HTTPStatusError)
    async with scripted(data, {1: 500, 3: 400}, slow=frozenset({1})) as http:
        with pytest.raises(DocumentRejected, match="page 3 could not be read"):
            await digitise(http, URL, data, language=None, concurrency=3)


def test_of_failures_seen_together_a_rejection_wins() -> None:
    rejected, failed = DocumentRejected("bad page"), VisionFailed("down")
    group = BaseExceptionGroup("pages", [failed, ExceptionGroup("more", [rejected])])
    assert pipeline._decisive(group) is rejected
    assert pipeline._decisive(BaseExceptionGroup("pages", [failed])) is failed
    bug = KeyError("x")
    assert pipeline._decisive(BaseExceptionGroup("pages", [bug])) is bug
    bugs = BaseExceptionGroup("pages", [bug, ValueError("y")])
    assert pipeline._decisive(bugs) is bugs


async def test_a_document_refused_by_the_rasterizer_never_reaches_the_model() -> None:
    calls: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(500)

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        with pytest.raises(DocumentRejected, match="not a PDF"):
            await digitise(http, URL, b"plain text", language=None)
    assert calls == []


# -- end to end, with the real OCR model (about a second a page) -------------------------------


@pytest.fixture
async def inference(espeak: EspeakEngine, ocr: OcrEngine) -> AsyncIterator[httpx.AsyncClient]:
    app = create_inference_app(espeak, ocr=ocr)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=URL) as http:
        yield http


async def test_a_generated_pdf_comes_back_as_its_text(inference: httpx.AsyncClient) -> None:
    document = await digitise(inference, URL, make_pdf(PAGES), language="en-IN")
    assert [to_markdown(page) for page in document.pages] == [
        "# Quarterly report\n\n"
        "Revenue grew by twelve percent this quarter.\nCosts stayed flat.\n\n"
        "Invoice number 4417 was paid on time.\n",
        "Page two has one line.\n",
    ]


async def test_a_generated_invoice_is_extracted(inference: httpx.AsyncClient) -> None:
    data, invoice = make_invoice()
    document = await digitise(inference, URL, data, language="en-IN")
    schema: dict[str, object] = {
        "type": "object",
        "properties": {
            "invoice_number": {"type": "string", "description": "Invoice number"},
            "customer_name": {"type": "string", "description": "Name of the customer"},
            "paid": {"type": "boolean", "description": "Whether it has been paid"},
            "currency": {"type": "string", "enum": ["INR", "USD"], "description": "Currency"},
            "total_amount": {"type": "number", "description": "Total amount payable"},
            "items": {
                "type": "array",
                "description": "Line items",
                "items": {
                    "type": "object",
                    "properties": {
                        "description": {"type": "string", "description": "What was sold"},
                        "quantity": {"type": "integer", "description": "How many"},
                        "rate": {"type": "number", "description": "Price of one unit"},
                    },
                },
            },
        },
        "required": ["invoice_number", "total_amount"],
    }
    assert extract(document, schema).result == {
        "invoice_number": invoice.number,
        "customer_name": invoice.customer,
        "paid": invoice.paid,
        "currency": invoice.currency,
        "total_amount": invoice.total,
        "items": [
            {"description": name, "quantity": quantity, "rate": rate}
            for name, quantity, rate in invoice.items
        ],
    }

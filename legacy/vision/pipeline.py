"""The document pipeline's entry points: what the doc-AI job worker and routes call.

    digitise(client, inference_url, data, language=...)  -> DigitisedDocument
        rasterize (raster.py, in a worker thread) → OCR each page on the inference server
        (ocr_client.py, two pages in flight) → lay each page out (layout.py)
    to_markdown(page) / to_html(page) / to_json(page)     the output formats (render.py)
    extract(document, schema)  -> Extraction              fill a schema (extract.py)
    load_schema(text) / check_schema(schema)              at request time: SchemaRejected → 400
    page_count(data)                                      at request time, for estimates

A document is all or nothing: if any page fails, ``digitise`` raises (``DocumentRejected`` in
preference to ``VisionFailed``, since a retry cannot cure the document) and the other pages'
OCR calls are cancelled. ``language`` is recorded, not used: the OCR model is the same for
every language and reads Latin script only (``legacy/inference/ocr.py``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

from legacy.vision._types import JsonObject
from legacy.vision.errors import (
    DocumentRejected,
    ExtractionInvalid,
    SchemaRejected,
    VisionError,
    VisionFailed,
)
from legacy.vision.extract import Extraction
from legacy.vision.extract import extract as _extract
from legacy.vision.layout import Block, Line, Page, build_page
from legacy.vision.ocr_client import OcrPage, read_page
from legacy.vision.raster import DEFAULT_LIMITS, PageImage, RasterLimits, page_count, rasterize
from legacy.vision.render import to_html, to_json, to_markdown
from legacy.vision.schema import check_schema, load_schema

__all__ = [
    "DEFAULT_LIMITS",
    "Block",
    "DigitisedDocument",
    "DocumentRejected",
    "Extraction",
    "ExtractionInvalid",
    "Line",
    "Page",
    "RasterLimits",
    "SchemaRejected",
    "VisionError",
    "VisionFailed",
    "check_schema",
    "digitise",
    "extract",
    "load_schema",
    "page_count",
    "to_html",
    "to_json",
    "to_markdown",
]


@dataclass(frozen=True, slots=True)
class DigitisedDocument:
    pages: tuple[Page, ...]  # in order, page_number from 1
    language: str | None  # as requested


async def digitise(
    client: httpx.AsyncClient, inference_url: str, data: bytes, *, language: str | None,
    limits: RasterLimits = DEFAULT_LIMITS, concurrency: int = 2,
) -> DigitisedDocument:  # fmt: skip
    """Every page of ``data`` (PDF or image) read and laid out. Raises DocumentRejected (the
    input's fault, do not retry) or VisionFailed (transient, retry). ``client`` stays the
    caller's, never closed here; each OCR call sets its own timeout (``ocr_client.py``)."""
    images = await asyncio.to_thread(rasterize, data, limits)
    gate = asyncio.Semaphore(concurrency)

    async def read(image: PageImage) -> OcrPage:
        async with gate:
            return await read_page(client, inference_url, image)

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(read(image)) for image in images]
    except BaseExceptionGroup as failed:
        decisive = _decisive(failed)
        raise decisive from decisive.__cause__  # its own cause (the HTTP error), not the group
    return DigitisedDocument(tuple(build_page(task.result()) for task in tasks), language)


def extract(document: DigitisedDocument, schema: JsonObject) -> Extraction:
    """``schema`` filled from the document's pages (``extract.py``). Pure and fast (a few
    milliseconds a page): no need for a thread."""
    return _extract(document.pages, schema)


def _decisive(failed: BaseExceptionGroup[BaseException]) -> BaseException:
    """The one failure to report: a rejection (retrying cannot help) before a transient
    failure; anything else (a bug) as itself, or as the group if there are several."""
    for kind in (DocumentRejected, VisionFailed):
        matched, _ = failed.split(kind)
        if matched is not None:
            return _leaves(matched)[0]
    leaves = _leaves(failed)
    return leaves[0] if len(leaves) == 1 else failed


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    leaves: list[BaseException] = []
    for error in group.exceptions:
        leaves += _leaves(error) if isinstance(error, BaseExceptionGroup) else [error]
    return leaves

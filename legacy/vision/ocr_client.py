"""The OCR model over HTTP: one page image in, its text lines with boxes out.

Calls ``POST {inference_url}/v1/ocr`` (``legacy/inference/ocr.py``) on a client the caller
owns. Failures are mapped in one place, ``_mapped``: a 400 or 413 means the model refused this
page (``DocumentRejected``: the same page would be refused again); anything else that is not a
200 (connection errors, timeouts, 5xx, a malformed answer) is ``VisionFailed``, worth a retry.
Deliberately not here: rendering pages, layout, retries (the job's).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Final

import httpx

from legacy.vision._types import Box
from legacy.vision.errors import DocumentRejected, VisionFailed
from legacy.vision.raster import PageImage

__all__ = ["OcrLine", "OcrPage", "read_page"]

# A page takes ~1-2 s in the model, but calls queue for its one engine: allow for a queue.
_TIMEOUT: Final = httpx.Timeout(120.0, connect=10.0)


@dataclass(frozen=True, slots=True)
class OcrLine:
    text: str
    box: Box
    confidence: float


@dataclass(frozen=True, slots=True)
class OcrPage:
    page_number: int
    width: int
    height: int
    lines: tuple[OcrLine, ...]


async def read_page(client: httpx.AsyncClient, inference_url: str, image: PageImage) -> OcrPage:
    """The model's reading of one page; raises DocumentRejected or VisionFailed."""
    with _mapped(image.page_number):
        response = await client.post(
            f"{inference_url}/v1/ocr", content=image.png,
            headers={"content-type": "image/png"}, timeout=_TIMEOUT,
        )  # fmt: skip
        if response.status_code in (400, 413):
            raise DocumentRejected(
                f"page {image.page_number} could not be read: {_message(response)}"
            )
        response.raise_for_status()
        return _parsed(image.page_number, response.json())


@contextmanager
def _mapped(page_number: int) -> Iterator[None]:
    try:
        yield
    except httpx.TimeoutException as exc:
        raise VisionFailed(f"the OCR model timed out on page {page_number}") from exc
    except httpx.HTTPStatusError as exc:
        status = exc.response.status_code
        raise VisionFailed(f"the OCR model failed on page {page_number} ({status})") from exc
    except httpx.HTTPError as exc:
        raise VisionFailed(f"the OCR model is unreachable: {exc}") from exc
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise VisionFailed(f"the OCR model's answer for page {page_number} is malformed") from exc


def _parsed(page_number: int, body: object) -> OcrPage:
    if not isinstance(body, dict) or not isinstance(body["lines"], list):
        raise TypeError("not an OCR answer")
    lines = tuple(
        OcrLine(
            text=str(line["text"]),
            box=_box(line["box"]),
            confidence=float(line["confidence"]),
        )
        for line in body["lines"]
    )
    return OcrPage(page_number, int(body["width"]), int(body["height"]), lines)


def _box(value: object) -> Box:
    if not isinstance(value, list) or len(value) != 4:
        raise TypeError("a box is four integers")
    x0, y0, x1, y1 = (int(v) for v in value)
    return x0, y0, x1, y1


def _message(response: httpx.Response) -> str:
    try:
        error = response.json()["error"]
        return str(error["message"])
    except (ValueError, KeyError, TypeError):
        return f"the model refused it ({response.status_code})"

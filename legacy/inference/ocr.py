"""Optical character recognition on the inference server: a real engine, RapidOCR.

RapidOCR runs PaddleOCR's PP-OCRv4 models (text detection, then recognition of each detected
line) on onnxruntime; the models ship in its wheel, so nothing is downloaded. Identical bytes
give identical JSON: checked on repeated calls with onnxruntime's default threading, whose
scores came back bit for bit; confidences are rounded to 3 decimals besides.

    POST /v1/ocr   (body: one page image, PNG or JPEG; Content-Type image/png | image/jpeg)
      -> 200 {"width", "height", "lines": [{"text", "box": [x0, y0, x1, y1], "confidence"}]}
       | 400 not a decodable PNG or JPEG | 413 over ``max_bytes`` or ``max_pixels``

``lines`` come in the engine's order: top to bottom, left to right among boxes within 10 px of
each other vertically. ``box`` bounds the detected (possibly slightly skewed) quadrilateral in
the image's pixels, ``confidence`` is the recognizer's mean per-character probability; the
engine drops lines under 0.5. The body's magic bytes decide its format, not the header. EXIF
orientation is applied and transparency flattened on white, so ``width``/``height`` are those of
the upright image the boxes refer to.

What the model reads, and what this module does about its limits:

* **Scripts.** The recognizer's dictionary (6,623 symbols) is Chinese, Latin letters, digits and
  ASCII punctuation. English reads well; **Devanagari and the other Indic scripts are not in
  it**, so such text comes back empty or as Latin look-alikes; nor are ``₹``, ``€`` or ``£``.
* **Spaces.** The Chinese-trained recognizer drops many spaces between English words at
  ordinary print sizes ("Invoicenumber4417"). RapidOCR's ``return_word_box`` gives one box per
  character for Latin text (its word grouping stays internal), so it cannot say where a space
  was; but it says where each character is, so ``_with_spaces`` finds the blank pixel columns
  in the line's own crop and inserts a space where a gap between two characters is word-sized.
  On 256 generated lines of 16-44 px text, exact lines went from 192 to 250; of the other six,
  four are misread letters ("GsT"), not spacing.
* **Orientation.** The 180° line classifier is off: on upright pages it only ever flipped
  correct lines (2 in 80 in our measurement). A page scanned upside down reads as garbage.

The engine loads on first use (~0.6 s) and serves one call at a time (it sets its thresholds on
itself per call). Calls run in a worker thread, so the event loop keeps serving other models,
and they queue in the event loop, not in the shared thread pool.
"""

from __future__ import annotations

import asyncio
import bisect
import hashlib
import io
import itertools
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol, cast

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from PIL import Image, ImageOps
from pydantic import BaseModel

from legacy.inference.profiles import LatencyProfile

__all__ = ["OcrConfig", "OcrEngine", "OcrResponse", "RecognizedLine", "ocr_router"]

_MAGIC: Final = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")  # PNG, JPEG
# A word space in print is ~0.25-0.35 em and letter gaps stay under ~0.15 em; gaps are measured
# against the line's body height (the top of its tallest letters to the baseline, ~0.7 em:
# descenders are left out, as only some lines have them). Digits are tabular, so a "1" between
# digits leaves a wide gap: figures need a wider one. And a word gap is clearly wider than the
# line's typical (median) gap, which keeps loose small print from splitting into letters.
# Chosen on 256 generated lines of 16-44 px text: 0.28-0.30 all do best (250 exact).
_WORD_GAP: Final = 0.28
_DIGIT_GAP: Final = 0.45
_OVER_MEDIAN: Final = 1.6
_JOINERS: Final = frozenset("-/")  # never spaced: "2024-03-15", "A/C"
_MIN_CONTRAST: Final = 48  # grey levels between ink and paper below which gaps are not measured
_BASELINE: Final = 0.3  # the baseline is the last row with 30% of the busiest row's ink


@dataclass(frozen=True, slots=True)
class OcrConfig:
    # An A4 page at 300 DPI is 8.7 MP; 25 MP is a poster-sized scan and keeps one decoded page
    # near 100 MB of memory.
    max_pixels: int = 25_000_000
    max_bytes: int = 20 * 1024 * 1024
    # The engine is its own latency (~1 s a page on 2 cores); this adds a floor, per megapixel.
    latency: LatencyProfile = field(default_factory=LatencyProfile)


@dataclass(frozen=True, slots=True)
class RecognizedLine:
    text: str
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in the image's pixels
    confidence: float


class _Engine(Protocol):
    def __call__(
        self, img: np.ndarray, *, return_word_box: bool
    ) -> tuple[list[Sequence[object]] | None, object]: ...


class OcrEngine:
    """RapidOCR, loaded on first use. Thread-safe, one call at a time; it blocks, so call it
    from a worker thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._engine: _Engine | None = None

    def read(self, image: Image.Image) -> list[RecognizedLine]:
        """The lines of an upright RGB page, in the engine's order."""
        rgb = np.asarray(image.convert("RGB"))
        gray = np.asarray(image.convert("L"))
        with self._lock:
            results, _ = self._loaded()(np.ascontiguousarray(rgb[:, :, ::-1]), return_word_box=True)
        lines = (_line(raw, gray) for raw in results or ())
        return [line for line in lines if line is not None]

    def _loaded(self) -> _Engine:
        if self._engine is None:
            from rapidocr_onnxruntime import RapidOCR  # onnxruntime and OpenCV: only when used

            self._engine = cast(_Engine, RapidOCR(use_cls=False))
        return self._engine


def _line(raw: Sequence[object], gray: np.ndarray) -> RecognizedLine | None:
    quad = np.asarray(raw[0], dtype=np.float64).reshape(4, 2)
    text, score = str(raw[1]), float(cast(float, raw[2]))
    chars = cast(Sequence[Sequence[Sequence[float]]], raw[3] if len(raw) > 3 else ())
    box = _bounds(quad, gray.shape)
    text = " ".join(_with_spaces(gray, box, text, chars).split())
    return RecognizedLine(text, box, round(score, 3)) if text else None


def _bounds(quad: np.ndarray, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    height, width = shape[:2]
    x0, y0 = np.floor(quad.min(axis=0)).astype(int).tolist()
    x1, y1 = np.ceil(quad.max(axis=0)).astype(int).tolist()
    return max(0, x0), max(0, y0), min(width, x1), min(height, y1)


def _with_spaces(
    gray: np.ndarray, box: tuple[int, int, int, int], text: str,
    chars: Sequence[Sequence[Sequence[float]]],
) -> str:  # fmt: skip
    """``text`` with a space wherever the line's crop has a word-sized blank gap between two
    characters the engine wrote together. Unchanged when it cannot tell: vertical text, no
    contrast, or character boxes that do not match the text one to one."""
    x0, y0, x1, y1 = box
    if len(text) < 2 or len(chars) != len(text) or x1 - x0 <= y1 - y0:
        return text
    ink = _ink(gray[y0:y1, x0:x1])
    if ink is None:
        return text
    gaps = _runs(np.asarray(~ink.any(axis=0)))
    gaps = [(start, width) for start, width in gaps if start > 0 and start + width < ink.shape[1]]
    if not gaps:
        return text
    inked = ink.sum(axis=1)
    height = int(np.flatnonzero(inked >= _BASELINE * inked.max())[-1]) + 1
    typical = float(np.median([width for _, width in gaps]))
    centres = sorted((min(p[0] for p in c) + max(p[0] for p in c)) / 2 - x0 for c in chars)
    boundaries = [(a + b) / 2 for a, b in itertools.pairwise(centres)]
    spaced: set[int] = set()
    for start, width in gaps:
        at = _nearest(boundaries, start + width / 2)
        left, right = text[at], text[at + 1]
        if left.isspace() or right.isspace() or left in _JOINERS or right in _JOINERS:
            continue
        figures = right.isdigit() and (left.isdigit() or left in ".,:")
        needed = max((_DIGIT_GAP if figures else _WORD_GAP) * height, _OVER_MEDIAN * typical)
        if width >= needed:
            spaced.add(at)
    return "".join(ch + " " if i in spaced else ch for i, ch in enumerate(text))


def _nearest(boundaries: list[float], x: float) -> int:
    """The index of the boundary nearest ``x`` (the earlier on a tie); ``boundaries`` sorted."""
    after = bisect.bisect_left(boundaries, x)
    if after == len(boundaries) or (after and x - boundaries[after - 1] <= boundaries[after] - x):
        return after - 1
    return after


def _ink(crop: np.ndarray) -> np.ndarray | None:
    """The crop's ink mask cut to its text band (the tallest run of inked rows, so a
    neighbouring line's descenders are left out), or None without enough contrast."""
    if crop.size == 0 or int(crop.max()) - int(crop.min()) < _MIN_CONTRAST:
        return None
    ink = crop < (int(crop.min()) + int(crop.max())) / 2
    if ink.mean() > 0.5:
        ink = ~ink  # light text on a dark background
    bands = _runs(np.asarray(ink.any(axis=1)))
    if not bands:
        return None
    start, rows = max(bands, key=lambda band: (band[1], -band[0]))
    return ink[start : start + rows]


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, length) of each run of True in a 1-D mask."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.astype(np.int8), [0]))))
    return [(int(a), int(b - a)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


class OcrLine(BaseModel):
    text: str
    box: list[int]
    confidence: float


class OcrResponse(BaseModel):
    width: int
    height: int
    lines: list[OcrLine]


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _decode(data: bytes, max_pixels: int) -> Image.Image:
    """The body as an upright RGB image; raises _Refused (400 or 413)."""
    if not data.startswith(_MAGIC):
        raise _Refused(400, "the body must be a PNG or JPEG image")
    try:
        with Image.open(io.BytesIO(data), formats=("PNG", "JPEG")) as opened:
            width, height = opened.size
            if width * height > max_pixels:
                raise _Refused(413, _too_many_pixels(width, height, max_pixels))
            upright = ImageOps.exif_transpose(opened)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _Refused(413, "the image has too many pixels for this model") from None
    except (OSError, SyntaxError, ValueError):
        raise _Refused(400, "the image could not be decoded: it is damaged or truncated") from None
    if upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info:
        flat = Image.new("RGBA", upright.size, "white")
        flat.alpha_composite(upright.convert("RGBA"))
        return flat.convert("RGB")
    return upright.convert("RGB")


def _too_many_pixels(width: int, height: int, max_pixels: int) -> str:
    return (
        f"the image is {width}x{height} ({width * height / 1e6:.1f} MP); this model reads at most "
        f"{max_pixels / 1e6:g} MP per call: send a smaller rendering"
    )


def ocr_router(engine: OcrEngine, config: OcrConfig) -> APIRouter:
    """``POST /v1/ocr`` over ``engine``."""
    router = APIRouter()
    turn = asyncio.Semaphore(1)  # one page in the engine; the rest wait here, not in threads

    def recognize(data: bytes) -> tuple[Image.Image, list[RecognizedLine]]:
        image = _decode(data, config.max_pixels)
        return image, engine.read(image)

    @router.post("/v1/ocr", response_model=OcrResponse)
    async def ocr(request: Request) -> OcrResponse | JSONResponse:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > config.max_bytes:
            return _too_big(int(declared), config.max_bytes)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > config.max_bytes:
                return _too_big(len(body), config.max_bytes)
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            async with turn:
                image, lines = await asyncio.to_thread(recognize, bytes(body))
        except _Refused as refused:
            return _error(refused.status, str(refused))
        megapixels = image.width * image.height / 1e6
        seed = hashlib.blake2b(body, digest_size=16).digest()
        remaining = config.latency.delay_s(megapixels, seed) - (loop.time() - started)
        if remaining > 0:
            await asyncio.sleep(remaining)
        return OcrResponse(
            width=image.width,
            height=image.height,
            lines=[OcrLine(text=x.text, box=list(x.box), confidence=x.confidence) for x in lines],
        )

    return router


def _too_big(size: int, max_bytes: int) -> JSONResponse:
    return _error(
        413, f"the body is {size / 2**20:.1f} MiB; this model takes at most "
        f"{max_bytes / 2**20:g} MiB per image: send a smaller or more compressed rendering",
    )  # fmt: skip


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "code": "model_call_error"}}, status)

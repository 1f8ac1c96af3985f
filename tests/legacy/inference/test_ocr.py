"""The inference server's OCR model over HTTP: the real engine, reading generated pages.

Each OCR call takes about a second; the tests share one engine and make three.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from legacy.inference.app import create_inference_app
from legacy.inference.config import InferenceConfig, load_inference_config
from legacy.inference.espeak import EspeakEngine
from legacy.inference.ocr import OcrConfig, OcrEngine
from legacy.inference.profiles import LatencyProfile
from tests.legacy.documents import make_image

pytestmark = pytest.mark.anyio

LINES = [
    "Invoice number 4417",
    "Total amount 1,250.00",
    "Hello world from Banyan",
    "The quick brown fox jumps over the lazy dog.",
]


@pytest.fixture
async def client(espeak: EspeakEngine, ocr: OcrEngine) -> AsyncIterator[httpx.AsyncClient]:
    config = InferenceConfig(ocr=OcrConfig(max_pixels=2_000_000, max_bytes=1_000_000))
    app = create_inference_app(espeak, config, ocr=ocr)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://inference"
    ) as http:
        yield http


def post(
    client: httpx.AsyncClient, body: bytes, kind: str = "image/png"
) -> asyncio.Task[httpx.Response]:
    return asyncio.ensure_future(
        client.post("/v1/ocr", content=body, headers={"content-type": kind})
    )


async def test_known_text_comes_back_line_by_line_with_its_spaces(
    client: httpx.AsyncClient,
) -> None:
    image = make_image(LINES, size=28)
    reading = post(client, image)
    health = await client.get("/healthz")  # answered while the engine works in its thread
    assert not reading.done()
    assert "ocr" in health.json()["models"]
    response = await reading
    assert response.status_code == 200
    body = response.json()
    width, height = Image.open(io.BytesIO(image)).size
    assert (body["width"], body["height"]) == (width, height)
    assert [line["text"] for line in body["lines"]] == LINES
    tops = [line["box"][1] for line in body["lines"]]
    assert tops == sorted(tops)
    for line in body["lines"]:
        x0, y0, x1, y1 = line["box"]
        assert 0 <= x0 < x1 <= width
        assert 0 <= y0 < y1 <= height
        assert 0.5 <= line["confidence"] <= 1
        assert round(line["confidence"], 3) == line["confidence"]


async def test_the_same_bytes_give_the_same_json(client: httpx.AsyncClient) -> None:
    image = make_image(["Determinism, twice over: 12.5% of 4,000"], fmt="JPEG")
    first = await client.post("/v1/ocr", content=image, headers={"content-type": "image/jpeg"})
    second = await client.post("/v1/ocr", content=image, headers={"content-type": "image/jpeg"})
    assert first.status_code == 200
    assert first.json()["lines"]
    assert first.content == second.content


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not an image at all", "the body must be a PNG or JPEG image"),
        (b"", "the body must be a PNG or JPEG image"),
        (make_image(["Hello"])[:300], "the image could not be decoded: it is damaged or truncated"),
        (make_image(["Hello"], fmt="WEBP"), "the body must be a PNG or JPEG image"),
    ],
)
async def test_bytes_that_are_not_a_png_or_jpeg_are_refused(
    client: httpx.AsyncClient, body: bytes, message: str
) -> None:
    response = await client.post("/v1/ocr", content=body, headers={"content-type": "image/png"})
    assert response.status_code == 400
    assert response.json() == {"error": {"message": message, "code": "model_call_error"}}


async def test_too_many_pixels_or_bytes_is_413(client: httpx.AsyncClient) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (2000, 1200), "white").save(buffer, "PNG")
    response = await client.post("/v1/ocr", content=buffer.getvalue())
    assert response.status_code == 413
    assert (
        "2000x1200 (2.4 MP); this model reads at most 2 MP" in response.json()["error"]["message"]
    )
    response = await client.post("/v1/ocr", content=b"\x89PNG\r\n\x1a\n" + bytes(1_000_000))
    assert response.status_code == 413
    assert "at most 0.953674 MiB per image" in response.json()["error"]["message"]


async def test_a_blank_page_has_no_lines(client: httpx.AsyncClient) -> None:
    buffer = io.BytesIO()
    Image.new("L", (300, 200), 255).save(buffer, "PNG")
    response = await client.post("/v1/ocr", content=buffer.getvalue())
    assert response.json() == {"width": 300, "height": 200, "lines": []}


def test_the_config_file_sets_the_ocr_limit_and_latency(tmp_path: Path) -> None:
    path = tmp_path / "models.yaml"
    path.write_text("ocr: {max_pixels: 1000000, latency: {fixed_ms: 50}}\nlatency_scale: 2\n")
    config = load_inference_config(path)
    assert config.ocr.max_pixels == 1_000_000
    assert config.ocr.latency == LatencyProfile(fixed_ms=100)
    assert load_inference_config().ocr == OcrConfig()

"""The OCR model over HTTP, against a scripted transport: answers parsed, failures mapped."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from legacy.vision.errors import DocumentRejected, VisionFailed
from legacy.vision.ocr_client import OcrLine, OcrPage, read_page
from legacy.vision.raster import PageImage

pytestmark = pytest.mark.anyio

IMAGE = PageImage(3, b"\x89PNG\r\n\x1a\nnot really", 100, 50)
ANSWER = {
    "width": 100,
    "height": 50,
    "lines": [{"text": "Hello world", "box": [1, 2, 60, 20], "confidence": 0.987}],
}


def client(answer: Callable[[httpx.Request], httpx.Response]) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(answer))


async def test_a_page_is_posted_as_png_and_its_lines_parsed() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=ANSWER)

    async with client(answer) as http:
        page = await read_page(http, "http://inference", IMAGE)
    assert page == OcrPage(3, 100, 50, (OcrLine("Hello world", (1, 2, 60, 20), 0.987),))
    (request,) = seen
    assert (request.method, str(request.url)) == ("POST", "http://inference/v1/ocr")
    assert request.headers["content-type"] == "image/png"
    assert request.content == IMAGE.png


@pytest.mark.parametrize("status", [400, 413])
async def test_a_page_the_model_refuses_rejects_the_document(status: int) -> None:
    refusal = {"error": {"message": "the image is too big", "code": "model_call_error"}}
    async with client(lambda _: httpx.Response(status, json=refusal)) as http:
        with pytest.raises(DocumentRejected) as rejected:
            await read_page(http, "http://inference", IMAGE)
    assert str(rejected.value) == "page 3 could not be read: the image is too big"


def refuse_to_connect(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def time_out(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (lambda _: httpx.Response(500, text="boom"), "the OCR model failed on page 3 (500)"),
        (lambda _: httpx.Response(503), "the OCR model failed on page 3 (503)"),
        (refuse_to_connect, "the OCR model is unreachable"),
        (time_out, "the OCR model timed out on page 3"),
        (lambda _: httpx.Response(200, text="not json"), "answer for page 3 is malformed"),
        (lambda _: httpx.Response(200, json={"lines": "x"}), "answer for page 3 is malformed"),
        (
            lambda _: httpx.Response(200, json={**ANSWER, "lines": [{"text": "a", "box": [1]}]}),
            "answer for page 3 is malformed",
        ),
    ],
)
async def test_transient_failures_are_worth_a_retry(
    answer: Callable[[httpx.Request], httpx.Response], message: str
) -> None:
    async with client(answer) as http:
        with pytest.raises(VisionFailed) as failed:
            await read_page(http, "http://inference", IMAGE)
    assert message in str(failed.value)

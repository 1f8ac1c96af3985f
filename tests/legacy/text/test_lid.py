"""Legacy's language identifier: the script decides, the inference model splits Devanagari."""

from __future__ import annotations

import json

import httpx
import pytest

from legacy.text.lid import Identification, LanguageIdentifier, LidUnavailable

pytestmark = pytest.mark.anyio


def identifier(
    answer: httpx.Response | Exception, asked: list[dict[str, object]]
) -> LanguageIdentifier:
    def model(request: httpx.Request) -> httpx.Response:
        asked.append(json.loads(request.content))
        if isinstance(answer, Exception):
            raise answer
        return answer

    client = httpx.AsyncClient(transport=httpx.MockTransport(model))
    return LanguageIdentifier(client, "http://inference")


async def test_only_a_shared_script_asks_the_model() -> None:
    asked: list[dict[str, object]] = []
    lid = identifier(httpx.Response(200, json={"language_code": "mr-IN"}), asked)
    assert await lid.identify("வணக்கம்") == Identification("ta-IN", "Taml")
    assert await lid.identify("12345 !!!") == Identification(None, None)
    assert asked == []
    assert await lid.identify("माझे नाव") == Identification("mr-IN", "Deva")
    assert asked == [{"text": "माझे नाव", "candidates": ["hi-IN", "mr-IN"]}]


async def test_the_model_unable_to_tell_means_hindi() -> None:
    lid = identifier(httpx.Response(200, json={"language_code": None}), [])
    assert await lid.identify("नमस्ते") == Identification("hi-IN", "Deva")


@pytest.mark.parametrize(
    ("answer", "status", "words"),
    [
        (httpx.Response(500), 502, "refused the text (500)"),
        (httpx.ConnectError("refused"), 502, "unreachable"),
    ],
)
async def test_a_failing_model_is_a_502(answer, status: int, words: str) -> None:
    lid = identifier(answer, [])
    with pytest.raises(LidUnavailable) as caught:
        await lid.identify("नमस्ते")
    assert caught.value.status == status
    assert words in str(caught.value)


async def test_without_an_inference_server_devanagari_is_a_503() -> None:
    lid = LanguageIdentifier(httpx.AsyncClient(), None)
    assert await lid.identify("hello") == Identification("en-IN", "Latn")
    with pytest.raises(LidUnavailable) as caught:
        await lid.identify("नमस्ते")
    assert caught.value.status == 503

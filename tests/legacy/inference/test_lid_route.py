"""The inference server's language-identification model over HTTP (real lingua)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from legacy.inference.lid_route import LidConfig, lid_router
from legacy.inference.profiles import LatencyProfile

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.include_router(lid_router(LidConfig(max_chars=200, latency=LatencyProfile())))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://inference") as c:
        yield c


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("मेरा नाम राहुल है और मैं दिल्ली में रहता हूँ", "hi-IN"),
        ("माझे नाव राहुल आहे आणि मी पुण्यात राहतो", "mr-IN"),
        ("आज हवामान खूप छान आहे", "mr-IN"),
        ("क्या आप मेरी मदद कर सकते हैं?", "hi-IN"),
    ],
)
async def test_the_model_splits_hindi_from_marathi(client, text: str, language: str) -> None:
    answer = await client.post("/v1/lid", json={"text": text})
    assert answer.status_code == 200
    assert answer.json() == {"language_code": language}


async def test_it_says_null_when_it_cannot_tell_and_is_deterministic(client) -> None:
    assert (await client.post("/v1/lid", json={"text": "123 !!"})).json() == {"language_code": None}
    body = {"text": "नमस्ते", "candidates": ["mr-IN", "hi-IN"]}
    answers = {(await client.post("/v1/lid", json=body)).json()["language_code"] for _ in range(3)}
    assert len(answers) == 1


async def test_other_candidates_choose_among_themselves(client) -> None:
    body = {"text": "the weather is lovely today", "candidates": ["en-IN", "hi-IN"]}
    assert (await client.post("/v1/lid", json=body)).json() == {"language_code": "en-IN"}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"text": "क" * 201}, 413),
        ({"text": ""}, 422),
        ({"text": "क", "candidates": ["hi-IN"]}, 422),
        ({"text": "क", "candidates": ["hi-IN", "xx-XX"]}, 422),
    ],
)
async def test_what_the_model_refuses(client, body: dict[str, object], status: int) -> None:
    answer = await client.post("/v1/lid", json=body)
    assert answer.status_code == status
    if status == 413:
        assert "at most 200" in answer.json()["error"]["message"]

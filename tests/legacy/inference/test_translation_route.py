"""POST /v1/translate: the model over HTTP, its context limit and its latency profile."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from legacy.inference.profiles import LatencyProfile
from legacy.inference.translation_route import TranslationConfig, translation_router

pytestmark = pytest.mark.anyio


def _client(config: TranslationConfig) -> httpx.AsyncClient:
    app = FastAPI()
    app.include_router(translation_router(config))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://inference")


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    fast = TranslationConfig(max_chars=50, latency=LatencyProfile())
    async with _client(fast) as c:
        yield c


async def test_translates_and_counts_characters(client) -> None:
    body = {"text": "Thank you!", "source_language_code": "en-IN", "target_language_code": "hi-IN"}
    response = await client.post("/v1/translate", json=body)
    assert response.status_code == 200
    assert response.json() == {"translated_text": "धन्यवाद!", "characters": 10}


async def test_over_the_context_limit_is_413_so_callers_chunk(client) -> None:
    body = {"text": "a" * 51, "source_language_code": "en-IN", "target_language_code": "hi-IN"}
    response = await client.post("/v1/translate", json=body)
    assert response.status_code == 413
    assert "at most 50 per call" in response.json()["error"]["message"]


async def test_auto_is_not_a_model_language(client) -> None:
    body = {"text": "hi", "source_language_code": "auto", "target_language_code": "hi-IN"}
    assert (await client.post("/v1/translate", json=body)).status_code == 422


async def test_latency_follows_the_profile() -> None:
    slow = TranslationConfig(latency=LatencyProfile(fixed_ms=200))
    body = {"text": "hello", "source_language_code": "en-IN", "target_language_code": "ta-IN"}
    async with _client(slow) as c:
        started = time.perf_counter()
        assert (await c.post("/v1/translate", json=body)).status_code == 200
        assert time.perf_counter() - started >= 0.2

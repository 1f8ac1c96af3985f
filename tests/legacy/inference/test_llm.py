"""The inference server's chat model over HTTP: NDJSON stream, limits, timing."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from legacy.inference.llm import llm_router
from legacy.inference.profiles import StreamProfile

pytestmark = pytest.mark.anyio
HELLO = [{"role": "user", "content": "Hello, tell me about Mysuru."}]


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.include_router(llm_router(StreamProfile(first_token_ms=60, per_token_ms=1, jitter_ms=1)))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://inference") as c:
        yield c


async def test_a_stream_is_start_deltas_end_and_the_tokens_add_up(client) -> None:
    body = {"model": "sarvam-m", "messages": HELLO, "seed": 2}
    started = time.monotonic()
    response = await client.post("/v1/generate", json=body)
    assert response.headers["content-type"] == "application/x-ndjson"
    events = [json.loads(line) for line in response.text.splitlines()]
    assert time.monotonic() - started >= 0.06  # at least the time to first token
    start, *deltas, end = events
    assert start == {"type": "start", "model": "sarvam-m", "prompt_tokens": start["prompt_tokens"],
                     "max_tokens": 1024}  # fmt: skip
    assert {d["type"] for d in deltas} == {"delta"}
    assert end["completion_tokens"] == sum(d["tokens"] for d in deltas)
    whole = (await client.post("/v1/generate", json={**body, "stream": False})).json()
    assert whole["content"] == "".join(d["text"] for d in deltas)
    assert (whole["prompt_tokens"], whole["completion_tokens"], whole["finish_reason"]) == (
        start["prompt_tokens"], end["completion_tokens"], end["finish_reason"])  # fmt: skip


async def test_the_context_limit_is_a_400_naming_it(client) -> None:
    response = await client.post(
        "/v1/generate", json={"model": "sarvam-m", "messages": HELLO, "max_tokens": 8180}
    )
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert "maximum context length is 8192 tokens" in message
    assert "8180 in the completion" in message
    unknown = await client.post("/v1/generate", json={"model": "gpt-x", "messages": HELLO})
    assert (unknown.status_code, "unknown model" in unknown.text) == (400, True)


async def test_without_max_tokens_the_budget_is_what_the_context_leaves(client) -> None:
    long = [{"role": "user", "content": "word " * 7500}]
    response = await client.post(
        "/v1/generate", json={"model": "sarvam-m", "messages": long, "stream": False}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["prompt_tokens"] + body["completion_tokens"] <= 8192

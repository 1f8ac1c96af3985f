"""The inference server's speech synthesis over HTTP (real eSpeak NG)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import httpx
import numpy as np
import pytest

from legacy.inference.app import create_inference_app
from legacy.inference.config import InferenceConfig
from legacy.inference.espeak import EspeakEngine
from legacy.inference.profiles import LatencyProfile

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def engine() -> Iterator[EspeakEngine]:
    engine = EspeakEngine()  # one per process: this module's tests share it
    yield engine
    engine.close()


@pytest.fixture
async def client(engine) -> AsyncIterator[httpx.AsyncClient]:
    app = create_inference_app(engine, InferenceConfig(tts_max_chars=200))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://inference") as c:
        yield c


async def test_tts_returns_real_speech_as_raw_pcm(client) -> None:
    response = await client.post("/v1/tts", json={"text": "नमस्ते, आप कैसे हैं?", "voice": "hi"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/L16"
    rate = int(response.headers["x-sample-rate"])
    samples = np.frombuffer(response.content, dtype="<i2")
    assert rate == 22050
    assert float(response.headers["x-duration-s"]) == pytest.approx(len(samples) / rate, abs=0.001)
    assert 0.5 < len(samples) / rate < 5
    assert np.sqrt(np.mean(samples.astype(np.float64) ** 2)) > 100  # not silence


async def test_identical_calls_give_identical_audio(client) -> None:
    body = {"text": "The same words, twice.", "voice": "en", "rate_wpm": 160}
    first = await client.post("/v1/tts", json=body)
    await client.post("/v1/tts", json={"text": "Something else in between.", "voice": "en"})
    second = await client.post("/v1/tts", json=body)
    assert first.content == second.content


async def test_the_context_limit_refuses_long_text_so_callers_chunk(client) -> None:
    response = await client.post("/v1/tts", json={"text": "word " * 50, "voice": "en"})
    assert response.status_code == 413
    assert "at most 200 per call" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"text": "hello", "voice": "xx-nope"}, 400),
        ({"text": "", "voice": "en"}, 422),
        ({"text": "   ", "voice": "en"}, 422),
        ({"text": "hello", "rate_wpm": 5000}, 422),
    ],
)
async def test_bad_calls_are_refused_clearly(client, body, status) -> None:
    response = await client.post("/v1/tts", json=body)
    assert response.status_code == status


async def test_voices_include_the_platforms_languages(client) -> None:
    voices = (await client.get("/v1/tts/voices")).json()["voices"]
    assert {"en", "hi", "ta", "bn", "te", "kn", "ml", "mr", "gu", "pa"} <= set(voices)


async def test_the_latency_profile_is_applied(engine) -> None:
    slow = InferenceConfig(tts_latency=LatencyProfile(fixed_ms=300))
    transport = httpx.ASGITransport(app=create_inference_app(engine, slow))
    async with httpx.AsyncClient(transport=transport, base_url="http://inference") as c:
        started = time.perf_counter()
        assert (await c.post("/v1/tts", json={"text": "hi"})).status_code == 200
    assert time.perf_counter() - started >= 0.3


def test_latency_is_deterministic_per_input_and_spread_across_inputs() -> None:
    profile = LatencyProfile(fixed_ms=10, per_unit_ms=1, jitter_ms=50)
    assert profile.delay_s(20, b"a") == profile.delay_s(20, b"a")
    delays = {profile.delay_s(20, f"call-{i}".encode()) for i in range(50)}
    assert len(delays) > 40
    assert all(0.030 <= d < 0.080 for d in delays)

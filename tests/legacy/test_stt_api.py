"""/speech-to-text in-process: the refusals that need no model, and the pure helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import HTTPException

from legacy.app import create_app
from legacy.speech.decode import DecodedAudio
from legacy.stt_api import MAX_UPLOAD_BYTES, audio_seconds, parse_keyterms


@pytest.fixture
async def legacy(database_url, redis_url) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(database_url=database_url, redis_url=redis_url)  # no inference server
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://legacy") as c:
            yield c


@pytest.mark.anyio
async def test_without_an_inference_server_recognition_is_503(legacy) -> None:
    files = {"file": ("a.raw", b"\0\0" * 1600, "application/octet-stream")}
    for path in ("/speech-to-text", "/speech-to-text-translate"):
        response = await legacy.post(path, files=files, headers={"api-subscription-key": "k"})
        assert response.status_code == 503
        assert "not configured" in response.json()["error"]["message"]


@pytest.mark.anyio
async def test_an_upload_over_the_limit_is_413_before_it_is_read(legacy) -> None:
    files = {"file": ("a.wav", b"\0" * (MAX_UPLOAD_BYTES + 1), "audio/wav")}
    response = await legacy.post("/speech-to-text", files=files)
    assert response.status_code == 413
    assert "at most 25 MiB" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("raw", "model", "terms"),
    [(None, "saaras:v3", ()), ("null", "saaras:v3", ()), ("", "saaras:v4", ()),
     ("[]", "saaras:v3", ()), ('["Sarvam", "New Delhi"]', "saaras:v4", ("Sarvam", "New Delhi"))],
)  # fmt: skip
def test_keyterms_that_are_accepted(raw, model, terms) -> None:
    assert parse_keyterms(raw, model) == terms


@pytest.mark.parametrize(
    ("raw", "model", "status"),
    [('["a"]', "saaras:v3", 400), ("[1, 2]", "saaras:v4", 400), ('{"a": 1}', "saaras:v4", 400),
     ("Sarvam", "saaras:v4", 400), (str(["x"] * 51).replace("'", '"'), "saaras:v4", 400),
     ('["' + "x" * 65 + '"]', "saaras:v4", 400), ('[" "]', "saaras:v4", 400)],
)  # fmt: skip
def test_keyterms_that_are_refused(raw, model, status) -> None:
    with pytest.raises(HTTPException) as refused:
        parse_keyterms(raw, model)
    assert refused.value.status_code == status
    assert "keyterms" in str(refused.value.detail)


@pytest.mark.parametrize(
    ("samples", "billed"), [(16000, "1.000"), (16001, "1.001"), (16016, "1.001"), (1, "0.001")]
)
def test_audio_is_billed_in_milliseconds_rounded_up(samples: int, billed: str) -> None:
    assert str(audio_seconds(DecodedAudio(b"\0\0" * samples, "wav"))) == billed

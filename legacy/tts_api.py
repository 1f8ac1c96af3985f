"""``POST /text-to-speech`` (sdk-contract §1.5, §1.6): speech for text, base64 in ``audios``.

Billed by characters of text through the commercial layer (authorized before synthesis).
``speaker``, ``model``, ``enable_preprocessing``, ``temperature``, ``dict_id`` and
``enable_cached_responses`` are accepted for SDK compatibility; the engine has one voice per
language, so they do not change the audio.
"""

from __future__ import annotations

import base64
from decimal import Decimal

import httpx
from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from legacy.error_docs import error_responses
from legacy.metering import abandon_charge, close_charge, open_charge
from legacy.speech.audio import SUPPORTED_CODECS, encode, resample, scale
from legacy.speech.tts import InferenceFailed, SpeechRequest, synthesize
from legacy.text.scripts import CoreLanguage

__all__ = ["tts_router"]

SAMPLE_RATES = (8000, 16000, 22050, 24000, 32000, 44100, 48000)


class TextToSpeechRequest(BaseModel):
    model_config = ConfigDict(strict=True)  # JSON types as documented: no 0 or "yes" for a bool

    # At least one non-space: whitespace alone has nothing to speak (it crashed the chunker).
    text: str = Field(min_length=1, max_length=2500, pattern=r"\S")
    language_code: CoreLanguage
    speaker: str | None = None
    pitch: float | None = Field(default=None, ge=-0.75, le=0.75)
    pace: float | None = Field(default=None, ge=0.3, le=3.0)
    loudness: float | None = Field(default=None, ge=0.3, le=3.0)
    speech_sample_rate: int | None = None
    enable_preprocessing: bool | None = None
    model: str | None = None
    output_audio_codec: str | None = None
    temperature: float | None = Field(default=None, ge=0.01, le=1.0)
    dict_id: str | None = None
    enable_cached_responses: bool | None = None


class TextToSpeechResponse(BaseModel):
    request_id: str | None = None
    audios: list[str]


tts_router = APIRouter(tags=["speech"])


@tts_router.post(
    "/text-to-speech", response_model=TextToSpeechResponse, responses=error_responses(502, 503)
)
async def text_to_speech(request: Request, body: TextToSpeechRequest) -> TextToSpeechResponse:
    rate = body.speech_sample_rate or 22050
    if rate not in SAMPLE_RATES:
        raise HTTPException(
            400, f"speech_sample_rate must be one of {', '.join(map(str, SAMPLE_RATES))}"
        )
    codec = body.output_audio_codec or "wav"
    if codec not in SUPPORTED_CODECS:
        raise HTTPException(
            400, f"output_audio_codec {codec!r} is not supported yet; use wav or linear16"
        )
    inference_url: str | None = request.app.state.inference_url
    if inference_url is None:
        raise HTTPException(503, "speech synthesis is not configured (BANYAN_INFERENCE_URL)")
    chars = Decimal(len(body.text))
    charge = await open_charge(request, route="text-to-speech", unit="characters", estimate=chars)
    speech = SpeechRequest(body.text, body.language_code, body.pace or 1.0, body.pitch or 0.0)
    client: httpx.AsyncClient = request.app.state.inference
    try:
        pcm, model_rate = await synthesize(client, inference_url, speech)
    except InferenceFailed as exc:
        await abandon_charge(request, charge)
        raise HTTPException(502, str(exc)) from exc
    pcm = scale(resample(pcm, model_rate, rate), body.loudness or 1.0)
    audio = encode(pcm, rate, codec)
    await close_charge(request, charge, chars)
    return TextToSpeechResponse(
        request_id=request.state.request_id, audios=[base64.b64encode(audio).decode("ascii")]
    )

"""``POST /text-to-speech`` (sdk-contract §1.5, §1.6): speech for text, base64 in ``audios``.

Billed by characters of text through the commercial layer (authorized before synthesis).
Every codec the contract names is produced (``legacy/speech/codecs.py`` says how each is
packaged). ``model`` and ``speaker`` are checked against each other and the speaker picks an
eSpeak voice variant; ``pace`` sets the speaking rate; ``pitch`` and ``loudness`` shift the
voice and scale the samples on bulbul:v2, the model that has them (the rules:
``legacy/speech/options.py``). ``enable_preprocessing``, ``temperature``, ``dict_id`` and
``enable_cached_responses`` are accepted for SDK compatibility and change nothing: the engine
is deterministic and there are no pronunciation dictionaries.
"""

from __future__ import annotations

import asyncio
import base64
import re
from decimal import Decimal
from typing import Annotated

import httpx
from fastapi import APIRouter, HTTPException, Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from legacy.error_docs import error_responses
from legacy.json_types import JsonInt
from legacy.metering import abandon_charge, close_charge, open_charge
from legacy.speech.audio import resample, scale
from legacy.speech.codecs import Bitrate, CodecName, encode
from legacy.speech.options import (
    InvalidSpeechOptions,
    SpeechOptions,
    Surface,
    check_text_length,
    resolve_options,
)
from legacy.speech.tts import InferenceFailed, SpeechRequest, synthesize
from legacy.speech.voices import Model
from legacy.text.scripts import CoreLanguage

__all__ = [
    "SpeakableText",
    "SpeechFields",
    "inference_url_of",
    "options_of",
    "speech_request",
    "tts_router",
]


# Something to speak: at least one character that is not a control character, a space or any
# other whitespace, and no NUL anywhere (the engine reads C strings). Spelled with explicit
# classes so the published pattern means the same in JSON Schema's regex dialect as here.
_SILENT = r"\x00-\x20\x7f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
SPEAKABLE_PATTERN = rf"^[^\x00]*[^{_SILENT}][^\x00]*$"
_SPEAKABLE = re.compile(SPEAKABLE_PATTERN.removesuffix("$") + r"\Z")


def _has_words(text: str) -> str:
    if "\0" in text:
        raise ValueError("text must not contain NUL characters")
    if not _SPEAKABLE.match(text):
        raise ValueError("text has nothing to speak: it is empty, whitespace or control characters")
    return text


SpeakableText = Annotated[
    str, AfterValidator(_has_words), Field(json_schema_extra={"pattern": SPEAKABLE_PATTERN})
]


class SpeechFields(BaseModel):
    """The voice fields every TTS request shares (REST and stream)."""

    model_config = ConfigDict(strict=True)  # JSON types as documented: no 0 or "yes" for a bool

    speaker: str | None = Field(default=None, max_length=64, examples=["shubh"])
    pitch: float | None = Field(default=None, ge=-0.75, le=0.75)
    pace: float | None = Field(default=None, ge=0.3, le=3.0)
    loudness: float | None = Field(default=None, ge=0.3, le=3.0)
    speech_sample_rate: JsonInt | None = Field(default=None, examples=[22050])
    enable_preprocessing: bool | None = None
    model: Model | None = None
    output_audio_codec: CodecName | None = None
    temperature: float | None = Field(default=None, ge=0.01, le=1.0)
    dict_id: str | None = Field(default=None, max_length=128)
    enable_cached_responses: bool | None = None


class TextToSpeechRequest(SpeechFields):
    text: SpeakableText = Field(max_length=2500, examples=["नमस्ते, आप कैसे हैं?"])
    language_code: CoreLanguage


class TextToSpeechResponse(BaseModel):
    request_id: str | None = None
    audios: list[str]


def options_of(
    body: SpeechFields, surface: Surface, bitrate: Bitrate | None = None
) -> SpeechOptions:
    """The request's resolved options, or a 400 that says what to change."""
    try:
        return resolve_options(
            surface=surface, model=body.model, speaker=body.speaker, pace=body.pace,
            pitch=body.pitch, loudness=body.loudness, sample_rate=body.speech_sample_rate,
            codec=body.output_audio_codec, bitrate=bitrate,
        )  # fmt: skip
    except InvalidSpeechOptions as exc:
        raise HTTPException(400, str(exc)) from exc


def speech_request(text: str, language_code: str, options: SpeechOptions) -> SpeechRequest:
    return SpeechRequest(text, language_code, options.pace, options.pitch, options.speaker)


def inference_url_of(request: Request) -> str:
    url: str | None = request.app.state.inference_url
    if url is None:
        raise HTTPException(503, "speech synthesis is not configured (BANYAN_INFERENCE_URL)")
    return url


tts_router = APIRouter(tags=["speech"])


@tts_router.post(
    "/text-to-speech", response_model=TextToSpeechResponse, responses=error_responses(502, 503)
)
async def text_to_speech(request: Request, body: TextToSpeechRequest) -> TextToSpeechResponse:
    options = options_of(body, "rest")
    try:
        check_text_length(options.model, body.text)
    except InvalidSpeechOptions as exc:
        raise HTTPException(400, str(exc)) from exc
    inference_url = inference_url_of(request)
    chars = Decimal(len(body.text))
    charge = await open_charge(request, route="text-to-speech", unit="characters", estimate=chars)
    client: httpx.AsyncClient = request.app.state.inference
    speech = speech_request(body.text, body.language_code, options)
    try:
        pcm, model_rate = await synthesize(client, inference_url, speech)
    except InferenceFailed as exc:
        await abandon_charge(request, charge)
        raise HTTPException(502, str(exc)) from exc
    rate = options.sample_rate
    pcm = scale(resample(pcm, model_rate, rate), options.loudness)
    # Encoding minutes of audio takes a while: off the event loop.
    audio = await asyncio.to_thread(encode, pcm, rate, options.codec, bitrate=options.bitrate)
    await close_charge(request, charge, chars)
    return TextToSpeechResponse(
        request_id=request.state.request_id, audios=[base64.b64encode(audio).decode("ascii")]
    )

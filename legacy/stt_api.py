"""``POST /speech-to-text`` and ``POST /speech-to-text-translate`` (sdk-contract §1.2 to §1.6).

Multipart upload → decode to 16 kHz mono (``speech/decode.py``) → VAD segments
(``speech/vad.py``) → recognition of each segment on the inference server, merged
(``speech/stt.py``).

Contract quirks honoured: form booleans arrive as "true"/"false"; ``keyterms`` is always sent,
as the literal string "null" or a JSON array string (≤ 50 terms of ≤ 64 characters, saaras:v4
only); on a retry the SDK re-sends the file part alone, so every form field has a default that
gives a sensible answer (model saaras:v3, mode transcribe, language detected, no timestamps).
``language_probability`` is returned only when the language was detected (not given, or
``unknown``). ``timestamps`` lists every word with its start and end in seconds from the start
of the file. The translate route answers in English, with the detected source language;
its ``prompt`` is accepted and does not change the simulated model's output.

Limits: uploads over 25 MiB are refused (413) before the body is read; audio over 30 s is
refused (400) as soon as decoding passes 30 s (the REST API is for short audio).

Billing: by ``audio_seconds`` of the decoded audio, counted in whole milliseconds rounded up
(a partial millisecond is billed as one), so 1 s of 44.1 kHz MP3 and 1 s of 16 kHz WAV cost
the same. The audio is decoded before the charge is opened, because the hold is its exact
duration; decoding is bounded by the limits above. A failed recognition bills nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from decimal import ROUND_CEILING, Decimal
from typing import Annotated, Any, Literal

import httpx
from fastapi import APIRouter, File, Form, HTTPException, Request, Response, UploadFile
from fastapi.routing import APIRoute
from pydantic import BaseModel, BeforeValidator, StringConstraints

from legacy.error_docs import error_responses
from legacy.metering import abandon_charge, close_charge, open_charge
from legacy.speech.decode import SAMPLE_RATE, AudioRejected, DecodedAudio, decode_audio
from legacy.speech.stt import (
    MODEL_MAX_SECONDS,
    RecognitionFailed,
    RecognitionRequest,
    Transcription,
    fit_to_context,
    transcribe,
)
from legacy.speech.vad import find_speech

__all__ = [
    "MAX_AUDIO_SECONDS",
    "MAX_UPLOAD_BYTES",
    "InputAudioCodec",
    "NullIsAbsent",
    "SttLanguage",
    "SttMode",
    "audio_seconds",
    "parse_keyterms",
    "stt_router",
]

MAX_UPLOAD_BYTES = 25 * 1024 * 1024
MAX_AUDIO_SECONDS = 30.0
MAX_KEYTERMS = 50
MAX_KEYTERM_CHARS = 64

SttLanguage = Literal[
    "unknown", "hi-IN", "bn-IN", "kn-IN", "ml-IN", "mr-IN", "od-IN", "pa-IN", "ta-IN", "te-IN",
    "en-IN", "gu-IN", "as-IN", "ur-IN", "ne-IN", "kok-IN", "ks-IN", "sd-IN", "sa-IN", "sat-IN",
    "mni-IN", "brx-IN", "mai-IN", "doi-IN",
]  # fmt: skip
SttMode = Literal["transcribe", "translate", "verbatim", "translit", "codemix"]
# saarika:v2.5 is the previous generation; older helpers still send it (sdk-contract §4.10).
SttModel = Literal["saaras:v3", "saaras:v4", "saarika:v2.5"]
InputAudioCodec = Literal[
    "wav", "x-wav", "wave", "mp3", "mpeg", "mpeg3", "x-mp3", "x-mpeg-3", "aac", "x-aac",
    "aiff", "x-aiff", "ogg", "opus", "flac", "x-flac", "mp4", "x-m4a", "amr", "x-ms-wma",
    "webm", "pcm_s16le", "pcm_l16", "pcm_raw",
]  # fmt: skip


def _null_is_absent(value: object) -> object:
    """A form field sent as the literal "null" is absent: multipart has no null, and the SDK
    spells None that way (it always sends ``keyterms="null"``)."""
    return None if value == "null" else value


NullIsAbsent = BeforeValidator(_null_is_absent)
# The bound sits on the string itself, so an absent ("null") prompt is not measured.
Prompt = Annotated[str, StringConstraints(max_length=4000)]


class Timestamps(BaseModel):
    words: list[str]
    start_time_seconds: list[float]
    end_time_seconds: list[float]


class SpeechToTextResponse(BaseModel):
    request_id: str | None = None
    transcript: str
    timestamps: Timestamps | None = None
    language_code: str | None = None
    language_probability: float | None = None


class SpeechToTextTranslateResponse(BaseModel):
    request_id: str | None = None
    transcript: str
    language_code: str | None = None
    language_probability: float | None = None


class _BoundedUpload(APIRoute):
    """Refuses a declared body over MAX_UPLOAD_BYTES before reading a byte of it (a body
    without Content-Length is cut off by the route's ``max_body_size``)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def bounded(request: Request) -> Response:
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES:
                raise HTTPException(
                    413, f"the upload is {int(declared)} bytes; this endpoint takes at most"
                    f" {MAX_UPLOAD_BYTES >> 20} MiB",
                )  # fmt: skip
            return await handler(request)

        return bounded


stt_router = APIRouter(tags=["speech"], route_class=_BoundedUpload)


def parse_keyterms(raw: str | None, model: str) -> tuple[str, ...]:
    """The ``keyterms`` form field: absent, "null" or "" mean none; otherwise a JSON array of
    strings. Raises HTTPException 400: the form field is a string to the schema, so what is
    wrong inside it (not an array, too many or too long terms, the wrong model) is a request
    that cannot be served as sent, not a field of the wrong type."""
    if raw is None or raw.strip() in ("", "null"):
        return ()
    try:
        terms = json.loads(raw)
    except ValueError:
        terms = None
    if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
        raise HTTPException(400, 'keyterms: must be a JSON array of strings, e.g. ["Sarvam"]')
    if len(terms) > MAX_KEYTERMS:
        raise HTTPException(400, f"keyterms: at most {MAX_KEYTERMS} terms, got {len(terms)}")
    for term in terms:
        if not term.strip() or len(term) > MAX_KEYTERM_CHARS:
            raise HTTPException(
                400, f"keyterms: each term must be 1 to {MAX_KEYTERM_CHARS} characters;"
                f" {term[:80]!r} is not",
            )  # fmt: skip
    if terms and model != "saaras:v4":
        raise HTTPException(400, "keyterms are only supported with model saaras:v4")
    return tuple(terms)


def audio_seconds(audio: DecodedAudio) -> Decimal:
    """The billed quantity: seconds in whole milliseconds, rounded up."""
    exact = Decimal(audio.samples) / Decimal(SAMPLE_RATE)
    return exact.quantize(Decimal("0.001"), rounding=ROUND_CEILING)


async def _recognize(
    request: Request, file: UploadFile, codec: str | None, *, route: str,
    recognition: RecognitionRequest,
) -> tuple[Transcription, Decimal]:  # fmt: skip
    """Decode, charge, recognize, settle: the part both routes share."""
    inference_url: str | None = request.app.state.inference_url
    if inference_url is None:
        raise HTTPException(503, "speech recognition is not configured (BANYAN_INFERENCE_URL)")
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise HTTPException(413, f"the file is over {MAX_UPLOAD_BYTES >> 20} MiB")
    try:
        audio = decode_audio(data, codec=codec, max_seconds=MAX_AUDIO_SECONDS)
    except AudioRejected as exc:
        raise HTTPException(400, str(exc)) from exc
    seconds = audio_seconds(audio)
    charge = await open_charge(request, route=route, unit="audio_seconds", estimate=seconds)
    client: httpx.AsyncClient = request.app.state.inference
    try:
        pieces = fit_to_context(audio.pcm, find_speech(audio.pcm), MODEL_MAX_SECONDS)
        result = await transcribe(client, inference_url, audio.pcm, pieces, recognition)
    except RecognitionFailed as exc:
        await abandon_charge(request, charge)
        raise HTTPException(502, str(exc)) from exc
    except Exception:
        await abandon_charge(request, charge)
        raise
    await close_charge(request, charge, seconds)
    return result, seconds


@stt_router.post(
    "/speech-to-text",
    responses=error_responses(413, 502, 503),
    response_model=SpeechToTextResponse,
    response_model_exclude_none=True,
    max_body_size=MAX_UPLOAD_BYTES + 64 * 1024,  # the file plus the form fields around it
)
async def speech_to_text(
    request: Request,
    file: Annotated[UploadFile, File(description="The audio (wav, mp3, aac, flac, ogg, ...)")],
    model: Annotated[SttModel | None, NullIsAbsent, Form()] = None,
    mode: Annotated[SttMode | None, NullIsAbsent, Form()] = None,
    language_code: Annotated[SttLanguage | None, NullIsAbsent, Form()] = None,
    with_timestamps: Annotated[bool | None, NullIsAbsent, Form()] = None,
    input_audio_codec: Annotated[InputAudioCodec | None, NullIsAbsent, Form()] = None,
    keyterms: Annotated[str | None, Form(description='"null" or a JSON array of strings')] = None,
) -> SpeechToTextResponse:
    chosen_model = model or "saaras:v3"
    terms = parse_keyterms(keyterms, chosen_model)
    language = language_code or "unknown"
    recognition = RecognitionRequest(language, mode or "transcribe", terms)
    result, _ = await _recognize(
        request, file, input_audio_codec, route="speech-to-text", recognition=recognition
    )
    timestamps = None
    if with_timestamps:
        timestamps = Timestamps(
            words=[w.text for w in result.words],
            start_time_seconds=[w.start_s for w in result.words],
            end_time_seconds=[w.end_s for w in result.words],
        )
    return SpeechToTextResponse(
        request_id=request.state.request_id,
        transcript=result.transcript,
        timestamps=timestamps,
        language_code=result.language_code if language == "unknown" else language,
        language_probability=result.language_probability if language == "unknown" else None,
    )


@stt_router.post(
    "/speech-to-text-translate",
    responses=error_responses(413, 502, 503),
    response_model=SpeechToTextTranslateResponse,
    response_model_exclude_none=True,
    max_body_size=MAX_UPLOAD_BYTES + 64 * 1024,
)
async def speech_to_text_translate(
    request: Request,
    file: Annotated[UploadFile, File(description="The audio (wav, mp3, aac, flac, ogg, ...)")],
    prompt: Annotated[Prompt | None, NullIsAbsent, Form()] = None,
    model: Annotated[Literal["saaras:v2.5"] | None, NullIsAbsent, Form()] = None,
    input_audio_codec: Annotated[InputAudioCodec | None, NullIsAbsent, Form()] = None,
) -> SpeechToTextTranslateResponse:
    recognition = RecognitionRequest("unknown", "translate")
    result, _ = await _recognize(
        request, file, input_audio_codec, route="speech-to-text-translate",
        recognition=recognition,
    )  # fmt: skip
    return SpeechToTextTranslateResponse(
        request_id=request.state.request_id,
        transcript=result.transcript,
        language_code=result.language_code,
        language_probability=result.language_probability,
    )

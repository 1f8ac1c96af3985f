"""``POST /translate`` (sdk-contract §1.5, §1.6): text from one language into another.

Two models, each with its limits (checked here, answered with a 400 that says what to fix):

* ``mayura:v1`` (the default) — input ≤ 1000 characters, the core 11 languages and ``auto``,
  every ``mode``, ``output_script``.
* ``sarvam-translate:v1`` — input ≤ 2000 characters, all 23 languages (and ``auto``), formal
  mode only, no ``output_script``.

``source_language_code: auto`` is resolved by the platform's language identifier; the response
then names the detected language. Text longer than the model's context limit is translated in
sentence chunks (``legacy/text/translation.py``). Billed by characters of input.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final, Literal

import httpx
from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from legacy.error_docs import error_responses
from legacy.metering import abandon_charge, close_charge, open_charge
from legacy.text.lid import LanguageIdentifier, LidUnavailable
from legacy.text.output_script import OutputScript, write_in
from legacy.text.scripts import CORE_LANGUAGES, Language
from legacy.text.translation import TranslationFailed, TranslationJob, translate_text
from legacy.text.transliteration import NumeralsFormat

__all__ = ["translate_router"]

TranslateModel = Literal["mayura:v1", "sarvam-translate:v1"]
TranslateMode = Literal["formal", "modern-colloquial", "classic-colloquial", "code-mixed"]
MAX_CHARS: Final[dict[str, int]] = {"mayura:v1": 1000, "sarvam-translate:v1": 2000}


class TranslationRequest(BaseModel):
    model_config = ConfigDict(
        strict=True,  # JSON types as documented: no "1" for a string's place, no 0 for a bool
        json_schema_extra={
            "examples": [
                {"input": "Hello, how are you?", "source_language_code": "auto",
                 "target_language_code": "hi-IN", "model": "mayura:v1"},
            ]
        }
    )  # fmt: skip

    input: str = Field(min_length=1, max_length=2000, description="≤1000 chars for mayura:v1")
    source_language_code: Literal["auto"] | Language
    target_language_code: Language
    speaker_gender: Literal["Male", "Female"] | None = None
    mode: TranslateMode | None = None
    model: TranslateModel | None = None
    output_script: OutputScript | None = None
    numerals_format: NumeralsFormat | None = None


class TranslationResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"request_id": "20f3c0b1d2e04c5f", "translated_text": "नमस्ते, आप कैसे हैं?",
                 "source_language_code": "en-IN"},
            ]
        }
    )  # fmt: skip

    request_id: str | None = None
    translated_text: str
    source_language_code: str


translate_router = APIRouter(tags=["text"])


def model_refusal(body: TranslationRequest, model: TranslateModel) -> str | None:
    """Why ``model`` cannot serve this request, or None. Pure: the 400's message."""
    limit = MAX_CHARS[model]
    if len(body.input) > limit:
        hint = "; use sarvam-translate:v1 (up to 2000) or" if model == "mayura:v1" else ";"
        return (
            f"input is {len(body.input)} characters; {model} takes at most {limit}{hint} split it"
        )
    if model == "mayura:v1":
        for field in ("source_language_code", "target_language_code"):
            code = getattr(body, field)
            if code != "auto" and code not in CORE_LANGUAGES:
                return f"{field} {code} is not supported by mayura:v1; use sarvam-translate:v1"
    elif body.mode not in (None, "formal"):
        return f"sarvam-translate:v1 translates in formal mode only; drop mode {body.mode!r}"
    elif body.output_script is not None:
        return "output_script is supported by mayura:v1 only; drop it or use mayura:v1"
    return None


async def _source(request: Request, body: TranslationRequest, model: TranslateModel) -> str:
    if body.source_language_code != "auto":
        return body.source_language_code
    lid: LanguageIdentifier = request.app.state.lid
    try:
        detected = (await lid.identify(body.input)).language_code
    except LidUnavailable as exc:
        raise HTTPException(exc.status, str(exc)) from exc
    if detected is None:
        raise HTTPException(400, "could not detect the input's language; pass source_language_code")
    if model == "mayura:v1" and detected not in CORE_LANGUAGES:
        raise HTTPException(
            400, f"the input looks like {detected}, which mayura:v1 does not translate; "
            "use sarvam-translate:v1",
        )  # fmt: skip
    return detected


@translate_router.post(
    "/translate", response_model=TranslationResponse, responses=error_responses(502, 503)
)
async def translate(request: Request, body: TranslationRequest) -> TranslationResponse:
    """The input in the target language (and script); ``source_language_code`` in the response
    is the detected language when the request said ``auto``."""
    model: TranslateModel = body.model or "mayura:v1"
    refusal = model_refusal(body, model)
    if refusal:
        raise HTTPException(400, refusal)
    if body.source_language_code == body.target_language_code:
        raise HTTPException(400, "source and target language are the same; nothing to translate")
    inference_url: str | None = request.app.state.inference_url
    if inference_url is None:
        raise HTTPException(503, "translation is not configured (BANYAN_INFERENCE_URL)")
    source = await _source(request, body, model)
    chars = Decimal(len(body.input))
    charge = await open_charge(request, route="translate", unit="characters", estimate=chars)
    job = TranslationJob(
        body.input, source, body.target_language_code, body.mode or "formal",
        body.speaker_gender or "Male",
    )  # fmt: skip
    client: httpx.AsyncClient = request.app.state.inference
    try:
        translated = await translate_text(client, inference_url, job)
    except TranslationFailed as exc:
        await abandon_charge(request, charge)
        raise HTTPException(502, str(exc)) from exc
    text = write_in(
        translated, body.target_language_code, body.output_script,
        body.numerals_format or "international",
    )  # fmt: skip
    await close_charge(request, charge, chars)
    return TranslationResponse(
        request_id=request.state.request_id, translated_text=text, source_language_code=source
    )

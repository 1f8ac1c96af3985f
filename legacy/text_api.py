"""Public text routes: ``POST /text-lid`` and ``POST /transliterate`` (sdk-contract §1.5, §1.6).

Both bill by characters of input through the commercial layer (authorize before the work,
settle after). Request fields the SDK sends as ``null`` are treated as absent.

``spoken_form`` writes numbers as words after transliterating (``legacy/text/number_words.py``):
English number words in the target script (``spoken_form_numerals_language`` ``english``, the
default) or the target language's own (``native``: Hindi and Bengali; others get a 400 naming
them). It has no effect for an en-IN target, as the contract says.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from legacy.error_docs import error_responses
from legacy.metering import abandon_charge, close_charge, open_charge
from legacy.text.lid import LanguageIdentifier, LidUnavailable
from legacy.text.number_words import NumberWordsUnavailable, NumeralsLanguage, spoken_numbers
from legacy.text.output_script import native_digits
from legacy.text.scripts import CoreLanguage
from legacy.text.transliteration import NumeralsFormat, TransliterationError, transliterate

__all__ = ["text_router"]

MAX_INPUT_CHARS = 1000


class LanguageIdentificationRequest(BaseModel):
    model_config = ConfigDict(strict=True)  # JSON types as documented: no "1" for a bool

    input: str = Field(min_length=1, max_length=MAX_INPUT_CHARS)


class LanguageIdentificationResponse(BaseModel):
    request_id: str | None = None
    language_code: str | None = None
    script_code: str | None = None


class TransliterationRequest(BaseModel):
    model_config = ConfigDict(strict=True)

    input: str = Field(min_length=1, max_length=MAX_INPUT_CHARS)
    source_language_code: Literal["auto"] | CoreLanguage
    target_language_code: CoreLanguage
    numerals_format: NumeralsFormat | None = None
    spoken_form: bool | None = None
    spoken_form_numerals_language: NumeralsLanguage | None = None


class TransliterationResponse(BaseModel):
    request_id: str | None = None
    transliterated_text: str
    source_language_code: str


text_router = APIRouter(tags=["text"])


@text_router.post(
    "/text-lid",
    response_model=LanguageIdentificationResponse,
    responses=error_responses(502, 503),
)
async def identify_language(
    request: Request, body: LanguageIdentificationRequest
) -> LanguageIdentificationResponse:
    """The input's language (BCP-47, e.g. hi-IN) and script (ISO 15924, e.g. Deva)."""
    chars = Decimal(len(body.input))
    charge = await open_charge(request, route="text-lid", unit="characters", estimate=chars)
    lid: LanguageIdentifier = request.app.state.lid
    try:
        found = await lid.identify(body.input)
    except LidUnavailable as exc:
        await abandon_charge(request, charge)
        raise HTTPException(exc.status, str(exc)) from exc
    await close_charge(request, charge, chars)
    return LanguageIdentificationResponse(
        request_id=request.state.request_id,
        language_code=found.language_code,
        script_code=found.script_code,
    )


@text_router.post(
    "/transliterate", response_model=TransliterationResponse, responses=error_responses()
)
async def transliterate_text(
    request: Request, body: TransliterationRequest
) -> TransliterationResponse:
    """The input written in the target language's script."""
    if body.source_language_code == body.target_language_code:
        raise HTTPException(
            400, "source and target language are the same; nothing to transliterate"
        )
    chars = Decimal(len(body.input))
    charge = await open_charge(request, route="transliterate", unit="characters", estimate=chars)
    target = body.target_language_code
    try:
        text, source = transliterate(body.input, body.source_language_code, target)
        if body.spoken_form and target != "en-IN":
            text = spoken_numbers(text, target, body.spoken_form_numerals_language or "english")
    except (TransliterationError, NumberWordsUnavailable) as exc:
        await abandon_charge(request, charge)
        raise HTTPException(400, str(exc)) from exc
    if body.numerals_format == "native":
        text = native_digits(text, target)
    await close_charge(request, charge, chars)
    return TransliterationResponse(
        request_id=request.state.request_id, transliterated_text=text, source_language_code=source
    )

"""Public text routes: ``POST /text-lid`` and ``POST /transliterate`` (sdk-contract §1.5, §1.6).

Both bill by characters of input through the commercial layer (authorize before the work,
settle after). Request fields the SDK sends as ``null`` are treated as absent.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from legacy.metering import abandon_charge, close_charge, open_charge
from legacy.text.lid import LanguageIdentifier
from legacy.text.scripts import CoreLanguage
from legacy.text.transliteration import NumeralsFormat, TransliterationError, transliterate

__all__ = ["text_router"]

MAX_INPUT_CHARS = 1000


class LanguageIdentificationRequest(BaseModel):
    input: str = Field(min_length=1, max_length=MAX_INPUT_CHARS)


class LanguageIdentificationResponse(BaseModel):
    request_id: str | None = None
    language_code: str | None = None
    script_code: str | None = None


class TransliterationRequest(BaseModel):
    input: str = Field(min_length=1, max_length=MAX_INPUT_CHARS)
    source_language_code: Literal["auto"] | CoreLanguage
    target_language_code: CoreLanguage
    numerals_format: NumeralsFormat | None = None
    spoken_form: bool | None = None
    spoken_form_numerals_language: Literal["english", "native"] | None = None


class TransliterationResponse(BaseModel):
    request_id: str | None = None
    transliterated_text: str
    source_language_code: str


text_router = APIRouter(tags=["text"])


@text_router.post("/text-lid", response_model=LanguageIdentificationResponse)
async def identify_language(
    request: Request, body: LanguageIdentificationRequest
) -> LanguageIdentificationResponse:
    """The input's language (BCP-47, e.g. hi-IN) and script (ISO 15924, e.g. Deva)."""
    chars = Decimal(len(body.input))
    charge = await open_charge(request, route="text-lid", unit="characters", estimate=chars)
    lid: LanguageIdentifier = request.app.state.lid
    found = lid.identify(body.input)
    await close_charge(request, charge, chars)
    return LanguageIdentificationResponse(
        request_id=request.state.request_id,
        language_code=found.language_code,
        script_code=found.script_code,
    )


@text_router.post("/transliterate", response_model=TransliterationResponse)
async def transliterate_text(
    request: Request, body: TransliterationRequest
) -> TransliterationResponse:
    """The input written in the target language's script."""
    if body.spoken_form:
        raise HTTPException(400, "spoken_form is not supported by this platform yet; omit it")
    if body.source_language_code == body.target_language_code:
        raise HTTPException(
            400, "source and target language are the same; nothing to transliterate"
        )
    chars = Decimal(len(body.input))
    charge = await open_charge(request, route="transliterate", unit="characters", estimate=chars)
    try:
        text, source = transliterate(
            body.input, body.source_language_code, body.target_language_code,
            body.numerals_format or "international",
        )  # fmt: skip
    except TransliterationError as exc:
        await abandon_charge(request, charge)
        raise HTTPException(400, str(exc)) from exc
    await close_charge(request, charge, chars)
    return TransliterationResponse(
        request_id=request.state.request_id, transliterated_text=text, source_language_code=source
    )

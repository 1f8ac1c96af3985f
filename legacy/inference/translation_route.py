"""``POST /v1/translate`` on the inference server: the translation model over HTTP.

    POST /v1/translate {"text", "source_language_code", "target_language_code",
                        ["mode"], ["speaker_gender"]}
         -> 200 {"translated_text", "characters"} | 413 over the context limit | 422

The source must be a concrete language (callers detect ``auto`` first); the 23 languages of
the platform are accepted. Like a real model it has a context limit in characters, so callers
split longer text, and a latency profile seeded by the call's input.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from legacy.inference.profiles import LatencyProfile
from legacy.inference.translation import Gender, Mode, TranslationRequest, translate
from legacy.text.scripts import Language

__all__ = ["TranslationConfig", "translation_router"]


@dataclass(frozen=True, slots=True)
class TranslationConfig:
    # Characters one call may carry: less than the public limits (1000/2000), so legacy chunks.
    max_chars: int = 500
    latency: LatencyProfile = field(
        default_factory=lambda: LatencyProfile(fixed_ms=15.0, per_unit_ms=0.05, jitter_ms=10.0)
    )


class TranslateCall(BaseModel):
    text: str = Field(min_length=1)
    source_language_code: Language
    target_language_code: Language
    mode: Mode = "formal"
    speaker_gender: Gender = "Male"


class TranslateResult(BaseModel):
    translated_text: str
    characters: int  # of input, what the call is billed on downstream


def translation_router(config: TranslationConfig) -> APIRouter:
    router = APIRouter()

    @router.post("/v1/translate", response_model=TranslateResult)
    async def translate_text(body: TranslateCall) -> TranslateResult | JSONResponse:
        if len(body.text) > config.max_chars:
            message = (
                f"text is {len(body.text)} characters; this model takes at most "
                f"{config.max_chars} per call: split it"
            )
            return JSONResponse({"error": {"message": message, "code": "model_call_error"}}, 413)
        started = asyncio.get_running_loop().time()
        request = TranslationRequest(
            body.text, body.source_language_code, body.target_language_code,
            body.mode, body.speaker_gender,
        )  # fmt: skip
        translated = translate(request)
        seed = "|".join((body.source_language_code, body.target_language_code, body.mode,
                         body.speaker_gender, body.text)).encode()  # fmt: skip
        elapsed = asyncio.get_running_loop().time() - started
        remaining = config.latency.delay_s(len(body.text), seed) - elapsed
        if remaining > 0:
            await asyncio.sleep(remaining)
        return TranslateResult(translated_text=translated, characters=len(body.text))

    return router

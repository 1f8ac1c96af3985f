"""``POST /v1/lid`` on the inference server: the language-identification model over HTTP.

    POST /v1/lid {"text", ["candidates"]}
         -> 200 {"language_code": "mr-IN" | null} | 413 over the context limit | 422

Most Indian languages own a script, so the platform names them by script alone (its own code,
in both implementations). Where a script is shared — Devanagari by Hindi and Marathi — only a
statistical model can choose, and that model lives here, beside the others: the lingua n-gram
detector, real and deterministic. Both implementations ask it the same question, so a
difference between them is platform code, never two models disagreeing (rfcs/0006 §1).

``candidates`` are the languages to choose between (default Hindi and Marathi); the answer is
null when the model cannot tell them apart (lingua's own "unknown").
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from lingua import Language, LanguageDetector, LanguageDetectorBuilder
from pydantic import BaseModel, Field

from legacy.inference.profiles import LatencyProfile

__all__ = ["LidConfig", "detect", "lid_router"]

Candidate = Literal["hi-IN", "mr-IN", "bn-IN", "gu-IN", "pa-IN", "ta-IN", "te-IN", "en-IN", "ur-IN"]
_LINGUA: dict[str, Language] = {
    "hi-IN": Language.HINDI, "mr-IN": Language.MARATHI, "bn-IN": Language.BENGALI,
    "gu-IN": Language.GUJARATI, "pa-IN": Language.PUNJABI, "ta-IN": Language.TAMIL,
    "te-IN": Language.TELUGU, "en-IN": Language.ENGLISH, "ur-IN": Language.URDU,
}  # fmt: skip
_CODES = {language: code for code, language in _LINGUA.items()}
_DEFAULT: tuple[Candidate, ...] = ("hi-IN", "mr-IN")


@dataclass(frozen=True, slots=True)
class LidConfig:
    # Characters one call may carry: more than any public route takes (/text-lid: 1000).
    max_chars: int = 10_000
    latency: LatencyProfile = field(
        default_factory=lambda: LatencyProfile(fixed_ms=0.3, per_unit_ms=0.002, jitter_ms=0.2)
    )


class LidCall(BaseModel):
    text: str = Field(min_length=1)
    candidates: list[Candidate] = Field(default_factory=lambda: list(_DEFAULT), min_length=2)


class LidResult(BaseModel):
    language_code: str | None


@cache
def _detector(candidates: frozenset[str]) -> LanguageDetector:
    """One per candidate set, built once (lingua shares the loaded models between them)."""
    languages = (_LINGUA[c] for c in candidates)
    return (
        LanguageDetectorBuilder.from_languages(*languages).with_preloaded_language_models().build()
    )


def detect(text: str, candidates: list[str]) -> str | None:
    """The model's answer: one of ``candidates``, or None when it cannot tell."""
    detected = _detector(frozenset(candidates)).detect_language_of(text)
    return _CODES[detected] if detected is not None else None


def lid_router(config: LidConfig) -> APIRouter:
    router = APIRouter()
    _detector(frozenset(_DEFAULT))  # loaded now (~25 ms), not on a customer's first request

    @router.post("/v1/lid", response_model=LidResult)
    async def identify(body: LidCall) -> LidResult | JSONResponse:
        if len(body.text) > config.max_chars:
            message = (
                f"text is {len(body.text)} characters; this model takes at most "
                f"{config.max_chars} per call: send less"
            )
            return JSONResponse({"error": {"message": message, "code": "model_call_error"}}, 413)
        started = asyncio.get_running_loop().time()
        found = detect(body.text, list(body.candidates))
        seed = ("|".join(sorted(body.candidates)) + "|" + body.text).encode()
        elapsed = asyncio.get_running_loop().time() - started
        remaining = config.latency.delay_s(len(body.text), seed) - elapsed
        if remaining > 0:
            await asyncio.sleep(remaining)
        return LidResult(language_code=found)

    return router

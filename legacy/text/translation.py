"""Translation through the inference server's model, chunked to its context limit.

The model (``legacy/inference/translation.py``) takes at most ``max_chars`` per call, so longer
text is split at sentence boundaries (words if a sentence alone is too long) by the TTS
chunker, the chunks are translated with at most ``concurrency`` calls in flight, and the
translations are joined in order with a space. Text within the limit goes in one call as it is,
line breaks included.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

from legacy.speech.chunking import split_text

__all__ = ["TranslationFailed", "TranslationJob", "translate_text"]


class TranslationFailed(RuntimeError):
    """The inference server did not translate a chunk (a 502 for the caller)."""


@dataclass(frozen=True, slots=True)
class TranslationJob:
    text: str
    source_language_code: str  # concrete: "auto" is resolved before
    target_language_code: str
    mode: str = "formal"
    speaker_gender: str = "Male"


async def translate_text(
    client: httpx.AsyncClient, inference_url: str, job: TranslationJob, *,
    max_chars: int = 500, concurrency: int = 4,
) -> str:  # fmt: skip
    chunks = [job.text] if len(job.text) <= max_chars else split_text(job.text, max_chars)
    gate = asyncio.Semaphore(concurrency)

    async def one(chunk: str) -> str:
        payload = {
            "text": chunk, "source_language_code": job.source_language_code,
            "target_language_code": job.target_language_code, "mode": job.mode,
            "speaker_gender": job.speaker_gender,
        }  # fmt: skip
        async with gate:
            try:
                response = await client.post(f"{inference_url}/v1/translate", json=payload)
            except httpx.HTTPError as exc:
                raise TranslationFailed(f"the translation model is unreachable: {exc}") from exc
        if response.status_code != 200:
            raise TranslationFailed(
                f"the translation model refused a chunk ({response.status_code})"
            )
        return str(response.json()["translated_text"])

    return " ".join(await asyncio.gather(*(one(chunk) for chunk in chunks)))

"""Text-to-speech: chunk to the model's context limit, synthesize concurrently, stitch.

The model (eSpeak NG on the inference server) takes at most ``max_chars`` per call, so text is
split at sentence and word boundaries (``chunking.py``), the chunks are synthesized with at
most ``concurrency`` calls in flight, and the pieces are joined in order with a short pause
between them, as a reader pauses between sentences. Pace and pitch map onto the engine's rate
and pitch.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

from legacy.speech.chunking import split_text

__all__ = ["VOICE_OF_LANGUAGE", "InferenceFailed", "SpeechRequest", "synthesize"]

VOICE_OF_LANGUAGE: dict[str, str] = {
    "bn-IN": "bn", "en-IN": "en", "gu-IN": "gu", "hi-IN": "hi", "kn-IN": "kn", "ml-IN": "ml",
    "mr-IN": "mr", "od-IN": "or", "pa-IN": "pa", "ta-IN": "ta", "te-IN": "te",
}  # fmt: skip
_BASE_RATE_WPM = 175
_PAUSE_S = 0.12


class InferenceFailed(RuntimeError):
    """The inference server did not synthesize a chunk (a 502 for the caller)."""


@dataclass(frozen=True, slots=True)
class SpeechRequest:
    text: str
    language_code: str
    pace: float = 1.0  # 1.0 = the engine's normal rate
    pitch: float = 0.0  # -0.75 .. 0.75, 0 = the voice's own

    @property
    def rate_wpm(self) -> int:
        return max(80, min(450, round(_BASE_RATE_WPM * self.pace)))

    @property
    def engine_pitch(self) -> int:
        return max(0, min(100, round(50 + self.pitch / 0.75 * 50)))


async def synthesize(
    client: httpx.AsyncClient, inference_url: str, request: SpeechRequest, *,
    max_chars: int = 500, concurrency: int = 4,
) -> tuple[bytes, int]:  # fmt: skip
    """PCM (16-bit mono) of the whole text and its sample rate."""
    chunks = split_text(request.text, max_chars)
    gate = asyncio.Semaphore(concurrency)
    voice = VOICE_OF_LANGUAGE[request.language_code]

    async def one(chunk: str) -> tuple[bytes, int]:
        async with gate:
            try:
                response = await client.post(
                    f"{inference_url}/v1/tts",
                    json={"text": chunk, "voice": voice, "rate_wpm": request.rate_wpm,
                          "pitch": request.engine_pitch},
                )  # fmt: skip
            except httpx.HTTPError as exc:
                raise InferenceFailed(f"the speech model is unreachable: {exc}") from exc
        if response.status_code != 200:
            raise InferenceFailed(f"the speech model refused a chunk ({response.status_code})")
        return response.content, int(response.headers["x-sample-rate"])

    parts = await asyncio.gather(*(one(chunk) for chunk in chunks))
    rate = parts[0][1]
    pause = b"\x00\x00" * int(rate * _PAUSE_S)
    return pause.join(pcm for pcm, _ in parts), rate

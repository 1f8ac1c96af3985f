"""Text-to-speech: chunk to the model's context limit, synthesize concurrently, in order.

The model (eSpeak NG on the inference server) takes at most ``max_chars`` per call, so text is
split at sentence and word boundaries (``chunking.py``) and the chunks are synthesized with at
most ``concurrency`` calls in flight. :func:`speak_chunks` hands them over in text order as
soon as each is ready, for the streaming routes; :func:`synthesize` joins them with a short
pause between chunks, as a reader pauses between sentences. The speaker sets the engine's base
pitch and tempo (``voices.py``); pace multiplies the rate and pitch shifts the base pitch.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator, Iterator
from dataclasses import dataclass

import httpx

from legacy.speech.chunking import split_text
from legacy.speech.voices import SpeakerVoice, voice_of

__all__ = [
    "VOICE_OF_LANGUAGE",
    "InferenceFailed",
    "SpeechRequest",
    "SpokenChunk",
    "pause_pcm",
    "speak_chunks",
    "synthesize",
]

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
    speaker: str | None = None  # None: the voice at its own pitch and rate

    @property
    def _voice(self) -> SpeakerVoice:
        return voice_of(self.speaker) if self.speaker else SpeakerVoice(50, 1.0)

    @property
    def rate_wpm(self) -> int:
        return max(80, min(450, round(_BASE_RATE_WPM * self._voice.tempo * self.pace)))

    @property
    def engine_pitch(self) -> int:
        """The speaker's pitch, shifted by up to 25 either way by ``pitch``."""
        return max(0, min(100, round(self._voice.pitch + self.pitch / 0.75 * 25)))

    @property
    def voice(self) -> str:
        return VOICE_OF_LANGUAGE[self.language_code]


@dataclass(frozen=True, slots=True)
class SpokenChunk:
    text: str  # the chunk of the request's text this audio says
    pcm: bytes  # signed 16-bit little-endian mono
    sample_rate: int


def pause_pcm(sample_rate: int) -> bytes:
    """The silence put between two chunks."""
    return b"\x00\x00" * int(sample_rate * _PAUSE_S)


async def speak_chunks(
    client: httpx.AsyncClient, inference_url: str, request: SpeechRequest, *,
    max_chars: int = 500, concurrency: int = 4,
) -> AsyncGenerator[SpokenChunk, None]:  # fmt: skip
    """The text's chunks as speech, in order. At most ``concurrency`` chunks are in flight or
    ready and waiting for the consumer, so a slow consumer holds back synthesis instead of
    letting audio pile up. Closing the iterator early cancels the calls in flight.
    Raises InferenceFailed when a chunk cannot be synthesized."""
    upcoming: Iterator[str] = iter(split_text(request.text, max_chars))
    window: deque[asyncio.Task[SpokenChunk]] = deque()

    def top_up() -> None:
        while len(window) < concurrency and (chunk := next(upcoming, None)) is not None:
            window.append(asyncio.create_task(_speak(client, inference_url, request, chunk)))

    try:
        top_up()
        while window:
            spoken = await window[0]
            window.popleft()
            top_up()
            yield spoken
    finally:
        for task in window:
            task.cancel()
        await asyncio.gather(*window, return_exceptions=True)


async def synthesize(
    client: httpx.AsyncClient, inference_url: str, request: SpeechRequest, *,
    max_chars: int = 500, concurrency: int = 4,
) -> tuple[bytes, int]:  # fmt: skip
    """PCM (16-bit mono) of the whole text and its sample rate; the text must have words."""
    chunks = speak_chunks(
        client, inference_url, request, max_chars=max_chars, concurrency=concurrency
    )
    parts = [spoken async for spoken in chunks]
    if not parts:
        raise ValueError("the text has nothing to speak")
    rate = parts[0].sample_rate
    return pause_pcm(rate).join(spoken.pcm for spoken in parts), rate


async def _speak(
    client: httpx.AsyncClient, inference_url: str, request: SpeechRequest, chunk: str
) -> SpokenChunk:
    try:
        response = await client.post(
            f"{inference_url}/v1/tts",
            json={"text": chunk, "voice": request.voice, "rate_wpm": request.rate_wpm,
                  "pitch": request.engine_pitch},
        )  # fmt: skip
    except httpx.HTTPError as exc:
        raise InferenceFailed(f"the speech model is unreachable: {exc}") from exc
    if response.status_code != 200:
        raise InferenceFailed(f"the speech model refused a chunk ({response.status_code})")
    return SpokenChunk(chunk, response.content, int(response.headers["x-sample-rate"]))

"""Speech-to-text: recognize the VAD segments of a recording on the inference server, and merge.

The recognition model takes at most ``max_seconds`` of audio per call (its context), so each
speech segment is one call, and a segment longer than that is cut at its quietest 30 ms
between half and all of the limit (``fit_to_context``). Silence between segments is never
sent. Calls run concurrently (at most ``concurrency`` in flight); when the language is
``unknown``, the first piece that has speech is recognized alone first and the language it
detects is used for the rest, so one transcript is in one language.

Words come back relative to their piece and are moved to absolute time; the transcript is
the pieces' transcripts joined by spaces, in order. Deliberately not here: decoding
(``decode.py``), segmentation (``vad.py``), billing (the routes).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
import numpy as np

from legacy.speech.vad import FRAME_BYTES, FRAME_S, Segment

__all__ = [
    "MODEL_MAX_SECONDS",
    "RecognitionFailed",
    "RecognitionRequest",
    "TranscribedWord",
    "Transcription",
    "fit_to_context",
    "transcribe",
]

_RATE = 16_000
MODEL_MAX_SECONDS = 20.0  # the inference server's default context (InferenceConfig)


class RecognitionFailed(RuntimeError):
    """The inference server did not recognize a piece (a 502 for the caller)."""


@dataclass(frozen=True, slots=True)
class RecognitionRequest:
    language: str  # a language code, or "unknown" to detect it
    mode: str = "transcribe"
    keyterms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TranscribedWord:
    text: str
    start_s: float  # from the start of the recording
    end_s: float


@dataclass(frozen=True, slots=True)
class Transcription:
    transcript: str
    language_code: str | None
    language_probability: float | None
    words: tuple[TranscribedWord, ...]


def fit_to_context(pcm: bytes, segments: Sequence[Segment], max_seconds: float) -> list[Segment]:
    """``segments``, with each one longer than ``max_seconds`` cut into pieces that fit."""
    pieces: list[Segment] = []
    for segment in segments:
        start = segment.start_s
        while segment.end_s - start > max_seconds:
            cut = _quietest_frame(pcm, start + max_seconds / 2, start + max_seconds)
            pieces.append(Segment(round(start, 3), round(cut, 3)))
            start = cut
        pieces.append(Segment(round(start, 3), segment.end_s))
    return pieces


def _quietest_frame(pcm: bytes, from_s: float, to_s: float) -> float:
    """The start of the quietest 30 ms frame in [from_s, to_s - 30 ms]; the later on a tie."""
    first = int(from_s / FRAME_S)
    last = int(to_s / FRAME_S) - 1
    best, best_energy = last, float("inf")
    for index in range(first, last + 1):
        frame = np.frombuffer(pcm[index * FRAME_BYTES : (index + 1) * FRAME_BYTES], dtype="<i2")
        energy = float(np.mean(frame.astype(np.float64) ** 2)) if len(frame) else 0.0
        if energy <= best_energy:
            best, best_energy = index, energy
    return best * FRAME_S


async def transcribe(
    client: httpx.AsyncClient, inference_url: str, pcm: bytes, pieces: Sequence[Segment],
    request: RecognitionRequest, *, concurrency: int = 4,
) -> Transcription:  # fmt: skip
    """Recognize each piece of ``pcm`` (16 kHz mono s16le) and merge; raises
    RecognitionFailed."""
    gate = asyncio.Semaphore(concurrency)

    async def one(piece: Segment, language: str) -> dict[str, object]:
        audio = pcm[int(piece.start_s * _RATE) * 2 : int(piece.end_s * _RATE) * 2]
        params: list[tuple[str, str | int | float | bool | None]] = [
            ("language", language),
            ("mode", request.mode),
        ]
        params += [("keyterm", term) for term in request.keyterms]
        async with gate:
            try:
                response = await client.post(
                    f"{inference_url}/v1/asr", params=params, content=audio,
                    headers={"content-type": "audio/L16; rate=16000"},
                )  # fmt: skip
            except httpx.HTTPError as exc:
                raise RecognitionFailed(f"the recognition model is unreachable: {exc}") from exc
        if response.status_code != 200:
            raise RecognitionFailed(
                f"the recognition model refused a piece ({response.status_code})"
            )
        result: dict[str, object] = response.json()
        return result

    language, probability = request.language, None
    results: dict[int, dict[str, object]] = {}
    index = 0
    if language == "unknown":
        # Detect on the first piece with speech, then hold the rest to that language.
        while index < len(pieces) and language == "unknown":
            result = await one(pieces[index], "unknown")
            results[index] = result
            index += 1
            if isinstance(result.get("language_code"), str):
                language = str(result["language_code"])
                probability = _as_float(result.get("language_probability"))
    rest = await asyncio.gather(*(one(piece, language) for piece in pieces[index:]))
    results.update(zip(range(index, len(pieces)), rest, strict=True))
    return _merge(pieces, [results[i] for i in range(len(pieces))], language, probability)


def _merge(
    pieces: Sequence[Segment], results: Sequence[dict[str, object]], language: str,
    probability: float | None,
) -> Transcription:  # fmt: skip
    texts: list[str] = []
    words: list[TranscribedWord] = []
    for piece, result in zip(pieces, results, strict=True):
        text = str(result.get("transcript") or "")
        if text:
            texts.append(text)
        raw_words = result.get("words")
        for word in raw_words if isinstance(raw_words, list) else []:
            words.append(
                TranscribedWord(
                    str(word["text"]),
                    round(piece.start_s + float(word["start_s"]), 2),
                    round(piece.start_s + float(word["end_s"]), 2),
                )
            )
    detected = None if language == "unknown" else language
    return Transcription(" ".join(texts), detected, probability, tuple(words))


def _as_float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None

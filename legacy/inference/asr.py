"""Speech recognition on the inference server: a documented, deterministic simulator.

No pip-installable recognizer understands eSpeak's synthetic speech (PocketSphinx installs but
mis-hears it badly), so this model *simulates* recognition from the audio's energy, the way a
real recognizer's output looks: words where there is speech, none in silence, in the language's
script, about as many as the speech could hold. Exactly how a transcript is derived, for
16 kHz mono PCM:

1. **Frames.** The audio is cut into 10 ms frames; each frame's energy is
   ``10·log10(mean(sample²) + 1)`` dB.
2. **Voiced frames** are those within 25 dB of the loud end of the recording (its 95th
   percentile energy) and above 40 dB absolute (an RMS of 100, well above digital silence and
   codec noise). No voiced frame → an empty transcript.
3. **Word count** is ``round(3 * voiced seconds)``, at least 1 (people speak 2 to 3 words/s;
   eSpeak's default 175 wpm is 2.9).
4. **Word boundaries** are the quietest points of the speech: the energy curve is smoothed over
   50 ms, and the ``count - 1`` lowest points of each phrase (a stretch of speech without a
   250 ms pause; words are counted per phrase) are taken, lowest first, each leaving at least
   100 ms of voiced frames to the phrase's edges and to the other cuts (pauses between words
   are the lowest points; within a word, the consonants). Each word is then trimmed to
   its first and last voiced frame, so **a word's timestamps always lie on speech**, never in
   silence. (Fewer candidate points → fewer words.)
5. **Which word**: a 64-bit BLAKE2b digest of the word's energy contour (frame energies in 4 dB
   steps) chooses, from the lexicon (``asr_lexicon.py``), a word with about as many syllables as
   the word lasted (one per 220 ms, 1 to 3). Identical audio → identical words.
6. **Language**: the requested one; for ``unknown``, the digest of the whole call's energy
   contour chooses one of the 11 core languages, and ``language_probability`` is
   0.70 to 0.99 from the same digest (a deterministic stand-in for detection).
7. **Mode**: ``transcribe`` writes the language's words in its script, ending the utterance
   with its full stop (the danda, the Arabic full stop or ``.``); ``verbatim`` the same words
   without punctuation; ``translit`` the same words romanised; ``translate`` English words (the
   utterance in English); ``codemix`` native words with about 3 in 10 English ones, as Indians
   mix them.
8. **Keyterms** bias recognition: each term replaces the not yet replaced word whose duration
   best matches the term's length (75 ms per letter), if within a factor of two.

The transcript is the words joined by single spaces, and ``words`` lists exactly those tokens
with their start and end seconds. The model takes at most ``max_seconds`` of audio per call
(413 over it; legacy chunks by VAD segments) and answers after its ``LatencyProfile`` (per
audio second), seeded by the call's bytes.

    POST /v1/asr?language=hi-IN|unknown&mode=transcribe&keyterm=...   (body: audio/L16, 16 kHz)
      -> 200 {"transcript", "language_code", "language_probability", "words": [{"text",
              "start_s", "end_s"}], "duration_s"} | 400 bad parameters or audio | 413 too long
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Final, Literal, cast, get_args

import numpy as np
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from legacy.inference.asr_lexicon import ASR_LANGUAGES, Lexicon, WordList
from legacy.inference.profiles import LatencyProfile
from legacy.text.scripts import CORE_LANGUAGES

__all__ = [
    "AsrMode",
    "AsrResponse",
    "Recognition",
    "RecognizedWord",
    "Recognizer",
    "asr_router",
]

AsrMode = Literal["transcribe", "translate", "verbatim", "translit", "codemix"]
_MODES: Final = frozenset(get_args(AsrMode))
_RATE: Final = 16_000
_HOP: Final = 160  # 10 ms
_HOP_S: Final = 0.01
_VOICED_BELOW_PEAK_DB: Final = 25.0
_VOICED_FLOOR_DB: Final = 40.0
_WORDS_PER_VOICED_S: Final = 3.0
_SMOOTH_FRAMES: Final = 5
_MIN_WORD_FRAMES: Final = 10  # voiced frames a word has at least
_PHRASE_GAP_FRAMES: Final = 25  # a pause of 250 ms or more separates phrases
_SYLLABLE_S: Final = 0.22
_KEYTERM_S_PER_LETTER: Final = 0.075
_CODEMIX_ENGLISH_IN_10: Final = 3
_DANDA_LANGUAGES: Final = frozenset(
    {"hi-IN", "mr-IN", "ne-IN", "sa-IN", "kok-IN", "mai-IN", "doi-IN", "brx-IN", "bn-IN",
     "as-IN", "mni-IN", "pa-IN", "od-IN"}
)  # fmt: skip
_ARABIC_SCRIPT_LANGUAGES: Final = frozenset({"ur-IN", "ks-IN", "sd-IN"})


@dataclass(frozen=True, slots=True)
class RecognizedWord:
    text: str
    start_s: float
    end_s: float


@dataclass(frozen=True, slots=True)
class Recognition:
    transcript: str
    language_code: str | None  # None when nothing was said and the language was unknown
    language_probability: float | None  # only when the language was detected
    words: tuple[RecognizedWord, ...]
    duration_s: float


@dataclass(frozen=True, slots=True)
class _Region:
    start: int  # first voiced frame
    end: int  # one past the last voiced frame
    contour: bytes  # the frames' energies in 4 dB steps

    @property
    def duration_s(self) -> float:
        return (self.end - self.start) * _HOP_S

    @property
    def choice(self) -> int:
        return int.from_bytes(hashlib.blake2b(self.contour, digest_size=8).digest(), "big")


class Recognizer:
    """The simulated model; pure and thread-safe (the lexicon is read-only)."""

    def __init__(self, lexicon: Lexicon | None = None) -> None:
        self._lexicon = lexicon or Lexicon.build()

    def recognize(
        self, pcm: bytes, *, language: str, mode: AsrMode, keyterms: Sequence[str] = ()
    ) -> Recognition:
        samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2")
        duration = len(samples) / _RATE
        energy = _frame_energy(samples)
        regions = _word_regions(energy)
        probability: float | None = None
        if language == "unknown":
            if not regions:
                return Recognition("", None, None, (), duration)
            language, probability = _detect(energy)
        tokens = [self._word(region, language, mode) for region in regions]
        _apply_keyterms(tokens, regions, keyterms)
        if tokens and mode != "verbatim":
            tokens = _punctuate(tokens, language, mode)
        words = tuple(
            RecognizedWord(text, round(r.start * _HOP_S, 2), round(r.end * _HOP_S, 2))
            for text, r in zip(tokens, regions, strict=True)
        )
        return Recognition(" ".join(tokens), language, probability, words, duration)

    def _word(self, region: _Region, language: str, mode: AsrMode) -> str:
        choice = region.choice
        syllable_count = max(1, min(3, round(region.duration_s / _SYLLABLE_S)))
        english = self._lexicon.words["en-IN"]
        native: WordList = self._lexicon.words[language]
        if mode == "translate" or (
            mode == "codemix" and (choice >> 32) % 10 < _CODEMIX_ENGLISH_IN_10
        ):
            return english.pick(syllable_count, choice)[0]
        written, roman = native.pick(syllable_count, choice)
        return roman if mode == "translit" else written


def _frame_energy(samples: np.ndarray) -> np.ndarray:
    frames = len(samples) // _HOP
    if frames == 0:
        return np.zeros(0)
    blocks = samples[: frames * _HOP].astype(np.float64).reshape(frames, _HOP)
    return np.asarray(10 * np.log10(np.mean(blocks**2, axis=1) + 1.0))


def _word_regions(energy: np.ndarray) -> list[_Region]:
    if len(energy) == 0:
        return []
    threshold = max(float(np.percentile(energy, 95)) - _VOICED_BELOW_PEAK_DB, _VOICED_FLOOR_DB)
    is_voiced = energy >= threshold
    smoothed = np.convolve(energy, np.ones(_SMOOTH_FRAMES) / _SMOOTH_FRAMES, mode="same")
    quantized = np.clip(np.round(energy / 4), 0, 255).astype(np.uint8)
    voiced_before = np.concatenate(([0], np.cumsum(is_voiced)))  # voiced frames before index i
    regions = []
    for first, last in _phrases(is_voiced):
        voiced_s = int(is_voiced[first : last + 1].sum()) * _HOP_S
        count = max(1, round(voiced_s * _WORDS_PER_VOICED_S))
        cuts = _quietest_points(smoothed, voiced_before, first, last, count - 1)
        edges = [first, *cuts, last + 1]
        for a, b in itertools.pairwise(edges):
            inside = np.flatnonzero(is_voiced[a:b])
            if len(inside):
                start, end = a + int(inside[0]), a + int(inside[-1]) + 1
                regions.append(_Region(start, end, quantized[start:end].tobytes()))
    return regions


def _phrases(is_voiced: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) voiced frame of each stretch of speech; pauses shorter than
    ``_PHRASE_GAP_FRAMES`` do not end a stretch."""
    phrases: list[tuple[int, int]] = []
    for index in np.flatnonzero(is_voiced).tolist():
        if phrases and index - phrases[-1][1] <= _PHRASE_GAP_FRAMES:
            phrases[-1] = (phrases[-1][0], index)
        else:
            phrases.append((index, index))
    return phrases


def _quietest_points(
    smoothed: np.ndarray, voiced_before: np.ndarray, first: int, last: int, wanted: int
) -> list[int]:
    """Up to ``wanted`` cut points in [first, last], quietest first (ties to the earlier
    frame, so the choice is deterministic), each leaving at least ``_MIN_WORD_FRAMES`` voiced
    frames between itself and the span's ends and every other cut: two cuts in one pause
    would make a word of silence."""
    cuts = [first, last + 1]
    if wanted <= 0:
        return []
    for index in sorted(range(first, last + 1), key=lambda i: (round(float(smoothed[i]), 6), i)):
        voiced = int(voiced_before[index])
        if all(abs(voiced - int(voiced_before[c])) >= _MIN_WORD_FRAMES for c in cuts):
            cuts.append(index)
            if len(cuts) == wanted + 2:
                break
    return sorted(cuts[2:])


def _detect(energy: np.ndarray) -> tuple[str, float]:
    contour = np.clip(np.round(energy / 4), 0, 255).astype(np.uint8).tobytes()
    digest = int.from_bytes(hashlib.blake2b(contour, digest_size=8).digest(), "big")
    language = CORE_LANGUAGES[digest % len(CORE_LANGUAGES)]
    return language, round(0.70 + 0.29 * ((digest >> 16) % 1000) / 999, 2)


def _apply_keyterms(tokens: list[str], regions: list[_Region], keyterms: Sequence[str]) -> None:
    replaced: set[int] = set()
    for term in keyterms:
        expected = _KEYTERM_S_PER_LETTER * sum(1 for c in term if not c.isspace())
        free = [i for i in range(len(regions)) if i not in replaced]
        if not free or expected <= 0:
            continue
        best = min(free, key=lambda i: (abs(regions[i].duration_s - expected), i))
        # A bias, not a guarantee: half of the well-matching words (by their digest) take it.
        if 0.75 <= regions[best].duration_s / expected <= 1.33 and regions[best].choice % 2 == 0:
            tokens[best] = term
            replaced.add(best)


def _punctuate(tokens: list[str], language: str, mode: AsrMode) -> list[str]:
    latin = mode in ("translate", "translit") or language == "en-IN"
    if latin:
        stop = "."
    elif language in _DANDA_LANGUAGES:
        stop = "।"
    elif language in _ARABIC_SCRIPT_LANGUAGES:
        stop = "\u06d4"  # ARABIC FULL STOP
    else:
        stop = "."
    first = tokens[0][:1].upper() + tokens[0][1:] if latin else tokens[0]
    return [first, *tokens[1:-1], tokens[-1] + stop] if len(tokens) > 1 else [first + stop]


class AsrWord(BaseModel):
    text: str
    start_s: float
    end_s: float


class AsrResponse(BaseModel):
    transcript: str
    language_code: str | None
    language_probability: float | None
    words: list[AsrWord]
    duration_s: float


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "code": "model_call_error"}}, status)


def asr_router(recognizer: Recognizer, *, max_seconds: float, latency: LatencyProfile) -> APIRouter:
    """``POST /v1/asr`` over ``recognizer``, refusing calls longer than ``max_seconds``."""
    router = APIRouter()

    @router.post("/v1/asr", response_model=AsrResponse)
    async def asr(
        request: Request,
        language: str = "unknown",
        mode: str = "transcribe",
        keyterm: Annotated[list[str] | None, Query()] = None,
    ) -> AsrResponse | JSONResponse:
        if language != "unknown" and language not in ASR_LANGUAGES:
            return _error(400, f"unknown language {language!r}")
        if mode not in _MODES:
            return _error(400, f"unknown mode {mode!r}; one of {', '.join(sorted(_MODES))}")
        terms = keyterm or []
        if len(terms) > 50 or any(not 0 < len(t) <= 64 for t in terms):
            return _error(400, "at most 50 keyterms of 1..64 characters")
        max_bytes = int(max_seconds * _RATE) * 2
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            return _too_long(int(declared) / 2 / _RATE, max_seconds)
        pcm = bytearray()
        async for chunk in request.stream():
            pcm += chunk
            if len(pcm) > max_bytes:
                return _too_long(len(pcm) / 2 / _RATE, max_seconds)
        if not pcm or len(pcm) % 2:
            return _error(400, "the body must be 16 kHz signed 16-bit PCM (an even, non-zero size)")
        loop = asyncio.get_running_loop()
        started = loop.time()
        result = await asyncio.to_thread(
            recognizer.recognize, bytes(pcm), language=language, mode=cast(AsrMode, mode),
            keyterms=terms,
        )  # fmt: skip
        seed = hashlib.blake2b(bytes(pcm), digest_size=16, person=language.encode()[:16])
        seed.update(f"{mode}|{'|'.join(terms)}".encode())
        remaining = latency.delay_s(result.duration_s, seed.digest()) - (loop.time() - started)
        if remaining > 0:
            await asyncio.sleep(remaining)
        return AsrResponse(
            transcript=result.transcript,
            language_code=result.language_code,
            language_probability=result.language_probability,
            words=[AsrWord(text=w.text, start_s=w.start_s, end_s=w.end_s) for w in result.words],
            duration_s=result.duration_s,
        )

    return router


def _too_long(seconds: float, max_seconds: float) -> JSONResponse:
    return _error(
        413, f"the audio is {seconds:.1f} s; this model takes at most {max_seconds:g} s per call:"
        " split it at pauses",
    )  # fmt: skip

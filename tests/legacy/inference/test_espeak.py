"""The eSpeak NG binding against the real library: real speech, deterministic, multilingual."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from legacy.inference.espeak import EspeakEngine, EspeakError, Synthesis

HELLO = "Hello world, this is a test."
SILENCE_RMS = 100.0  # int16 full scale is 32767; eSpeak speech sits in the thousands


@pytest.fixture(scope="module")
def engine() -> Iterator[EspeakEngine]:
    # One per module: libespeak-ng is process-global state, a second engine would share it.
    engine = EspeakEngine()
    yield engine
    engine.close()
    engine.close()  # idempotent
    with pytest.raises(EspeakError, match="closed"):
        engine.synthesize(HELLO)


def rms(synthesis: Synthesis) -> float:
    samples = np.frombuffer(synthesis.pcm, dtype="<i2").astype(np.float64)
    return float(np.sqrt(np.mean(samples**2))) if samples.size else 0.0


def test_english_is_audible_speech_of_plausible_length(engine: EspeakEngine) -> None:
    synthesis = engine.synthesize(HELLO)

    assert synthesis.sample_rate == 22050
    assert len(synthesis.pcm) % 2 == 0
    assert 0.8 <= synthesis.duration_s <= 4.0
    assert rms(synthesis) > SILENCE_RMS


def test_more_words_give_longer_audio(engine: EspeakEngine) -> None:
    words = "the quick brown fox jumps over the lazy dog again and again"
    durations = [engine.synthesize(" ".join(words.split()[:n])).duration_s for n in (2, 4, 8, 12)]

    assert durations == sorted(durations)
    assert durations[-1] > 3 * durations[0]


def test_same_input_gives_identical_bytes(engine: EspeakEngine) -> None:
    first = engine.synthesize(HELLO)
    engine.synthesize("Something else in between, to move the engine's state on.")
    second = engine.synthesize(HELLO)

    assert first.pcm == second.pcm


@pytest.mark.parametrize(
    ("voice", "text"),
    [("hi", "नमस्ते दुनिया, यह एक परीक्षण है।"), ("ta", "வணக்கம் உலகம், இது ஒரு சோதனை.")],
)
def test_indian_languages_are_audible(engine: EspeakEngine, voice: str, text: str) -> None:
    synthesis = engine.synthesize(text, voice=voice)

    assert synthesis.duration_s > 0.8
    assert rms(synthesis) > SILENCE_RMS


def test_voices_include_english_hindi_tamil(engine: EspeakEngine) -> None:
    assert {"en", "hi", "ta"} <= set(engine.voices())


def test_faster_rate_gives_shorter_audio(engine: EspeakEngine) -> None:
    slow = engine.synthesize(HELLO, rate_wpm=120)
    fast = engine.synthesize(HELLO, rate_wpm=300)

    assert fast.duration_s < 0.7 * slow.duration_s


@pytest.mark.parametrize("text", ["", "   \n\t"])
def test_empty_text_is_rejected(engine: EspeakEngine, text: str) -> None:
    with pytest.raises(ValueError, match="non-empty"):
        engine.synthesize(text)


def test_unknown_voice_is_named_in_the_error(engine: EspeakEngine) -> None:
    with pytest.raises(EspeakError, match="xx-nope"):
        engine.synthesize(HELLO, voice="xx-nope")


def test_missing_data_directory_is_an_espeak_error(tmp_path: Path) -> None:
    with pytest.raises(EspeakError, match="no eSpeak NG data"):
        EspeakEngine(data_path=str(tmp_path))


def test_missing_library_is_an_espeak_error(tmp_path: Path) -> None:
    with pytest.raises(EspeakError, match="cannot load libespeak-ng"):
        EspeakEngine(library_path=f"{tmp_path}/libespeak-ng.so")

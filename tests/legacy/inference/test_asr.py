"""The speech-recognition simulator: words on the speech, in the language's script, repeatable."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from legacy.inference.asr import Recognizer, asr_router
from legacy.inference.profiles import LatencyProfile
from legacy.text.scripts import CORE_LANGUAGES, dominant_script

RECOGNIZER = Recognizer()


def test_words_lie_on_the_speech_never_in_the_silences(speech) -> None:
    result = RECOGNIZER.recognize(speech.pcm, language="en-IN", mode="transcribe")
    assert result.duration_s == pytest.approx(speech.duration_s)
    for word in result.words:
        assert any(start - 0.01 <= word.start_s < word.end_s <= end + 0.01
                   for start, end in speech.utterances), word  # fmt: skip
    # Every utterance was heard, at a plausible speaking rate (eSpeak speaks ~4 words/s).
    for start, end in speech.utterances:
        heard = [w for w in result.words if start - 0.01 <= w.start_s <= end]
        assert 2.0 <= len(heard) / (end - start) <= 4.0
    assert " ".join(w.text for w in result.words) == result.transcript


def test_the_same_audio_gives_the_same_transcript_and_different_audio_another(speech) -> None:
    first = RECOGNIZER.recognize(speech.pcm, language="hi-IN", mode="transcribe")
    assert Recognizer().recognize(speech.pcm, language="hi-IN", mode="transcribe") == first
    half = RECOGNIZER.recognize(speech.pcm[: len(speech.pcm) // 2], language="hi-IN",
                                mode="transcribe")  # fmt: skip
    assert half.transcript != first.transcript


@pytest.mark.parametrize(
    ("language", "script", "stop"),
    [("hi-IN", "Deva", "।"), ("ta-IN", "Taml", "."), ("bn-IN", "Beng", "।"),
     ("ur-IN", "Arab", "\u06d4"), ("en-IN", "Latn", "."), ("od-IN", "Orya", "।")],
)  # fmt: skip
def test_transcripts_are_in_the_languages_script(speech, language, script, stop) -> None:
    result = RECOGNIZER.recognize(speech.pcm, language=language, mode="transcribe")
    assert dominant_script(result.transcript) == script
    assert result.transcript.endswith(stop)
    assert (result.language_code, result.language_probability) == (language, None)


def test_modes(speech) -> None:
    def run(mode):
        return RECOGNIZER.recognize(speech.pcm, language="hi-IN", mode=mode).transcript

    native, verbatim = run("transcribe"), run("verbatim")
    assert verbatim == native.removesuffix("।")
    translated = run("translate")
    assert dominant_script(translated) == "Latn"
    assert translated.endswith(".")
    translit = run("translit")
    assert translit.isascii()
    assert len(translit.split()) == len(native.split())
    codemix = run("codemix").split()
    scripts = {dominant_script(word) for word in codemix}
    assert scripts == {"Deva", "Latn"}


def test_unknown_language_is_detected_deterministically(speech) -> None:
    result = RECOGNIZER.recognize(speech.pcm, language="unknown", mode="transcribe")
    assert result.language_code in CORE_LANGUAGES
    assert result.language_probability is not None
    assert 0.7 <= result.language_probability <= 0.99
    assert RECOGNIZER.recognize(speech.pcm, language="unknown", mode="transcribe") == result


def test_silence_is_an_empty_transcript() -> None:
    for language in ("unknown", "hi-IN"):
        result = RECOGNIZER.recognize(b"\0\0" * 32000, language=language, mode="transcribe")
        assert (result.transcript, result.words) == ("", ())
    assert RECOGNIZER.recognize(b"", language="unknown", mode="transcribe").language_code is None


def test_keyterms_bias_towards_the_terms(speech) -> None:
    plain = RECOGNIZER.recognize(speech.pcm, language="en-IN", mode="verbatim")
    terms = ["Sarvam", "Bengaluru", "Vistaar"]
    biased = RECOGNIZER.recognize(speech.pcm, language="en-IN", mode="verbatim", keyterms=terms)
    heard = [w.text for w in biased.words if w.text in terms]
    assert heard
    assert len(heard) == len(set(heard))  # each term at most once
    assert len(biased.words) == len(plain.words)  # same word slots, some now keyterms
    changed = [a.text for a, b in zip(plain.words, biased.words, strict=True) if a != b]
    assert len(changed) == len(heard)


@pytest.fixture
async def inference() -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.include_router(asr_router(RECOGNIZER, max_seconds=5.0, latency=LatencyProfile(20.0)))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://inference") as c:
        yield c


@pytest.mark.anyio
async def test_the_route_answers_words_and_timings(inference, speech) -> None:
    start, end = speech.utterances[0]
    pcm = speech.pcm[int((start - 0.2) * 16000) * 2 : int((end + 0.2) * 16000) * 2]
    response = await inference.post(
        "/v1/asr", params={"language": "hi-IN", "mode": "transcribe"}, content=pcm,
        headers={"content-type": "audio/L16; rate=16000"},
    )  # fmt: skip
    assert response.status_code == 200
    body = response.json()
    expected = RECOGNIZER.recognize(pcm, language="hi-IN", mode="transcribe")
    assert body["transcript"] == expected.transcript
    assert [w["start_s"] for w in body["words"]] == [w.start_s for w in expected.words]
    assert body["language_probability"] is None


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("params", "size", "status", "message"),
    [({}, 16000 * 2 * 6, 413, "at most 5 s per call"), ({"language": "xx-IN"}, 3200, 400, "xx-IN"),
     ({"mode": "sing"}, 3200, 400, "unknown mode"), ({}, 0, 400, "16 kHz"), ({}, 3201, 400, "even"),
     ({"keyterm": ["x" * 65]}, 3200, 400, "keyterms")],
)  # fmt: skip
async def test_the_route_refuses_bad_calls(inference, params, size, status, message) -> None:
    response = await inference.post("/v1/asr", params=params, content=b"\1" * size)
    assert response.status_code == status
    assert message in response.json()["error"]["message"]

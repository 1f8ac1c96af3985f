"""Fixtures for tests of legacy's public API through the real SDKs, and real speech to feed
the speech-recognition tests."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import av
import httpx
import numpy as np
import pytest
from sarvamai import SarvamAI, SarvamAIEnvironment

from legacy.inference.espeak import EspeakEngine
from legacy.inference.ocr import OcrEngine
from legacy.speech.audio import resample
from legacy.speech.codecs import encode


@pytest.fixture
def client() -> Iterator[Callable[[str, str], SarvamAI]]:
    """Make sarvamai clients (base URL, API key) on our own httpx clients, closed after the
    test so no socket is left for the garbage collector to warn about."""
    opened: list[httpx.Client] = []

    def make(base_url: str, key: str) -> SarvamAI:
        http = httpx.Client(timeout=60)
        opened.append(http)
        ws = base_url.replace("http://", "ws://")
        environment = SarvamAIEnvironment(
            base=base_url, creative=f"{base_url}/dubbing", production=ws
        )
        return SarvamAI(api_subscription_key=key, environment=environment, httpx_client=http)

    yield make
    for http in opened:
        http.close()


@dataclass(frozen=True)
class SpeechRecording:
    """Real speech (eSpeak NG) with known silences: 16 kHz mono PCM, the texts spoken, and
    where each utterance's sound really is (first and last non-silent sample, in seconds)."""

    pcm: bytes
    texts: tuple[str, ...]
    utterances: tuple[tuple[float, float], ...]
    silence_s: float

    @property
    def duration_s(self) -> float:
        return len(self.pcm) / 2 / SPEECH_RATE

    def wav(self) -> bytes:
        return encode(self.pcm, SPEECH_RATE, "wav")

    def mp3(self) -> bytes:
        """The same audio as MP3 (LAME through PyAV), at 16 kHz."""
        out = io.BytesIO()
        with av.open(out, "w", format="mp3") as container:
            stream = container.add_stream("libmp3lame", rate=SPEECH_RATE, layout="mono")
            frame = av.AudioFrame.from_ndarray(
                np.frombuffer(self.pcm, dtype="<i2").reshape(1, -1), format="s16", layout="mono"
            )
            frame.sample_rate = SPEECH_RATE
            for packet in [*stream.encode(frame), *stream.encode(None)]:
                container.mux(packet)
        return out.getvalue()


SPEECH_RATE = 16_000
SPOKEN = (
    ("en", "Hello there, how are you today?"),
    ("en", "The weather is nice this morning."),
    ("hi", "नमस्ते, आप कैसे हैं? मैं ठीक हूँ।"),
)


@pytest.fixture(scope="session")
def speech() -> SpeechRecording:
    """Three utterances, each after 1 s of silence, and 1 s of silence at the end. The eSpeak
    engine lives only while this fixture synthesizes (one engine per process)."""
    engine = EspeakEngine()
    try:
        clips = [engine.synthesize(text, voice=voice) for voice, text in SPOKEN]
    finally:
        engine.close()
    silence_s = 1.0
    silence = b"\0\0" * int(SPEECH_RATE * silence_s)
    pcm, spans, at = silence, [], silence_s
    for clip in clips:
        samples = resample(clip.pcm, clip.sample_rate, SPEECH_RATE)
        loud = np.flatnonzero(np.abs(np.frombuffer(samples, dtype="<i2")) > 50)
        spans.append((at + loud[0] / SPEECH_RATE, at + (loud[-1] + 1) / SPEECH_RATE))
        pcm += samples + silence
        at += len(samples) / 2 / SPEECH_RATE + silence_s
    return SpeechRecording(pcm, tuple(t for _, t in SPOKEN), tuple(spans), silence_s)


@pytest.fixture(scope="module")
def ocr() -> OcrEngine:
    """One OCR engine per test module (it loads its models on the first call)."""
    return OcrEngine()


@pytest.fixture(scope="module")
def espeak() -> Iterator[EspeakEngine]:
    engine = EspeakEngine()
    yield engine
    engine.close()

"""Parity of the Go candidate's /speech-to-text with legacy's, by the shadow engine's comparators.

Every request of the corpus goes to legacy and to the candidate with the same ``X-Request-ID``
(both bill it: legacy's live ledger, the candidate's shadow ledger via ``X-Banyan-Shadow``) and
both call the same inference server's recognition model, and the two answers are compared as
the shadow process would (status, content type, JSON field by field: transcripts, word timings,
detected language). The audio is real speech from eSpeak NG in several languages, in every WAV
sample format, rate and channel count the candidate decodes, with silences, long pauses, the
30 s limit; the forms are the SDK's variants and its mistakes. The test prints the route's
parity and every divergence found, and fails on any divergence not in :data:`KNOWN`.
"""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import av
import httpx
import numpy as np
import pytest

from legacy.inference.espeak import EspeakEngine
from legacy.speech.audio import resample
from shadow.compare.config import CompareConfig
from shadow.compare.dispatch import compare
from shadow.model import Observation
from tests.candidate.audio_files import mp3

# corpus case name -> why the answers may differ (rfcs/0006-candidate-decisions.md)
KNOWN: dict[str, str] = {
    "mp3": "the candidate decodes WAV and raw PCM only: MP3 is a 501 naming the container, and "
    "the proxy keeps such uploads on legacy",
}
CONFIG = CompareConfig(headers=("content-type",))
RATE = 16_000
LINES = {
    "en": "Hello there, how are you today? The weather is nice.",
    "hi": "नमस्ते, आप कैसे हैं? मैं ठीक हूँ।",
    "ta": "வணக்கம், எப்படி இருக்கிறீர்கள்?",
    "bn": "আমার নাম রাহুল। ধন্যবাদ।",
    "mr": "माझे नाव राहुल आहे.",
    "kn": "ನಮಸ್ಕಾರ, ಹೇಗಿದ್ದೀರಿ?",
}
# WAV codec -> the sample format PyAV's encoder takes.
CODECS = {
    "pcm_u8": "u8", "pcm_s16le": "s16", "pcm_s24le": "s32", "pcm_s32le": "s32",
    "pcm_f32le": "flt", "pcm_f64le": "dbl", "pcm_alaw": "s16", "pcm_mulaw": "s16",
}  # fmt: skip


def silence(seconds: float) -> bytes:
    return b"\0\0" * int(RATE * seconds)


@pytest.fixture(scope="module")
def spoken() -> dict[str, bytes]:
    """Each line of :data:`LINES` spoken, 16 kHz mono s16le."""
    engine = EspeakEngine()
    try:
        clips = {voice: engine.synthesize(text, voice=voice) for voice, text in LINES.items()}
    finally:
        engine.close()
    return {voice: resample(c.pcm, c.sample_rate, RATE) for voice, c in clips.items()}


def wav(pcm: bytes, codec: str = "pcm_s16le", rate: int = RATE, layout: str = "mono") -> bytes:
    """16 kHz mono PCM as a WAV of another codec, rate and layout, written by FFmpeg."""
    frame = av.AudioFrame.from_ndarray(
        np.frombuffer(pcm, dtype="<i2").reshape(1, -1), format="s16", layout="mono"
    )
    frame.sample_rate = RATE
    resampler = av.AudioResampler(format=CODECS[codec], layout=layout, rate=rate)
    out = io.BytesIO()
    with av.open(out, "w", format="wav") as container:
        stream = container.add_stream(codec, rate=rate, layout=layout)
        for converted in [*resampler.resample(frame), *resampler.resample(None)]:
            for packet in stream.encode(converted):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue()


def ask(audio: bytes | None, filename: str = "a.wav", **form: str) -> dict[str, Any]:
    files = {} if audio is None else {"file": (filename, audio, "audio/wav")}
    return {"files": files, "data": form}


def corpus(s: dict[str, bytes]) -> dict[str, dict[str, Any]]:
    pauses = silence(0.6) + s["en"] + silence(0.9) + s["hi"] + silence(0.4)
    long_pause = s["ta"] + silence(3.5) + s["bn"] + silence(0.2)
    fill = RATE * 30 - len(s["kn"]) // 2
    edge = s["kn"] + b"\0\0" * fill  # exactly 30.0 s
    terms = json.dumps(["Sarvam", "weather"])
    return {
        # Languages, given and detected.
        "en-detect": ask(wav(pauses), with_timestamps="true"),
        "hi-given": ask(wav(s["hi"]), language_code="hi-IN", with_timestamps="true"),
        "ta-given": ask(wav(s["ta"] + silence(0.3)), language_code="ta-IN"),
        "bn-detect": ask(wav(silence(0.2) + s["bn"])),
        "mr-given": ask(wav(s["mr"]), language_code="mr-IN", with_timestamps="1"),
        "kn-unknown": ask(wav(s["kn"]), language_code="unknown", with_timestamps="false"),
        # Every sample format, rates, channel counts.
        "u8-8k": ask(wav(s["en"], "pcm_u8", 8000), language_code="en-IN"),
        "s16-22k-stereo": ask(wav(pauses, "pcm_s16le", 22050, "stereo"), with_timestamps="true"),
        "s24-44k": ask(wav(s["hi"], "pcm_s24le", 44100), language_code="hi-IN"),
        "s32-48k-stereo": ask(wav(s["ta"], "pcm_s32le", 48000, "stereo"), language_code="ta-IN"),
        "f32-32k": ask(wav(s["bn"], "pcm_f32le", 32000), with_timestamps="true"),
        "f64-11k": ask(wav(s["mr"], "pcm_f64le", 11025), language_code="mr-IN"),
        "alaw-8k": ask(wav(s["kn"], "pcm_alaw", 8000), language_code="kn-IN"),
        "mulaw-16k": ask(wav(s["hi"], "pcm_mulaw"), language_code="hi-IN"),
        "s16-5.1": ask(wav(s["en"], "pcm_s16le", RATE, "5.1"), language_code="en-IN"),
        "f32-24k-quad": ask(wav(s["ta"], "pcm_f32le", 24000, "quad"), with_timestamps="true"),
        "raw-pcm": ask(pauses, "a.raw", input_audio_codec="pcm_s16le", language_code="en-IN"),
        "mislabelled": ask(wav(s["hi"]), input_audio_codec="mp3", language_code="hi-IN"),
        "mp3": ask(mp3(s["en"]), "a.mp3", language_code="en-IN"),
        # Silence, pauses, the length limit.
        "silence": ask(wav(silence(2.0)), with_timestamps="true"),
        "long-pause": ask(wav(long_pause), with_timestamps="true"),
        "edge-30s": ask(wav(edge), language_code="kn-IN"),
        "over-30s": ask(wav(edge + b"\0\0")),
        # Form variants.
        "modes-translate": ask(wav(s["hi"]), language_code="hi-IN", mode="translate"),
        "modes-translit": ask(wav(s["hi"]), language_code="hi-IN", mode="translit"),
        "modes-verbatim": ask(wav(s["hi"]), language_code="hi-IN", mode="verbatim"),
        "modes-codemix": ask(wav(s["mr"]), language_code="mr-IN", mode="codemix"),
        "keyterms-v4": ask(wav(s["en"]), model="saaras:v4", keyterms=terms, language_code="en-IN"),
        "saarika": ask(wav(s["ta"]), model="saarika:v2.5", language_code="ta-IN"),
        "nulls": ask(wav(s["bn"]), keyterms="null", model="null", with_timestamps="null"),
        # Mistakes.
        "no-file": ask(None, language_code="hi-IN"),
        "bad-fields": ask(wav(s["en"]), model="saaras:v9", mode="sing", with_timestamps="maybe"),
        "keyterms-v3": ask(wav(s["en"]), keyterms=terms),
        "keyterms-broken": ask(wav(s["en"]), keyterms="[not json"),
        "empty-file": ask(b""),
        "not-audio": ask(b"RIFF" + b"\0" * 400),
    }


def observe(response: httpx.Response) -> Observation:
    headers = tuple((k.encode().lower(), v.encode()) for k, v in response.headers.items())
    elapsed = response.elapsed.total_seconds()
    return Observation(response.status_code, headers, response.content, elapsed, elapsed)


def run_corpus(platform, candidate_url: str, route: str, requests: dict[str, dict[str, Any]],
               known: dict[str, str]) -> tuple[list[bool], list[str], int]:  # fmt: skip
    """Each request to legacy and the candidate; (matched per request, unexplained divergences,
    requests legacy transcribed to a non-empty transcript)."""
    key = platform.make_tenant(credits="100000", requests_per_minute=10_000)
    matched: list[bool] = []
    unexplained: list[str] = []
    transcribed = 0
    with httpx.Client(timeout=60) as client:
        for name, request in requests.items():
            request_id = f"parity-{route}-{name}-{uuid.uuid4().hex[:8]}"
            headers = {"api-subscription-key": key, "X-Request-ID": request_id}
            legacy = client.post(f"{platform.direct_url}/{route}", headers=headers, **request)
            shadow = {**headers, "X-Banyan-Shadow": "1"}
            candidate = client.post(f"{candidate_url}/{route}", headers=shadow, **request)
            diffs = compare(observe(legacy), observe(candidate), CONFIG)
            matched.append(not diffs)
            transcribed += legacy.status_code == 200 and bool(legacy.json()["transcript"])
            for diff in diffs:
                line = (f"{route} {name} {diff.path} {diff.kind}: "
                        f"legacy={diff.control!r} candidate={diff.candidate!r}")  # fmt: skip
                print("DIVERGENCE " + line[:400])
                if name not in known:
                    unexplained.append(line[:400])
    print(f"PARITY {route}: {sum(matched)}/{len(matched)} = {sum(matched) / len(matched):.3f}")
    return matched, unexplained, transcribed


def test_speech_to_text_answers_as_legacy_does(platform, candidate_url: str, spoken) -> None:
    requests = corpus(spoken)
    _, unexplained, transcribed = run_corpus(
        platform, candidate_url, "speech-to-text", requests, KNOWN
    )
    assert not unexplained, "\n".join(unexplained)
    # A corpus of refusals would prove little: most of it is transcribed speech.
    assert len(requests) >= 25
    assert transcribed >= len(requests) // 2


def translate_corpus(s: dict[str, bytes]) -> dict[str, dict[str, Any]]:
    pauses = silence(0.4) + s["hi"] + silence(0.8) + s["ta"] + silence(0.3)
    return {
        "hi": ask(wav(s["hi"]), prompt="A greeting.", model="saaras:v2.5"),
        "pauses": ask(wav(pauses)),
        "bn-22k-stereo": ask(wav(s["bn"], "pcm_s16le", 22050, "stereo")),
        "mr-f32-48k": ask(wav(s["mr"], "pcm_f32le", 48000)),
        "kn-mulaw": ask(wav(s["kn"], "pcm_mulaw", 8000)),
        "raw": ask(pauses, "a.raw", input_audio_codec="pcm_raw"),
        "silence": ask(wav(silence(1.5))),
        "nulls": ask(wav(s["en"]), prompt="null", model="null"),
        "mp3": ask(mp3(s["en"]), "a.mp3"),
        "bad-model": ask(wav(s["en"]), model="saaras:v3"),
        "long-prompt": ask(wav(s["en"]), prompt="x" * 4001),
        "no-file": ask(None, prompt="hello"),
        "not-audio": ask(b"RIFF" + b"\0" * 400),
    }


def test_speech_to_text_translate_answers_as_legacy_does(platform, candidate_url: str,
                                                         spoken) -> None:  # fmt: skip
    requests = translate_corpus(spoken)
    _, unexplained, transcribed = run_corpus(
        platform, candidate_url, "speech-to-text-translate", requests, KNOWN
    )
    assert not unexplained, "\n".join(unexplained)
    assert transcribed >= len(requests) // 2

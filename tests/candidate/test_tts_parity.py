"""Parity of the Go candidate's /text-to-speech with legacy's, by the shadow engine's comparators.

Every request of the corpus goes to legacy and to the candidate with the same ``X-Request-ID``
(both bill it: legacy's live ledger, the candidate's shadow ledger via ``X-Banyan-Shadow``) and
both call the same inference server (eSpeak NG), and the answers are compared as the shadow
process would: status, content type and JSON field by field, the audio in ``audios`` decoded
and compared as sound by the audio comparator (``shadow/compare/audio.py``, with the request's
codec and rate as its hint, so headerless linear16 is heard too). The test prints the route's
parity, how many answers were the same bytes, and every divergence, and fails on one not in
:data:`KNOWN`.

At the model's own rate (22050 Hz, the default) the candidate's audio is legacy's byte for
byte in wav, linear16, mulaw and alaw, and FLAC decodes to the same samples (lossless, in other
bytes); at other rates both resample (legacy with soxr, the candidate with its own band-limited
filter) and the comparator judges them as sound.
"""

from __future__ import annotations

import base64
import io
import json
import uuid
from typing import Any

import av
import httpx
import numpy as np

from shadow.compare.audio import AudioHint, compare_audio
from shadow.compare.config import CompareConfig
from shadow.compare.dispatch import compare
from shadow.model import Diff, Observation
from tests.candidate.ledger import ledger_differences, settled

# corpus case name -> why the answers may differ
KNOWN: dict[str, str] = {}

ENGLISH = "Hello, how are you? My name is Rahul, and I have twenty five books."
HINDI = "नमस्ते, आप कैसे हैं? मेरा नाम राहुल है और मैं दिल्ली में रहता हूँ।"
STORY = " ".join(f"This is sentence {n} of a longer story, read aloud." for n in range(30))
V2, FLASH = {"model": "bulbul:v2"}, {"model": "bulbul:v4-flash"}


def say(text: str = ENGLISH, language: str = "en-IN", **more: Any) -> dict[str, Any]:
    return {"text": text, "language_code": language, **more}


CORPUS: dict[str, Any] = {
    # Speakers of every model, several languages (22050 Hz: the same bytes expected).
    "default": say(),
    "v2-anushka-hi": say(HINDI, "hi-IN", speaker="anushka", **V2),
    "v2-abhilash-mr": say("माझे नाव राहुल आहे.", "mr-IN", speaker="abhilash"),
    "v3-kavitha-ta": say("வணக்கம், எப்படி இருக்கிறீர்கள்?", "ta-IN", speaker="kavitha"),
    "v3-aditya-bn": say("আমার নাম রাহুল। ধন্যবাদ।", "bn-IN", speaker="aditya"),
    "v3-ritu-te": say("నమస్కారం, మీరు ఎలా ఉన్నారు?", "te-IN", speaker="ritu"),
    "flash-default-gu": say("તમે કેમ છો?", "gu-IN", **FLASH),
    "flash-persona-kn": say("ನಮಸ್ಕಾರ, ಹೇಗಿದ್ದೀರಿ?", "kn-IN", speaker="chaitra_kn_narration"),
    "flash-persona-pa": say("ਤੁਸੀਂ ਕਿਵੇਂ ਹੋ?", "pa-IN", speaker="harpreet_pa_narration"),
    "v3-mohit-od": say("ନମସ୍କାର, ଆପଣ କେମିତି ଅଛନ୍ତି?", "od-IN", speaker="mohit"),
    "v3-anand-ml": say("നമസ്കാരം, സുഖമാണോ?", "ml-IN", speaker="anand"),
    # The v2 controls: pitch, pace, loudness (clipping at 3).
    "v2-controls-up": say(speaker="karun", pitch=0.5, pace=1.5, loudness=2.0, **V2),
    "v2-controls-down": say(speaker="vidya", pitch=-0.6, pace=0.5, loudness=0.5, **V2),
    "v2-loudness-3": say(speaker="manisha", loudness=3.0, **V2),
    "v3-pace": say(speaker="shubh", pace=1.8),
    # Every ported codec, at the model's rate and resampled.
    "linear16": say(output_audio_codec="linear16"),
    "mulaw": say(output_audio_codec="mulaw"),
    "alaw-16000": say(output_audio_codec="alaw", speech_sample_rate=16000),
    "mulaw-8000-v2": say(output_audio_codec="mulaw", speech_sample_rate=8000, **V2),
    # Every other rate.
    "wav-8000": say(speech_sample_rate=8000),
    "wav-24000": say(speech_sample_rate=24000, speaker="ritu"),
    "wav-32000": say(speech_sample_rate=32000),
    "wav-44100": say(speech_sample_rate=44100),
    "linear16-48000": say(output_audio_codec="linear16", speech_sample_rate=48000),
    # Longer than the model's 500 characters per call: chunked, in order, with pauses.
    "long-story": say(STORY[:1450]),
    "long-hindi-v2": say(((HINDI + " ") * 25)[:1500], "hi-IN", **V2),
    # FLAC: lossless, other bytes. MP3: another encoder than LAME, compared as sound.
    "flac": say(output_audio_codec="flac", speaker="ritu"),
    "flac-long-v2": say(STORY[:1400], output_audio_codec="flac", loudness=1.5, **V2),
    "flac-44100": say(output_audio_codec="flac", speech_sample_rate=44100),
    "mp3": say(output_audio_codec="mp3"),
    "mp3-8000-v2": say(output_audio_codec="mp3", speech_sample_rate=8000, **V2),
    "mp3-44100-long": say(STORY[:900], output_audio_codec="mp3", speech_sample_rate=44100),
    # Refusals (400) and validation (422).
    "v2-too-long": say("a" * 1501, **V2),
    "speaker-other-model": say(speaker="shubh", **V2),
    "pace-v3": say(pace=2.5),
    "rate-high-v2": say(speech_sample_rate=48000, **V2),
    "empty": say(""),
    "nul": say("Hello\x00"),
    "all-wrong": {"text": 5, "language_code": "fr-FR", "pitch": 2, "output_audio_codec": "ogg"},
}  # fmt: skip
CONFIG = CompareConfig(headers=("content-type",))
ROUTE = "/text-to-speech"
SAMPLES = "$.audios[0].$audio.samples"  # a lossless answer's decoded samples


def observe(response: httpx.Response, body: bytes | None = None) -> Observation:
    headers = tuple((k.encode().lower(), v.encode()) for k, v in response.headers.items())
    elapsed = response.elapsed.total_seconds()
    content = response.content if body is None else body
    return Observation(response.status_code, headers, content, elapsed, elapsed)


def _audio(response: httpx.Response) -> tuple[bytes, bytes] | None:
    """The decoded audio of a 200 and the body with it replaced by a placeholder."""
    if response.status_code != 200:
        return None
    answer = response.json()
    audio = base64.b64decode(answer["audios"][0])
    answer["audios"] = ["<audio>"]
    return audio, json.dumps(answer).encode()


def diffs_of(body: dict[str, Any], legacy: httpx.Response, candidate: httpx.Response) -> list[Diff]:
    """The shadow engine's diffs, the audio compared as sound with the request's hint."""
    ours, theirs = _audio(legacy), _audio(candidate)
    if ours is None or theirs is None:
        return compare(observe(legacy), observe(candidate), CONFIG)
    diffs = compare(observe(legacy, ours[1]), observe(candidate, theirs[1]), CONFIG)
    hint = AudioHint.for_tts(
        codec=body.get("output_audio_codec"), sample_rate=body.get("speech_sample_rate")
    )
    return diffs + compare_audio(ours[0], theirs[0], CONFIG.audio, prefix="$.audios[0].", hint=hint)


def flac_samples(response: httpx.Response) -> np.ndarray:
    """The 16-bit samples of a FLAC answer, as FFmpeg decodes them."""
    audio = base64.b64decode(response.json()["audios"][0])
    with av.open(io.BytesIO(audio)) as container:
        stream = container.streams.audio[0]
        return np.concatenate([frame.to_ndarray()[0] for frame in container.decode(stream)])


def test_tts_answers_as_legacy_does(platform, candidate_url: str) -> None:
    key = platform.make_tenant(credits="1000000", requests_per_minute=10_000)
    matched: list[bool] = []
    unexplained: list[str] = []
    spoken = same_bytes = flac_same = 0
    with httpx.Client(timeout=120) as client:
        for name, body in CORPUS.items():
            request_id = f"parity-tts-{name}-{uuid.uuid4().hex[:8]}"
            headers = {"api-subscription-key": key, "X-Request-ID": request_id}
            legacy = client.post(platform.direct_url + ROUTE, json=body, headers=headers)
            shadow = {**headers, "X-Banyan-Shadow": "1"}
            candidate = client.post(candidate_url + ROUTE, json=body, headers=shadow)
            diffs = diffs_of(body, legacy, candidate)
            lossless = body.get("output_audio_codec") == "flac" and "speech_sample_rate" not in body
            if lossless and legacy.status_code == candidate.status_code == 200:
                ours, theirs = flac_samples(legacy), flac_samples(candidate)
                if np.array_equal(ours, theirs):
                    flac_same += 1
                else:
                    diffs.append(Diff(SAMPLES, "changed", len(ours), len(theirs)))
            matched.append(not diffs)
            spoken += legacy.status_code == 200
            same_bytes += legacy.status_code == 200 and legacy.content == candidate.content
            for diff in diffs:
                line = (f"text-to-speech {name} {diff.path} {diff.kind}: "
                        f"legacy={diff.control!r} candidate={diff.candidate!r}")  # fmt: skip
                print("DIVERGENCE " + line)
                if name not in KNOWN:
                    unexplained.append(line)
    total = len(matched)
    print(f"PARITY text-to-speech: {sum(matched)}/{total} = {sum(matched) / total:.3f}")
    print(f"text-to-speech: {same_bytes} of {spoken} answers with audio were the same bytes, "
          f"{flac_same} FLAC answers checked sample for sample")  # fmt: skip
    assert not unexplained, "\n".join(unexplained)
    assert spoken >= len(CORPUS) // 2  # most of the corpus is speech, not refusals
    # Every answer at the model's own rate, in a ported codec, is legacy's byte for byte.
    assert same_bytes >= 14
    assert flac_same == 2


# /text-to-speech/stream: corpus name -> body; the answer is the audio itself (audio/*).
STREAM_KNOWN: dict[str, str] = {
    "opus": "the candidate has no Opus encoder: 501 before billing, the proxy keeps it on legacy",
    "aac": "the candidate has no AAC encoder: 501 before billing, the proxy keeps it on legacy",
}
STREAM_CORPUS: dict[str, dict[str, Any]] = {
    "default-mp3": say(),
    "long-story-mp3": say(STORY[:1400]),
    "language-detected": {"text": HINDI},
    "mp3-16000-32k": say(speech_sample_rate=16000, output_audio_bitrate="32k"),
    "mp3-v2-controls": say(speaker="karun", pitch=0.4, pace=1.3, loudness=1.6, **V2),
    "wav-16000": say(STORY[:600], output_audio_codec="wav", speech_sample_rate=16000),
    "wav": say(output_audio_codec="wav"),
    "linear16-24000": say(output_audio_codec="linear16", speech_sample_rate=24000),
    "mulaw-8000": say(output_audio_codec="mulaw", speech_sample_rate=8000),
    "alaw": say(output_audio_codec="alaw"),
    "flac-24000": say(STORY[:600], output_audio_codec="flac", speech_sample_rate=24000),
    "opus": say(output_audio_codec="opus", speech_sample_rate=24000),
    "aac": say(output_audio_codec="aac"),
    "unknown-language": {"text": "12345 678"},
    "bad-bitrate": say(output_audio_bitrate="100k"),
    "too-long": say("x" * 3501),
    "speaker-other-model": say(speaker="shubh", **V2),
}  # fmt: skip


def test_tts_streams_answer_as_legacy_does(platform, candidate_url: str) -> None:
    """The stream route, compared as the shadow engine compares it: status, content type,
    then the whole body as audio (decoded, so mp3 and flac from other encoders are heard), and
    the ledger lines each side wrote."""
    key = platform.make_tenant(credits="1000000", requests_per_minute=10_000)
    matched: list[bool] = []
    unexplained: list[str] = []
    request_ids: dict[str, str] = {}
    same_bytes = 0
    with httpx.Client(timeout=120) as client:
        for name, body in STREAM_CORPUS.items():
            request_id = request_ids[name] = f"parity-tts-stream-{name}-{uuid.uuid4().hex[:8]}"
            headers = {"api-subscription-key": key, "X-Request-ID": request_id}
            path = ROUTE + "/stream"
            legacy = client.post(platform.direct_url + path, json=body, headers=headers)
            shadow = {**headers, "X-Banyan-Shadow": "1"}
            candidate = client.post(candidate_url + path, json=body, headers=shadow)
            hint = AudioHint.for_request(json.dumps(body).encode())
            diffs = compare(observe(legacy), observe(candidate), CONFIG, audio_hint=hint)
            same_bytes += legacy.status_code == 200 and legacy.content == candidate.content
            matched.append(not diffs)
            for diff in diffs:
                line = (f"text-to-speech-stream {name} {diff.path} {diff.kind}: "
                        f"legacy={diff.control!r} candidate={diff.candidate!r}")  # fmt: skip
                print("DIVERGENCE " + line)
                if name not in STREAM_KNOWN:
                    unexplained.append(line)
        billed = settled(platform, client, list(request_ids.values()))
    for name, difference in ledger_differences(billed, request_ids).items():
        line = f"text-to-speech-stream {name} {difference}"
        print("DIVERGENCE " + line)
        matched[list(request_ids).index(name)] = False
        if name not in STREAM_KNOWN:
            unexplained.append(line)
    total = len(matched)
    print(f"PARITY text-to-speech-stream: {sum(matched)}/{total} = {sum(matched) / total:.3f}")
    print(f"text-to-speech-stream: {same_bytes} answers with audio were the same bytes")
    assert not unexplained, "\n".join(unexplained)
    assert same_bytes >= 2  # wav and alaw at the model's rate: legacy's bytes

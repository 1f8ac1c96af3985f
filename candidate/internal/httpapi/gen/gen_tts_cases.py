"""Write ../testdata/tts_cases.json.gz: legacy's answers on POST /text-to-speech, for replay.

Runs legacy/tts_api.py's router in the app gen_http_cases.py builds (legacy's error
handlers, commerce, request ids, the fake ledger) and records per case what gen_http_cases.py
records plus every call of the speech model: its body and what the model answered. The model
here is a scripted stand-in for the inference server's eSpeak NG (a tone whose pitch and
length follow the call), so the recorded audio stays small; the Go test's fake inference
server answers the candidate's calls with the recorded answers, so both encode the same PCM.

Texts carrying a marker make the model fail as a broken server would: REFUSE (a 500),
HANG_UP (the connection closed without an answer), NORATE (a 200 without X-Sample-Rate),
SILENT (a 200 with no samples). A case's "inference" says how the inference server is
configured: "none" (no URL: 503) or "refused" (nothing listens there); absent, it answers.

    .venv/bin/python candidate/internal/httpapi/gen/gen_tts_cases.py

Answers resampled to a rate other than the model's 22050 Hz change by up to 2 in a sample
from one run of this script to the next: soxr dithers its 16-bit output with a seed that is
not fixed (legacy's own audio is not reproducible there). The Go test compares those answers
as close, not equal; every other answer is reproduced byte for byte.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import math
import random
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import av  # noqa: E402
import httpx  # noqa: E402
import numpy as np  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from gen_http_cases import KEY, make_app, record, req  # noqa: E402

from legacy.tts_api import tts_router  # noqa: E402

REFUSE, HANG_UP, NORATE, SILENT = "REFUSE", "HANG_UP", "NORATE", "SILENT"
INFERENCE = "http://inference"
MODEL_RATE = 22050


def tone(call: dict[str, Any]) -> bytes:
    """The stand-in model's speech: a tone between 150 and 950 Hz (set by the text, the
    voice's pitch and rate), loud enough to clip at a gain of 3; 30 samples for each of the
    first 40 characters and one for each after them (the recorded cases stay small)."""
    text = call["text"]
    freq = 150 + (sum(map(ord, text)) + 7 * call["pitch"] + call["rate_wpm"]) % 800
    n = np.arange(30 * min(len(text), 40) + max(0, len(text) - 40))
    samples = np.round(12000 * np.sin(2 * math.pi * freq * n / MODEL_RATE))
    pcm: bytes = samples.astype("<i2").tobytes()
    return pcm


def flac_samples(answer: dict[str, Any]) -> str | None:
    """A 200's FLAC audio decoded by FFmpeg (base64 of 16-bit samples), or None: FLAC is
    lossless, so the Go test checks the candidate encoded exactly these samples."""
    if answer["want"]["status"] != 200:
        return None
    body = json.loads(base64.b64decode(answer["body"]) or b"{}")
    if body.get("output_audio_codec") != "flac":
        return None
    audio = base64.b64decode(json.loads(answer["want"]["body"])["audios"][0])
    with av.open(io.BytesIO(audio)) as container:
        stream = container.streams.audio[0]
        pcm = b"".join(bytes(frame.to_ndarray().astype("<i2").tobytes())
                       for frame in container.decode(stream))  # fmt: skip
    return base64.b64encode(pcm).decode()


def add_speech(app: FastAPI) -> None:
    app.include_router(tts_router)
    app.state.tts_calls = []

    async def inference(request: httpx.Request) -> httpx.Response:
        if request.url.host == "refused":
            raise httpx.ConnectError("All connection attempts failed", request=request)
        call = json.loads(request.content)
        calls: list[dict[str, Any]] = app.state.tts_calls
        if HANG_UP in call["text"]:
            calls.append({"call": call, "hang_up": True})
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        headers = {"x-sample-rate": str(MODEL_RATE)}
        if REFUSE in call["text"]:
            status, pcm = 500, b'{"error":{"message":"the model crashed"}}'
        elif NORATE in call["text"]:
            status, pcm, headers = 200, tone(call), {}
        elif SILENT in call["text"]:
            status, pcm = 200, b""
        else:
            status, pcm = 200, tone(call)
        calls.append({"call": call, "status": status, "headers": headers,
                      "body": base64.b64encode(pcm).decode()})  # fmt: skip
        return httpx.Response(status, content=pcm, headers=headers)

    app.state.inference = httpx.AsyncClient(transport=httpx.MockTransport(inference))


def tts(name: str, body: Any, *, inference: str = "", **kw: Any) -> dict[str, Any]:
    return {**req(name, "/text-to-speech", body, **kw), "inference": inference}


def say(text: Any = "Hello, how are you?", language: Any = "en-IN", **more: Any) -> Any:
    return {"text": text, "language_code": language, **more}


V2 = {"model": "bulbul:v2"}
FLASH = {"model": "bulbul:v4-flash"}
SENTENCES = " ".join(f"Sentence {n} is spoken." for n in range(70))
HINDI = "नमस्ते, आप कैसे हैं? मेरा नाम राहुल है।"
# fmt: off
REQUESTS = [
    # Speech: models, speakers, languages, the v2 controls.
    tts("tts-ok", say()),
    tts("tts-hindi", say(HINDI, "hi-IN")),
    tts("tts-tamil", say("வணக்கம், எப்படி இருக்கிறீர்கள்?", "ta-IN", speaker="kavitha")),
    tts("tts-odia", say("ନମସ୍କାର", "od-IN", speaker="ritu")),
    tts("tts-v2", say(HINDI, "hi-IN", **V2)),
    tts("tts-v2-controls", say("Pitch, pace and loudness.", speaker="karun", pitch=0.5,
                               pace=1.7, loudness=1.4, **V2)),
    tts("tts-v2-low", say("Low and slow.", speaker="vidya", pitch=-0.75, pace=0.3,
                          loudness=0.3, **V2)),
    tts("tts-v2-clip", say("Loud enough to clip.", loudness=3.0, pitch=0.75, pace=3.0, **V2)),
    tts("tts-v3-ignores-pitch", say("Ignored controls.", speaker="aditya", pitch=0.5,
                                    loudness=2.0, pace=2.0)),
    tts("tts-flash", say("A persona.", speaker="shubh_en_narration")),
    tts("tts-flash-default", say("Default persona.", **FLASH)),
    tts("tts-speaker-picks-model", say("A v2 voice.", speaker="abhilash")),
    tts("tts-sdk-fields", say("SDK fields.", enable_preprocessing=True, temperature=0.6,
                              dict_id="d1", enable_cached_responses=False)),
    tts("tts-nulls", say("Nulls.", speaker=None, pitch=None, pace=None, loudness=None,
                         speech_sample_rate=None, model=None, output_audio_codec=None)),
    tts("tts-rate-float", say("Rate as a float.", speech_sample_rate=22050.0)),
    tts("tts-rate-zero", say("Rate zero.", speech_sample_rate=0)),
    # Codecs and rates (22050 is the model's own: no resampling).
    *(tts(f"tts-{codec}-{rate}", say("Every codec.", output_audio_codec=codec,
                                     speech_sample_rate=rate))
      for codec in ("wav", "linear16", "mulaw", "alaw") for rate in (22050, 8000)),
    *(tts(f"tts-wav-{rate}", say("Every rate.", speech_sample_rate=rate))
      for rate in (16000, 24000, 32000, 44100, 48000)),
    tts("tts-v2-mulaw-16000", say("Narrowband.", output_audio_codec="mulaw",
                                  speech_sample_rate=16000, loudness=2.5, **V2)),
    # Codecs the candidate does not encode (501 there).
    *(tts(f"tts-{codec}", say("Not ported.", output_audio_codec=codec))
      for codec in ("mp3", "aac")),
    tts("tts-flac", say("Lossless, other bytes.", output_audio_codec="flac")),
    tts("tts-flac-48000", say("Lossless, resampled.", output_audio_codec="flac",
                              speech_sample_rate=48000)),
    tts("tts-flac-long", say(SENTENCES[:1200], output_audio_codec="flac", loudness=1.2, **V2)),
    tts("tts-opus", say("Not ported.", output_audio_codec="opus")),
    # Chunking: over the model's 500 characters per call.
    tts("tts-chunked", say(SENTENCES[:1400])),
    tts("tts-chunked-v2-max", say(("Four score. " * 125)[:1500], **V2)),
    tts("tts-chunked-one-word", say("a" * 1300)),
    tts("tts-chunked-max", say(("ab " * 834)[:2500])),
    tts("tts-whitespace-around", say("  \n Hello. \t ")),
    tts("tts-silent-model", say(f"Quiet {SILENT}.")),
    tts("tts-silent-model-mulaw", say(f"Quiet {SILENT}.", output_audio_codec="mulaw")),
    # Refusals (400): cross-field rules and per-model limits.
    tts("tts-v2-too-long", say("a" * 1501, **V2)),
    tts("tts-speaker-other-model", say(speaker="shubh", **V2)),
    tts("tts-speaker-uppercase", say(speaker="Anushka")),
    tts("tts-speaker-unknown", say(speaker="nobody", **FLASH)),
    tts("tts-speaker-empty", say(speaker="")),
    tts("tts-pace-v3", say(pace=2.5)),
    tts("tts-rate-12000", say(speech_sample_rate=12000)),
    tts("tts-rate-high-v2", say(speech_sample_rate=44100, **V2)),
    tts("tts-opus-22050", say(output_audio_codec="opus", speech_sample_rate=22050)),
    tts("tts-rate-huge", say(speech_sample_rate=10**30)),
    # Validation (422).
    tts("tts-missing", {}),
    tts("tts-empty", say("")),
    tts("tts-whitespace", say(" \n\t\u00a0\u3000")),
    tts("tts-controls", say("\x01\x02\x1f\x7f")),
    tts("tts-nul", say("Hello\x00world")),
    tts("tts-zero-width", say("\u200b")),
    tts("tts-too-long", say("a" * 2501)),
    tts("tts-bad-language", say(language="fr-FR")),
    tts("tts-bad-codec", say(output_audio_codec="ogg")),
    tts("tts-bad-model", say(model="bulbul:v1")),
    tts("tts-pitch-high", say(pitch=0.8)),
    tts("tts-pace-low", say(pace=0.2)),
    tts("tts-loudness-high", say(loudness=3.5)),
    tts("tts-temperature-zero", say(temperature=0)),
    tts("tts-speaker-long", say(speaker="a" * 65)),
    tts("tts-dict-long", say(dict_id="d" * 129)),
    tts("tts-rate-fraction", say(speech_sample_rate=22050.5)),
    tts("tts-rate-string", say(speech_sample_rate="22050")),
    tts("tts-rate-bool", say(speech_sample_rate=True)),
    tts("tts-bool-int", say(enable_preprocessing=1)),
    tts("tts-pitch-string", say(pitch="0.5")),
    tts("tts-pitch-bool", say(pitch=True)),
    tts("tts-all-wrong", {"text": 5, "language_code": None, "speaker": 1, "pitch": 9,
                          "pace": "x", "loudness": -1, "speech_sample_rate": 1.5,
                          "enable_preprocessing": "yes", "model": "v3",
                          "output_audio_codec": "MP3", "temperature": 2, "dict_id": [],
                          "enable_cached_responses": 0}),
    tts("tts-null-required", say(None, None)),
    tts("tts-nan-pitch", None, raw=b'{"text":"a","language_code":"en-IN","pitch":NaN}'),
    tts("tts-inf-pace", None, raw=b'{"text":"a","language_code":"en-IN","pace":Infinity,'
                                  b'"loudness":-Infinity}'),
    tts("tts-huge-int-pitch", None, raw=b'{"text":"a","language_code":"en-IN","pitch":'
                                        + b"9" * 400 + b"}"),
    tts("tts-inf-rate", None, raw=b'{"text":"a","language_code":"en-IN",'
                                  b'"speech_sample_rate":1e400}'),
    tts("tts-surrogate", None, raw=b'{"text":"\\ud800","language_code":"en-IN"}'),
    tts("tts-surrogate-speaker", None, raw=b'{"text":"a","language_code":"en-IN",'
                                           b'"speaker":"\\udc00"}'),
    tts("tts-not-json", None, raw=b"text=hello"),
    # The model failing, and no inference server.
    tts("tts-model-refuses", say(f"Hello {REFUSE}.")),
    tts("tts-model-refuses-a-chunk", say(f"{SENTENCES[:700]} {REFUSE}.")),
    tts("tts-model-hangs-up", say(f"Hello {HANG_UP}")),
    tts("tts-model-no-rate", say(f"Hello {NORATE}")),
    tts("tts-model-refused-connection", say(), inference="refused"),
    tts("tts-no-inference", say(), inference="none"),
    tts("tts-no-inference-invalid", say(pace=9), inference="none"),
    tts("tts-no-inference-refusal", say(speaker="x"), inference="none"),
    # Billing: keys, refusals, shadow requests.
    tts("tts-no-key", say(), headers={}),
    tts("tts-bad-key", say(), headers={"api-subscription-key": "bad"}),
    tts("tts-broke", say(HINDI, "hi-IN"), headers={"api-subscription-key": "broke"}),
    tts("tts-limited", say(), headers={"api-subscription-key": "limited"}),
    tts("tts-broke-refused-first", say(pace=2.5), headers={"api-subscription-key": "broke"}),
    tts("tts-shadow", say(), headers={**KEY, "x-banyan-shadow": "1"}),
    tts("tts-bearer", say(), headers={"authorization": "Bearer ok"}),
    # Routing.
    tts("tts-get", None, method="GET", content_type=None),
    tts("tts-slash", say(), header_list=[]) | {"path": "/text-to-speech/"},
]
# fmt: on

# Random combinations of valid and invalid field values (a fixed seed: the same cases every
# run), so the order of pydantic's checks, the cross-field rules and their interplay are
# compared on more than the hand-picked cases.
POOL: dict[str, list[Any]] = {
    "text": ["Hi.", "नमस्ते।", "", " ", "a\x00", "\u200b", 7, None, "x" * 1501],
    "language_code": ["en-IN", "hi-IN", "od-IN", "xx", None, 1],
    "speaker": ["anushka", "shubh", "ritu_hi_kids", "Ritu", "nobody", "", 5, "a" * 65],
    "pitch": [-0.75, 0.75, 0, 0.8, -1, "0", True, 1e400],
    "pace": [0.3, 0.5, 2.0, 2.5, 3.0, 3.1, 0, "1"],
    "loudness": [0.3, 3.0, 1, 0.29, 10**400 if False else 12345678901234567890123],
    "speech_sample_rate": [8000, 22050.0, 44100, 48000, 12000, 0, 1.5, "8000", False],
    "model": ["bulbul:v2", "bulbul:v3", "bulbul:v4-flash", "bulbul", None],
    "output_audio_codec": ["wav", "mulaw", "alaw", "linear16", "flac", "opus", "mp3", "x"],
    "temperature": [0.01, 1.0, 0.001, "hot"],
    "enable_preprocessing": [True, False, 0, "true"],
}


def random_cases(n: int) -> list[dict[str, Any]]:
    rng = random.Random(20261204)
    cases = []
    for i in range(n):
        body = {"text": "Hello.", "language_code": "en-IN"}
        for name in rng.sample(sorted(POOL), rng.randint(1, 5)):
            body[name] = rng.choice(POOL[name])
        cases.append(tts(f"tts-random-{i:03d}", body))
    return cases


REQUESTS += random_cases(150)


def main() -> None:
    app = make_app()
    add_speech(app)
    client = TestClient(app, raise_server_exceptions=False, follow_redirects=False)
    out = []
    for case in REQUESTS:
        app.state.inference_url = {"none": None, "refused": "http://refused"}.get(
            case["inference"], INFERENCE
        )
        recorded = record(app, client, case)
        calls, app.state.tts_calls = app.state.tts_calls, []
        out.append({**recorded, "inference": case["inference"], "tts_calls": calls,
                    "flac_samples": flac_samples(recorded)})  # fmt: skip
    target = HERE.parent / "testdata" / "tts_cases.json.gz"
    table = json.dumps(out, ensure_ascii=False, indent=1) + "\n"
    target.write_bytes(gzip.compress(table.encode("utf-8"), 9, mtime=0))
    print(f"wrote {target}: {len(out)} cases")


if __name__ == "__main__":
    main()

"""Write ../testdata/stt_cases.json.gz: legacy's answers on POST /speech-to-text, for replay.

Runs legacy/stt_api.py's router in the app gen_http_cases.py builds (legacy's error handlers,
commerce, request ids, a fake ledger that records decimal quantities), with the inference
server's real /v1/asr route in process (legacy/inference/asr.py, no latency), and records per
case what gen_http_cases.py records plus every recognition call: its query, the SHA-256 of its
audio, and what the model answered. The Go test replays each case against the candidate with a
fake inference server that answers those calls the same way.

Request bodies are multipart forms built here byte for byte; the audio files they carry are
stored once (``audio``) and spliced in where a body holds ``@@AUDIO:<name>@@``. A case's
"inference" says how the inference server behaves: "none" (no URL: 503), "refused" (nothing
listens), "refuse" (every call answered 500), "refuse-second" (the second call 500), "hangup"
(the connection closed without an answer), "garbage" (200 that is not JSON); absent, it
answers.

    .venv/bin/python candidate/internal/httpapi/gen/gen_stt_cases.py
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import struct
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "vad" / "gen"))

import av  # noqa: E402
import httpx  # noqa: E402
import numpy as np  # noqa: E402
from av.audio.stream import AudioStream  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from gen_http_cases import KEY, FakeBilling, make_app, record  # noqa: E402
from speech import silence, speak  # noqa: E402

from legacy.inference.asr import Recognizer, asr_router  # noqa: E402
from legacy.inference.profiles import LatencyProfile  # noqa: E402
from legacy.stt_api import stt_router  # noqa: E402

INFERENCE = "http://inference"
BOUNDARY = "sttcaseboundary"
MIB = 1 << 20


class DecimalBilling(FakeBilling):
    """The fake ledger, recording quantities as the decimal strings the internal API takes."""

    async def authorize(self, **kw: Any) -> Any:
        try:
            return await super().authorize(**kw)
        finally:
            self.calls[-1]["quantity"] = str(kw["quantity"])

    async def settle(self, reservation_id: str, **kw: Any) -> None:
        await super().settle(reservation_id, **kw)
        self.calls[-1]["quantity"] = str(kw["quantity"])


def add_stt(app: FastAPI) -> None:
    """legacy's /speech-to-text on app, calling the inference server's /v1/asr in process."""
    app.include_router(stt_router)
    app.state.billing = DecimalBilling()
    model = FastAPI()
    model.include_router(asr_router(Recognizer(), max_seconds=20.0, latency=LatencyProfile()))
    server = httpx.AsyncClient(transport=httpx.ASGITransport(app=model), base_url=INFERENCE)
    app.state.asr_calls = []
    app.state.asr_entered = 0
    app.state.behaviour = ""

    async def inference(request: httpx.Request) -> httpx.Response:
        behaviour: str = app.state.behaviour
        if request.url.host == "refused":
            raise httpx.ConnectError("All connection attempts failed", request=request)
        body = request.read()
        call = {
            "language": request.url.params.get("language"),
            "mode": request.url.params.get("mode"),
            "keyterms": request.url.params.get_list("keyterm"),
            "sha256": hashlib.sha256(body).hexdigest(),
            "bytes": len(body),
        }
        calls: list[dict[str, Any]] = app.state.asr_calls
        app.state.asr_entered += 1
        if behaviour == "hangup":
            calls.append({"call": call, "hang_up": True})
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        if behaviour == "refuse" or (behaviour == "refuse-second" and app.state.asr_entered == 2):
            answer = httpx.Response(500, json={"error": {"message": "the model crashed"}})
        elif behaviour == "garbage":
            answer = httpx.Response(200, content=b"<html>not json</html>")
        else:
            answer = await server.post(request.url.path, params=request.url.params,
                                       content=body, headers=request.headers)  # fmt: skip
        calls.append({"call": call, "status": answer.status_code, "body": answer.text})
        return httpx.Response(answer.status_code, content=answer.content,
                              headers={"content-type": "application/json"})  # fmt: skip

    app.state.inference = httpx.AsyncClient(transport=httpx.MockTransport(inference))


def wav(pcm: bytes, rate: int = 16000, channels: int = 1, bits: int = 16, tag: int = 1) -> bytes:
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(pcm)) + pcm
    return b"RIFF" + struct.pack("<I", len(body)) + body


def to_format(pcm16: bytes, rate: int, channels: int, fmt: str) -> bytes:
    """16 kHz mono speech as another WAV, through PyAV (a format conversion legacy reads back)."""
    samples = np.frombuffer(pcm16, dtype="<i2")
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = 16000
    layout = {1: "mono", 2: "stereo"}[channels]
    codec = {"s16": "pcm_s16le", "u8": "pcm_u8", "mulaw": "pcm_mulaw", "f32": "pcm_f32le"}[fmt]
    resampler = av.AudioResampler(
        format={"s16": "s16", "u8": "u8", "mulaw": "s16", "f32": "flt"}[fmt], layout=layout,
        rate=rate,
    )  # fmt: skip
    out = io.BytesIO()
    with av.open(out, "w", format="wav", options={"fflags": "+bitexact"}) as c:
        stream = c.add_stream(codec, rate=rate, layout=layout)
        assert isinstance(stream, AudioStream)
        for f in [*resampler.resample(frame), *resampler.resample(None)]:
            for packet in stream.encode(f):
                c.mux(packet)
        for packet in stream.encode(None):
            c.mux(packet)
    return out.getvalue()


def mp3(pcm16: bytes) -> bytes:
    samples = np.frombuffer(pcm16, dtype="<i2")
    out = io.BytesIO()
    with av.open(out, "w", format="mp3", options={"fflags": "+bitexact"}) as c:
        stream = c.add_stream("libmp3lame", rate=16000, layout="mono")
        assert isinstance(stream, AudioStream)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = 16000
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            c.mux(packet)
    return out.getvalue()


def buzz(seconds: float) -> bytes:
    """Continuous voiced sound (harmonics of 160 Hz, modulated every 0.3 s): periodic, so it
    compresses, and one VAD segment however long."""
    n = int(16000 * seconds)
    t = np.arange(n)
    base = sum(np.sin(2 * np.pi * 160 * k * t / 16000) / k for k in range(1, 8))
    envelope = 0.55 + 0.45 * np.sin(2 * np.pi * t / 4800)
    return (base * envelope * 6000).astype("<i2").tobytes()


def part(name: str, value: bytes, filename: str | None = None,
         content_type: str | None = None) -> bytes:  # fmt: skip
    disposition = f'form-data; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    head = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
    if content_type:
        head += f"Content-Type: {content_type}\r\n"
    return head.encode() + b"\r\n" + value + b"\r\n"


def form(fields: list[tuple[str, str]] | None = None, audio: str | None = "speech",
         filename: str = "a.wav", *, extra: bytes = b"") -> bytes:  # fmt: skip
    body = b""
    if audio is not None:
        body += part("file", f"@@AUDIO:{audio}@@".encode(), filename, "audio/wav")
    for name, value in fields or []:
        body += part(name, value.encode())
    return body + extra + f"--{BOUNDARY}--\r\n".encode()


MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
MP3_DIVERGENCE = "MP3 is not decoded by the candidate: 501, and the proxy keeps it on legacy"


def stt(name: str, body: bytes, *, content_type: str | None = MULTIPART, inference: str = "",
        headers: dict[str, str] | None = None, method: str = "POST", path: str = "/speech-to-text",
        declared: int | None = None, divergence: str = "") -> dict[str, Any]:  # fmt: skip
    hs: list[tuple[str, str]] = [("x-request-id", f"case-{name}")]
    if content_type is not None:
        hs.append(("content-type", content_type))
    hs += list((headers if headers is not None else KEY).items())
    if declared is not None:
        hs.append(("content-length", str(declared)))
    case = {"name": name, "method": method, "path": path, "headers": hs, "body": body,
            "inference": inference}  # fmt: skip
    if divergence:
        case["divergence"] = divergence
    return case


def lang(code: str = "hi-IN", **more: str) -> list[tuple[str, str]]:
    return [("language_code", code), *more.items()]


def malformed() -> list[dict[str, Any]]:
    """Multipart bodies python-multipart reads leniently or refuses, and content types."""
    b = BOUNDARY
    good = form(lang())
    close = f"--{b}--\r\n".encode()
    header_only = f'--{b}\r\nContent-Disposition: form-data; name="language_code"\r\n\r\n'
    bodies = {
        "only-close": close,
        "no-close": good[: -len(close)],
        "preamble": b"junk\r\n" + good,
        "leading-crlf": b"\r\n" + good,
        "lf-only": good.replace(b"\r\n", b"\n"),
        "epilogue": good + b"epilogue",
        "no-final-crlf": good[:-2],
        "other-boundary": good.replace(b.encode(), b"zzz"),
        "no-disposition": f"--{b}\r\nContent-Type: text/plain\r\n\r\nabc\r\n".encode()
        + good[len(b) + 4 :],
        "no-name": f'--{b}\r\nContent-Disposition: form-data; filename="a"\r\n\r\nabc\r\n'.encode()
        + close,
        "bad-header": f"--{b}\r\nnot a header\r\n\r\nabc\r\n".encode() + close,
        "unquoted": good.replace(b'name="file"; filename="a.wav"', b"name=file; filename=a.wav"),
        "latin1-value": header_only.encode() + b"hi-IN\xff\r\n" + good,
        "boundary-in-data": form(lang()).replace(
            b"@@AUDIO:speech@@", b"@@AUDIO:speech@@\r\n--" + b.encode() + b"x"
        ),
    }  # fmt: skip
    cases = [stt(f"stt-multipart-{name}", body) for name, body in bodies.items()]
    for name, ctype in (("quoted-boundary", f'multipart/form-data; boundary="{b}"'),
                        ("upper-type", f"Multipart/Form-Data; boundary={b}"),
                        ("mixed", f"multipart/mixed; boundary={b}"),
                        ("charset", f"multipart/form-data; charset=utf-8; boundary={b}"),
                        ("no-space", f"multipart/form-data;boundary={b}")):  # fmt: skip
        cases.append(stt(f"stt-content-type-{name}", good, content_type=ctype))
    return cases


def build_audio() -> dict[str, bytes]:
    en, hi, word = speak([
        ("en", "Hello there, how are you today?"),
        ("hi", "नमस्ते, आप कैसे हैं?"),
        ("en", "Yes."),
    ])  # fmt: skip
    speech = silence(0.5) + en + silence(0.8) + hi + silence(0.6)
    word_pcm = word[: 4800 * 2]  # 0.3 s, a multiple of 3 bytes with the silence after it
    many = (word_pcm + silence(0.39)) * 8
    return {
        "speech": wav(speech),
        "speech-raw": speech,
        "long-pause": wav(silence(0.3) + hi + silence(3.2) + en + silence(0.3)),
        "silence": wav(silence(1.2)),
        "many": wav(many),
        "buzz": wav(buzz(23.0)),
        "tiny": wav(silence(0.05)),
        "stereo": to_format(hi + silence(0.3), 16000, 2, "s16"),
        "u8-8k": to_format(en, 8000, 1, "u8"),
        "mulaw": to_format(hi, 16000, 1, "mulaw"),
        "s16-44k": to_format(en[: 16000 * 2], 44100, 1, "s16"),
        "mp3": mp3(en),
        "empty": b"",
        "garbage": b"RIFF" + b"\0" * 400,
        "edge-30": wav(silence(30.0)),
        "over-30": wav(silence(30.0) + b"\0\0"),
        "raw-31": b"\0\1" * 16000 * 31,
    }


def requests() -> list[dict[str, Any]]:
    terms = json.dumps(["Sarvam", "Mumbai"])
    bad = [("model", "saaras:v9"), ("mode", "sing"), ("language_code", "xx-IN"),
           ("with_timestamps", "maybe"), ("input_audio_codec", "ogg2")]  # fmt: skip
    return [
        # Answers.
        stt("stt-ok", form(lang(with_timestamps="true"))),
        stt("stt-detect", form([("with_timestamps", "true")])),
        stt("stt-unknown", form(lang("unknown", with_timestamps="false"))),
        stt("stt-bare", form()),
        stt("stt-translate", form(lang(mode="translate"))),
        stt("stt-verbatim", form(lang(mode="verbatim"))),
        stt("stt-translit", form(lang(mode="translit", with_timestamps="true"))),
        stt("stt-codemix", form(lang("en-IN", mode="codemix"))),
        stt("stt-keyterms", form(lang("en-IN", model="saaras:v4", keyterms=terms))),
        stt("stt-keyterms-detect", form([("model", "saaras:v4"), ("keyterms", terms)])),
        stt("stt-saarika", form(lang("ta-IN", model="saarika:v2.5"))),
        stt(
            "stt-nulls",
            form(
                [
                    ("model", "null"),
                    ("mode", "null"),
                    ("language_code", "null"),
                    ("with_timestamps", "null"),
                    ("input_audio_codec", "null"),
                    ("keyterms", "null"),
                ]
            ),
        ),
        stt(
            "stt-empty-values",
            form(
                [
                    ("model", ""),
                    ("mode", ""),
                    ("language_code", ""),
                    ("with_timestamps", ""),
                    ("keyterms", ""),
                ]
            ),
        ),
        stt("stt-bool-1", form(lang(with_timestamps="1"))),
        stt("stt-bool-yes", form(lang(with_timestamps="YES"))),
        stt("stt-bool-on", form(lang(with_timestamps="on"))),
        stt("stt-bool-off", form(lang(with_timestamps="off"))),
        stt("stt-bool-F", form(lang(with_timestamps="F"))),
        stt("stt-bool-n", form(lang(with_timestamps="n"))),
        stt("stt-keyterms-empty-list", form(lang(keyterms="[]"))),
        stt("stt-keyterms-blank", form(lang(keyterms="  "))),
        stt("stt-keyterms-null-spaced", form(lang(keyterms=" null "))),
        stt("stt-repeated-field", form([("language_code", "xx"), ("language_code", "bn-IN")])),
        stt("stt-silence", form(lang(with_timestamps="true"), "silence")),
        stt("stt-silence-detect", form([], "silence")),
        stt("stt-long-pause", form(lang(with_timestamps="true"), "long-pause")),
        stt("stt-many", form([("with_timestamps", "true")], "many")),
        stt("stt-buzz-over-20s", form(lang("en-IN", with_timestamps="true"), "buzz")),
        stt("stt-stereo", form(lang(with_timestamps="true"), "stereo")),
        stt("stt-u8-8k", form(lang("en-IN"), "u8-8k")),
        stt("stt-mulaw", form(lang(), "mulaw")),
        stt("stt-s16-44k", form(lang("en-IN"), "s16-44k")),
        stt("stt-raw-pcm", form(lang(input_audio_codec="pcm_s16le"), "speech-raw", "a.raw")),
        stt("stt-raw-l16", form(lang(input_audio_codec="pcm_l16"), "speech-raw", "a.raw")),
        stt("stt-mislabelled", form(lang(input_audio_codec="mp3"))),
        stt("stt-edge-30", form(lang(), "edge-30")),
        stt("stt-file-no-type", form(lang()).replace(b"Content-Type: audio/wav\r\n", b"")),
        stt("stt-extra-field", form(lang(temperature="0.5", prompt="x"))),
        stt("stt-mp3", form(lang("en-IN"), "mp3"), divergence=MP3_DIVERGENCE),
        # Audio refused (400).
        stt("stt-empty-file", form(lang(), "empty")),
        stt("stt-garbage", form(lang(), "garbage")),
        stt("stt-tiny", form(lang(), "tiny")),
        stt("stt-over-30", form(lang(), "over-30")),
        stt("stt-raw-31", form(lang(input_audio_codec="pcm_raw"), "raw-31", "a.raw")),
        stt("stt-raw-odd", form(lang(input_audio_codec="pcm_s16le"), "tiny", "a.raw")),
        # keyterms (400).
        stt("stt-keyterms-not-json", form(lang(keyterms="[not json"))),
        stt("stt-keyterms-object", form(lang(model="saaras:v4", keyterms='{"a": 1}'))),
        stt("stt-keyterms-numbers", form(lang(model="saaras:v4", keyterms="[1, 2]"))),
        stt("stt-keyterms-word", form(lang(model="saaras:v4", keyterms="Sarvam"))),
        stt("stt-keyterms-51", form(lang(model="saaras:v4", keyterms=json.dumps(["x"] * 51)))),
        stt("stt-keyterms-65", form(lang(model="saaras:v4", keyterms=json.dumps(["y" * 65])))),
        stt(
            "stt-keyterms-long-80", form(lang(model="saaras:v4", keyterms=json.dumps(["ई" * 100])))
        ),
        stt("stt-keyterms-space", form(lang(model="saaras:v4", keyterms='[" "]'))),
        stt(
            "stt-keyterms-quote",
            form(lang(model="saaras:v4", keyterms="[\"it's" + "z" * 70 + '"]')),
        ),
        stt("stt-keyterms-v3", form(lang(keyterms=terms))),
        stt("stt-keyterms-default-model", form([("keyterms", '["Sarvam"]')])),
        stt("stt-keyterms-nan", form(lang(model="saaras:v4", keyterms="NaN"))),
        # Validation (422).
        stt("stt-no-body", b"", content_type=None),
        stt("stt-json-body", b'{"file": "x"}', content_type="application/json"),
        stt(
            "stt-urlencoded",
            b"file=abc&model=saaras%3Av3",
            content_type="application/x-www-form-urlencoded",
        ),
        stt("stt-no-file", form(lang(), None)),
        stt("stt-no-file-bad-model", form([("model", "x")], None)),
        stt("stt-file-as-field", form([("file", "abc")], None)),
        stt("stt-file-empty-filename", form(lang(), filename="")),
        stt("stt-bad-all", form(bad)),
        stt("stt-bad-model", form([("model", "saaras:v2.5")])),
        stt("stt-bad-mode", form([("mode", "Transcribe")])),
        stt("stt-bad-language", form([("language_code", "hi")])),
        stt("stt-bad-bool", form([("with_timestamps", "2")])),
        stt("stt-bad-codec", form([("input_audio_codec", "wav2")])),
        stt("stt-model-as-file", form(extra=part("model", b"saaras:v3", "m.txt"))),
        stt("stt-bool-as-file", form(extra=part("with_timestamps", b"true", "t.txt"))),
        stt("stt-keyterms-as-file", form(extra=part("keyterms", b"[]", "k.txt"))),
        stt("stt-no-boundary", form(lang()), content_type="multipart/form-data"),
        stt("stt-garbage-multipart", b"this is not multipart"),
        stt("stt-text-plain", form(lang()), content_type="text/plain"),
        *malformed(),
        # Limits (413) before the body is read.
        stt("stt-declared-over-25", form(lang(), "tiny"), declared=25 * MIB + 1),
        stt("stt-declared-over-limit", form(lang(), "tiny"), declared=26 * MIB),
        # The model failing, and no inference server.
        stt("stt-no-inference", form(lang()), inference="none"),
        stt("stt-no-inference-invalid", form([("mode", "x")]), inference="none"),
        stt("stt-no-inference-keyterms", form(lang(keyterms="[1]")), inference="none"),
        stt("stt-no-inference-garbage", form(lang(), "garbage"), inference="none"),
        stt("stt-model-refused-connection", form(lang()), inference="refused"),
        stt("stt-model-refuses", form(lang()), inference="refuse"),
        stt("stt-model-refuses-detect", form([]), inference="refuse"),
        stt("stt-model-refuses-second", form(lang()), inference="refuse-second"),
        stt("stt-model-hangs-up", form(lang()), inference="hangup"),
        stt("stt-model-garbage", form(lang()), inference="garbage"),
        stt("stt-model-silence-no-call", form(lang(), "silence"), inference="refuse"),
        # Billing: keys, refusals, shadow requests; refusals of the audio come first.
        stt("stt-no-key", form(lang()), headers={}),
        stt("stt-bad-key", form(lang()), headers={"api-subscription-key": "bad"}),
        stt("stt-broke", form(lang()), headers={"api-subscription-key": "broke"}),
        stt("stt-limited", form(lang()), headers={"api-subscription-key": "limited"}),
        stt(
            "stt-broke-garbage", form(lang(), "garbage"), headers={"api-subscription-key": "broke"}
        ),
        stt("stt-shadow", form(lang()), headers={**KEY, "x-banyan-shadow": "1"}),
        stt("stt-bearer", form(lang()), headers={"authorization": "Bearer ok"}),
        # Routing.
        stt("stt-get", b"", method="GET", content_type=None),
        stt("stt-slash", form(lang()), path="/speech-to-text/"),
        *translate_requests(),
    ]


def translate_requests() -> list[dict[str, Any]]:
    """POST /speech-to-text-translate: its own form (prompt, model saaras:v2.5), the rest shared."""
    path = "/speech-to-text-translate"

    def tr(name: str, body: bytes, **kw: Any) -> dict[str, Any]:
        return stt(f"tr-{name}", body, path=path, **kw)

    return [
        tr("ok", form([("prompt", "A greeting."), ("model", "saaras:v2.5")])),
        tr("bare", form()),
        tr("nulls", form([("prompt", "null"), ("model", "null"), ("input_audio_codec", "null")])),
        tr("empty-values", form([("prompt", ""), ("model", "")])),
        tr("prompt-4000", form([("prompt", "ह" * 4000)])),
        tr("prompt-4001", form([("prompt", "a" * 4001)])),
        tr("prompt-as-file", form(extra=part("prompt", b"hello", "p.txt"))),
        tr("bad-model", form([("model", "saaras:v3")])),
        tr(
            "bad-all",
            form([("model", "x"), ("input_audio_codec", "y"), ("prompt", "z" * 4001)], None),
        ),
        tr("extra-fields", form([("language_code", "xx"), ("keyterms", "[1]"), ("mode", "x")])),
        tr("silence", form([], "silence")),
        tr("long-pause", form([], "long-pause")),
        tr("many", form([], "many")),
        tr("stereo", form([], "stereo")),
        tr("u8-8k", form([], "u8-8k")),
        tr("raw-pcm", form([("input_audio_codec", "pcm_raw")], "speech-raw", "a.raw")),
        tr("mp3", form([], "mp3"), divergence=MP3_DIVERGENCE),
        tr("empty-file", form([], "empty")),
        tr("over-30", form([], "over-30")),
        tr("no-file", form([], None)),
        tr("no-inference", form(), inference="none"),
        tr("model-refuses", form(), inference="refuse"),
        tr("model-hangs-up", form(), inference="hangup"),
        tr("broke", form(), headers={"api-subscription-key": "broke"}),
        tr("shadow", form(), headers={**KEY, "x-banyan-shadow": "1"}),
        tr("declared-over-25", form([], "tiny"), declared=25 * MIB + 10),
        tr("get", b"", method="GET", content_type=None),
    ]


def main() -> None:
    audio = build_audio()
    app = make_app()
    add_stt(app)
    client = TestClient(app, raise_server_exceptions=False, follow_redirects=False)
    out = []
    for case in requests():
        app.state.inference_url = {"none": None, "refused": "http://refused"}.get(
            case["inference"], INFERENCE
        )
        app.state.behaviour = case["inference"]
        body: bytes = case["body"]
        sent = body
        for name, data in audio.items():
            sent = sent.replace(f"@@AUDIO:{name}@@".encode(), data)
        recorded = record(app, client, {**case, "body": sent})
        calls, app.state.asr_calls, app.state.asr_entered = app.state.asr_calls, [], 0
        # Concurrent calls complete in any order: sorted, the file is the same every run.
        calls.sort(key=lambda c: json.dumps(c, sort_keys=True))
        recorded["body"] = base64.b64encode(body).decode()
        extra = {"divergence": case["divergence"]} if "divergence" in case else {}
        out.append({**recorded, "inference": case["inference"], "asr_calls": calls, **extra})
    bodies = [base64.b64decode(c["body"]) for c in out]
    used = {name for name in audio if any(f"@@AUDIO:{name}@@".encode() in b for b in bodies)}
    payload = {"audio": {name: base64.b64encode(audio[name]).decode() for name in sorted(used)},
               "cases": out}  # fmt: skip
    target = HERE.parent / "testdata" / "stt_cases.json.gz"
    target.write_bytes(gzip.compress(json.dumps(payload, ensure_ascii=False, indent=0).encode(),
                                     mtime=0))  # fmt: skip
    print(f"wrote {target}: {len(out)} cases, {len(used)} audio files")


if __name__ == "__main__":
    main()

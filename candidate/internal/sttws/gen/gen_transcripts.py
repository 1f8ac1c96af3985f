"""Write ../testdata/transcripts.json.gz: whole /speech-to-text/ws and
/speech-to-text-translate/ws sessions run by legacy's code, for the Go tests to replay.

    .venv/bin/python candidate/internal/sttws/gen/gen_transcripts.py

Each script is a route, a query and a list of client frames. Legacy's real route function
runs it (query parsing, keyterms, ``_serve``: its real ``UtteranceStream``, decoding, real
``MeteredSession`` over a ledger that records extend/settle/release and refuses to hold past
a limit, real ``fit_to_context`` and ``transcribe``); the stand-ins are the WebSocket, the
handshake's authorization (``open_session``) and the inference server (``httpx.MockTransport``)
whose answer is a function of the piece (see ``asr_answer``, which the Go test's model
reproduces). ``time`` is frozen, so ``occured_at`` and ``processing_latency`` are constants.

Audio frames are stored as recipes, not bytes: ``{"signal", "from", "to", "wrap"}`` takes
samples [from, to) of a signal of ../../vad/testdata/cases.json.gz and sends them raw or as a
WAV file (44-byte header; ``wav22050`` labels the same samples 22050 Hz, so the server
resamples them); the Go test builds the same frame. The client waits for the server to go
quiet before each next frame, so the order of what the server sends is deterministic.
Recorded per frame: every server message and close; then the ledger calls.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import json
import struct
import sys
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from uuid import UUID

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[3]))

import httpx  # noqa: E402
from starlette.websockets import WebSocketState  # noqa: E402

import legacy.realtime as realtime  # noqa: E402
import legacy.stt_ws as stt_ws  # noqa: E402
from legacy.commerce.billing import Authorization, Tenant  # noqa: E402
from legacy.commerce.errors import InsufficientQuota  # noqa: E402
from legacy.realtime import MeteredSession  # noqa: E402

OUT = HERE.parent / "testdata"
SIGNALS = HERE.parents[1] / "vad" / "testdata" / "cases.json.gz"
REQUEST_ID = "rid-stt-transcript"
RESERVATION = UUID("00000000-0000-0000-0000-000000000003")
NOW = 1764806400.5  # time.time() while the scripts run


def asr_answer(params: list[tuple[str, str]], pcm: bytes) -> httpx.Response:
    """The stand-in recognition model: a transcript naming the call and the audio; with
    language "unknown", hi-IN detected (probability 0.8125) on pieces of at least 8000
    samples, nothing detected on shorter ones; mode codemix fails every call (503)."""
    query = dict(params)
    language, mode = query["language"], query["mode"]
    if mode == "codemix":
        return httpx.Response(503, json={"detail": "overloaded"})
    terms = ",".join(v for k, v in params if k == "keyterm")
    digest = hashlib.sha256(pcm).hexdigest()[:12]
    answer: dict[str, Any] = {
        "transcript": f"{mode}|{language}|{terms}|{len(pcm) // 2}|{digest}",
        "words": [],
    }
    if language == "unknown":
        detected = len(pcm) // 2 >= 8000
        answer["language_code"] = "hi-IN" if detected else None
        answer["language_probability"] = 0.8125 if detected else None
    else:
        answer["language_code"] = language
    return httpx.Response(200, json=answer)


def inference() -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        return asr_answer(list(request.url.params.multi_items()), request.content)

    return httpx.MockTransport(answer)


class Ledger:
    def __init__(self, limit: Decimal | None) -> None:
        self.limit, self.held = limit, Decimal(10)
        self.calls: list[str] = ["authorize 10"]

    async def extend(self, reservation_id: UUID, quantity: Decimal) -> Decimal:
        self.calls.append(f"extend {quantity}")
        if self.limit is not None and self.held + quantity > self.limit:
            raise InsufficientQuota("the wallet cannot cover more of this stream; top it up")
        self.held += quantity
        return self.held

    async def settle(self, reservation_id: UUID, *, unit: str, quantity: Decimal) -> None:
        self.calls.append(f"settle {quantity}")

    async def release(self, reservation_id: UUID) -> None:
        self.calls.append("release")


def wav(pcm: bytes, rate: int) -> bytes:
    header = b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVEfmt "
    header += struct.pack("<IHHIIHH", 16, 1, 1, rate, 2 * rate, 2, 16)
    return header + b"data" + struct.pack("<I", len(pcm)) + pcm


def build(frame: Any, signals: dict[str, bytes]) -> str | bytes:
    """A frame recipe as the bytes or text the client sends."""
    if not isinstance(frame, dict) or "signal" not in frame:
        return frame if isinstance(frame, str) else base64.b64decode(frame["binary"])
    name = frame["signal"]
    pcm = signals["noise-loud"] * 17 if name == "noise-loud-25s" else signals[name]
    data = pcm[frame["from"] * 2 : frame["to"] * 2]
    if frame.get("odd"):
        data += b"\x7f"
    wrap = frame["wrap"]
    if wrap == "wav":
        data = wav(data, 16000)
    elif wrap == "wav22050":
        data = wav(data, 22050)
    return json.dumps({"audio": {"data": base64.b64encode(data).decode(), "sample_rate": 16000,
                                 "encoding": "audio/wav"}})  # fmt: skip


class Client:
    """Legacy's websocket as the route uses it, driven by a script."""

    def __init__(self, query: dict[str, str], frames: list[str | bytes], limit: Any) -> None:
        self.query_params = query
        self.frames = list(frames)
        self.sent: list[str] = []
        self.closed: list[list[Any]] = []
        self.steps: list[dict[str, Any]] = []
        self.client_state = self.application_state = WebSocketState.CONNECTED
        self.ledger = Ledger(None if limit is None else Decimal(limit))
        self.http = httpx.AsyncClient(transport=inference())
        self.app = SimpleNamespace(state=SimpleNamespace(
            inference_url="http://inference", inference=self.http))  # fmt: skip
        self.refused: list[Any] = []

    async def quiet(self) -> None:
        """Until the server has nothing left to do for what it was sent."""
        stable = 0
        last = (-1, -1)
        while stable < 200:
            await asyncio.sleep(0)
            now = (len(self.sent), len(self.closed))
            stable = stable + 1 if now == last else 0
            last = now

    def record(self) -> None:
        self.steps.append({"sent": self.sent, "closed": self.closed})
        self.sent, self.closed = [], []

    async def receive(self) -> dict[str, Any]:
        await self.quiet()
        if self.steps or self.sent or self.closed or getattr(self, "started", False):
            self.record()
        self.started = True
        if not self.frames or self.closed_by_server():
            self.client_state = WebSocketState.DISCONNECTED  # as Starlette's receive() marks it
            return {"type": "websocket.disconnect", "code": 1000}
        frame = self.frames.pop(0)
        if isinstance(frame, bytes):
            return {"type": "websocket.receive", "bytes": frame}
        return {"type": "websocket.receive", "text": frame}

    def closed_by_server(self) -> bool:
        return any(s["closed"] for s in self.steps)

    async def send_text(self, text: str) -> None:
        self.sent.append(text)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed.append([code, reason])
        self.client_state = WebSocketState.DISCONNECTED


async def run(script: dict[str, Any], signals: dict[str, bytes]) -> dict[str, Any]:
    frames = [build(f, signals) for f in script["frames"]]
    client = Client(script["query"], frames, script.get("limit"))

    async def open_session(websocket: Any, *, route: str, unit: str, estimate: Decimal) -> Any:
        tenant = Tenant(RESERVATION, "t", "ab", 60, 1000)
        auth = Authorization(tenant, RESERVATION, REQUEST_ID, {unit: estimate}, False, estimate,
                             None)  # fmt: skip
        client.route = route
        return MeteredSession(client.ledger, auth, estimate)  # type: ignore[arg-type]

    async def refuse(websocket: Any, status: int, message: str, **_: Any) -> None:
        client.refused.append([status, message])

    stt_ws.open_session = open_session  # type: ignore[assignment]
    stt_ws.refuse = refuse  # type: ignore[assignment]
    realtime.refuse = refuse  # type: ignore[assignment]
    clock = SimpleNamespace(time=lambda: NOW, perf_counter=lambda: 5.0)
    stt_ws.time = clock  # type: ignore[assignment]
    endpoint = stt_ws.speech_to_text_ws
    if script["route"] == TRANSLATE:
        endpoint = stt_ws.speech_to_text_translate_ws
    await endpoint(client)  # type: ignore[arg-type]
    await client.http.aclose()
    if client.sent or client.closed:
        client.record()
    return {
        "name": script["name"], "route": script["route"], "query": script["query"],
        "limit": script.get("limit"), "frames": script["frames"], "refused": client.refused,
        "route_billed": getattr(client, "route", None),
        "steps": client.steps, "ledger": client.ledger.calls if not client.refused else [],
    }  # fmt: skip


def audio(signal: str, start: int, end: int, wrap: str = "raw", **extra: Any) -> dict[str, Any]:
    return {"signal": signal, "from": start, "to": end, "wrap": wrap, **extra}


def pieces(signal: str, total: int, size: int, wrap: str = "raw") -> list[dict[str, Any]]:
    return [audio(signal, a, min(a + size, total), wrap) for a in range(0, total, size)]


FLUSH = json.dumps({"type": "flush"})
CONFIG = json.dumps({"type": "config", "prompt": "A friendly greeting."})
PAUSES = 135140  # samples of speech-pauses
RAW = {"language-code": "hi-IN", "input_audio_codec": "pcm_s16le"}

STT, TRANSLATE = "speech-to-text", "speech-to-text-translate"
MISTAKES: list[Any] = [
    "not json", "", "[1, 2]", '"flush"', "null", "{}", '{"type": "Flush"}',
    '{"type": 5}', '{"audio": "x"}', '{"audio": {"data": 5}}', '{"audio": {}}',
    '{"audio": {"data": "%%%"}}', '{"audio": {"data": "abc"}}', '{"audio": {"data": "a"}}',
    '{"audio": {"data": "ab==ab"}}', '{"audio": {"data": "=AAA"}}',
    '{"audio": {"data": "AA=A"}}', '{"audio": {"data": "AAAA="}}',
    '{"audio": {"data": "AAAA\\nAAAA"}}', '{"audio": {"data": ""}}',
    {"binary": base64.b64encode(b"\x00\x01").decode()}, "\ufeff{}",
    '{"type": "config", "audio": {"data": "%"}}', '{"type": "flush", "audio": 5}',
    '{"audio": {"data": "AAAA"}, "type": "ping"}', '{"audio": {"data": "UklGRg=="}}',
    '{"audio": {"data": "UklGRgAAAABXQVZF"}}', '{"a": NaN}', "[" * 50 + "]" * 50,
    audio("speech-loud-clipped", 0, 31662), FLUSH,
]  # fmt: skip


def script(name: str, route: str, query: dict[str, str], frames: list[Any],
           **extra: Any) -> dict[str, Any]:  # fmt: skip
    return {"name": name, "route": route, "query": query, "frames": frames, **extra}


SCRIPTS: list[dict[str, Any]] = [
    script("raw-pieces-vad-signals", STT, {**RAW, "vad_signals": "true"},
           pieces("speech-pauses", PAUSES, 8000)),
    script("raw-high-sensitivity", STT,
           {**RAW, "vad_signals": "true", "high_vad_sensitivity": "true"},
           pieces("speech-short-pauses", 83451, 4800)),
    script("wav-pieces-unknown-language", STT, {"vad_signals": "true"},
           [audio("odd-tail", 0, 6172, "wav"), FLUSH,
            *pieces("speech-pauses", PAUSES, 16000, "wav")]),
    script("wav-22050-and-raw-mixed", STT,
           {"language_code": "ta-IN", "input_audio_codec": "pcm_raw", "vad_signals": "true"},
           [audio("speech-in-noise", 0, 30000, "wav22050"),
            audio("speech-in-noise", 30000, 64000)]),
    script("flush-mid-utterance", STT, {**RAW, "vad_signals": "true"},
           [audio("speech-pauses", 0, 30000), FLUSH, FLUSH, audio("speech-pauses", 30000, 60000),
            FLUSH, audio("speech-pauses", 60000, PAUSES), FLUSH]),
    script("odd-byte-messages", STT, RAW,
           [audio("speech-loud-clipped", a, a + 3001, odd=True) for a in range(0, 31662, 3001)]),
    script("context-cut-25s", STT, {**RAW, "vad_signals": "true"},
           pieces("noise-loud-25s", 408000, 32000)),
    script("wav-over-20s", STT, {"language-code": "en-IN"},
           [audio("noise-loud-25s", 0, 330000, "wav"),
            audio("speech-loud-clipped", 0, 31662, "wav")]),
    script("keyterms-and-mode", STT,
           {**RAW, "model": "saaras:v4", "mode": "verbatim", "keyterms": '["Sarvam", "Jaipur"]'},
           pieces("speech-pauses", PAUSES, 32000)),
    script("model-fails", STT, {**RAW, "mode": "codemix"},
           [*pieces("speech-pauses", PAUSES, 32000), FLUSH]),
    script("translate", TRANSLATE, {"input_audio_codec": "pcm_l16", "vad_signals": "true"},
           [CONFIG, *pieces("speech-pauses", PAUSES, 16000)]),
    script("translate-wav", TRANSLATE, {}, [audio("speech-quiet", 0, 34404, "wav"), FLUSH]),
    script("mistakes", STT, {**RAW, "vad_signals": "true"}, MISTAKES),
    script("mistakes-wav", STT, {"language-code": "hi-IN"},
           ['{"audio": {"data": ""}}', '{"audio": {"data": "AAAA"}}',
            '{"audio": {"data": "UklGRgAAAABXQVZF"}}', audio("speech-loud-clipped", 0, 0, "wav"),
            audio("speech-loud-clipped", 0, 31662, "wav")]),
    script("wallet-runs-out", STT, RAW, pieces("speech-pauses", PAUSES, 48000) * 3, limit="25"),
    script("too-long", STT, RAW,
           [audio("speech-loud-clipped", 0, 16000), "x" * (1 << 20) + "\u0905", FLUSH]),
    script("just-long-enough", STT, RAW, ["\u0905" * (1 << 20), FLUSH]),
    script("nothing-sent", STT, {}, []),
    script("only-mistakes-release", TRANSLATE, {}, ["nope", FLUSH, CONFIG]),
    script("bad-keyterms", STT, {"keyterms": '["a"]', "model": "saaras:v3"}, []),
    script("bad-query", STT, {"language-code": "xx", "sample_rate": "44100"}, []),
]  # fmt: skip


def main() -> None:
    signals = {c["name"]: base64.b64decode(c["pcm"])
               for c in json.loads(gzip.decompress(SIGNALS.read_bytes()))}  # fmt: skip
    transcripts = [asyncio.run(run(s, signals)) for s in SCRIPTS]
    target = OUT / "transcripts.json.gz"
    OUT.mkdir(exist_ok=True)
    raw = json.dumps(transcripts, indent=1, ensure_ascii=False).encode()
    target.write_bytes(gzip.compress(raw, mtime=0))
    sent = sum(len(step["sent"]) for t in transcripts for step in t["steps"])
    print(f"wrote {target}: {len(transcripts)} sessions, {sent} server messages")


if __name__ == "__main__":
    main()

"""Write ../testdata/query_cases.json and ../testdata/base64_cases.json: legacy/stt_ws.py's
answers, for the Go tests to replay.

    .venv/bin/python candidate/internal/sttws/gen/gen_cases.py

* ``query_cases.json``: raw query strings through each route's handshake (Starlette's real
  ``WebSocket`` for the query string's decoding, legacy's ``parse_query``, ``parse_keyterms``
  and the 503 of a platform without an inference URL): the denial legacy sends (status,
  body), and for a query that validates, the fields the session runs with.
* ``base64_cases.json``: ``base64.b64decode(s, validate=True)`` on strings around every rule
  of binascii's strict mode: the bytes, or the error message the session sends after
  "audio.data: " (a plain ``ValueError`` for a str that is not ASCII).
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
from collections.abc import MutableMapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[3]))

from starlette.websockets import WebSocket  # noqa: E402

from legacy.stt_ws import (  # noqa: E402
    SttTranslateWsQuery,
    SttWsQuery,
    speech_to_text_translate_ws,
    speech_to_text_ws,
)

OUT = HERE.parent / "testdata"
REQUEST_ID = "rid-sttws-query"

QUERIES = [
    "", "language-code=hi-IN", "language_code=hi-IN", "language-code=xx-IN", "language_code=xx",
    "language_code=xx&language-code=hi-IN", "language_code=hi-IN&language-code=xx",
    "language-code=unknown", "language-code=", "language-code", "language-code=HI-IN",
    "language-code=kok-IN&model=saaras:v3", "model=saaras:v4", "model=saarika:v2.5",
    "model=saaras:v2.5", "model=", "mode=translate", "mode=codemix", "mode=Translate",
    "sample_rate=8000", "sample_rate=16000", "sample_rate=44100", "sample_rate=8000.0",
    "input_audio_codec=pcm_s16le", "input_audio_codec=pcm_l16&sample_rate=8000",
    "input_audio_codec=pcm_raw", "input_audio_codec=mp3", "input_audio_codec=wav&sample_rate=8000",
    "high_vad_sensitivity=true", "high_vad_sensitivity=True", "high_vad_sensitivity=1",
    "high_vad_sensitivity=false", "vad_signals=true", "vad_signals=yes", "vad_signals=",
    "flush_signal=true", "flush_signal=on", "flush_signal=false&vad_signals=false",
    "model=x&mode=y&sample_rate=1&input_audio_codec=z&high_vad_sensitivity=t&vad_signals=f"
    "&flush_signal=n&language-code=q",
    "keyterms=", "keyterms=null", "keyterms=%20null%20", "keyterms=%5B%22Sarvam%22%5D",
    "keyterms=%5B%22Sarvam%22%5D&model=saaras:v4", "keyterms=%5B%22Sarvam%22%5D&model=saaras:v3",
    "keyterms=Sarvam", "keyterms=%5B1%5D", "keyterms=%5B%22%20%22%5D&model=saaras:v4",
    "keyterms=%5B%5D&model=saaras:v3", "keyterms=%5B%22it's%22%5D&model=saarika:v2.5",
    "keyterms=%5B%22" + "x" * 65 + "%22%5D", "keyterms=%5B" + "%22a%22," * 50 + "%22a%22%5D",
    "keyterms=%5B%22a%22%5D&model=bad", "language-code=hi-IN&extra=1&Model=x",
    "language-code=hi-IN&language-code=en-IN", "language-code=hi%2DIN", "language-code=hi-IN+",
    "input_audio_codec=pcm_s16le&sample_rate=8000&vad_signals=true&high_vad_sensitivity=true",
]  # fmt: skip

B64 = [
    "", "AAAA", "AAA=", "AA==", "AAAA=", "AAAA==", "AAAA===", "AA=", "A", "A=", "A==", "A===",
    "AAAAA", "AAAAAA", "AAAAAAA", "AAAAAAAA", "=", "==", "=AAA", "AA=A", "AA==A", "AAA=A",
    "AAA==", "AAA=A=", "AA==AA==", "AA== ", " AAAA", "AAAA\n", "AA\nAA", "AA-_", "AA+/",
    "%%%", "AAAA%", "YWJj", "YWJjZA==", "YWJjZA=", "YWJjZA", "YWJjZGU=", "YWJjZGVm",
    "////", "++++", "UklGRg==", "AAAAAAAAA", "AAAAAAAAAA=", "AAAAAAAAA===", "AB=C=", "A=B",
    "AAA=\x00", "\x00", "AAAA\t", "é", "AAAAé", "\u0905\u0906", "AA==é", "\ud800",
]  # fmt: skip


class Capture:
    """The ASGI side of one handshake: what the app sent."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(self, message: MutableMapping[str, Any]) -> None:
        self.sent.append(dict(message))

    def denial(self) -> dict[str, Any]:
        start = next(m for m in self.sent if m["type"] == "websocket.http.response.start")
        body = b"".join(
            m.get("body", b"") for m in self.sent if m["type"] == "websocket.http.response.body"
        )
        return {"status": start["status"], "body": body.decode()}


async def query_case(route: str, raw: str) -> dict[str, Any]:
    capture = Capture()
    app = SimpleNamespace(state=SimpleNamespace(inference_url=None))
    scope = {
        "type": "websocket", "path": f"/{route}/ws", "raw_path": f"/{route}/ws".encode(),
        "query_string": raw.encode("latin-1"), "headers": [], "subprotocols": [],
        "state": {"request_id": REQUEST_ID}, "extensions": {"websocket.http.response": {}},
        "app": app,
    }  # fmt: skip
    websocket = WebSocket(scope, capture.receive, capture.send)
    endpoint = speech_to_text_ws if route == "speech-to-text" else speech_to_text_translate_ws
    await endpoint(websocket)
    case: dict[str, Any] = {"route": route, "query": raw, "refusal": capture.denial()}
    if case["refusal"]["status"] == 503:
        model = SttWsQuery if route == "speech-to-text" else SttTranslateWsQuery
        case["fields"] = model.model_validate(dict(websocket.query_params)).model_dump()
    return case


def base64_case(text: str) -> dict[str, Any]:
    try:
        return {"data": text, "bytes": base64.b64decode(text, validate=True).hex()}
    except ValueError as exc:  # binascii.Error, or a str that is not ASCII
        return {"data": text, "error": str(exc)}


def one_per_line(cases: list[dict[str, Any]], *, ascii_only: bool = False) -> str:
    """A JSON array with one case per line: a regenerated table's diff shows whole cases, and
    a hundred cases are a hundred lines, not fifteen hundred."""
    return "[\n" + ",\n".join(json.dumps(c, ensure_ascii=ascii_only) for c in cases) + "\n]\n"


def main() -> None:
    OUT.mkdir(exist_ok=True)
    queries = [
        asyncio.run(query_case(route, raw))
        for route in ("speech-to-text", "speech-to-text-translate")
        for raw in QUERIES
    ]
    (OUT / "query_cases.json").write_text(one_per_line(queries))
    cases = [base64_case(text) for text in B64]
    # ASCII-escaped: some cases are lone surrogates, which UTF-8 cannot carry.
    (OUT / "base64_cases.json").write_text(one_per_line(cases, ascii_only=True))
    print(f"wrote {len(queries)} query cases, {len(cases)} base64 cases to {OUT}")


if __name__ == "__main__":
    main()

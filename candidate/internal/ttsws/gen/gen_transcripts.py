"""Write ../testdata/transcripts.json.gz: whole /text-to-speech/ws sessions run by legacy's code.

    .venv/bin/python candidate/internal/ttsws/gen/gen_transcripts.py

Each script is a query and a list of client frames. Legacy's real ``_Conversation`` runs it
with its real ``MeteredSession`` (over a ledger that records extend/settle/release and
refuses to hold past a limit), real ``speak_chunks`` and ``split_text``, real
``resolve_options``, ``resample``, ``scale`` and WAV encoding; only the inference server is
a stand-in (``httpx.MockTransport``) whose PCM is a function of the chunk's text (see
``pcm_of``), which the Go test's speaker reproduces. The client waits for the server to go
quiet before each next frame, so the order of what the server sends is deterministic, and
leaves after the last one. Recorded: every server frame as sent, the close the server sent,
and the ledger calls.
"""

from __future__ import annotations

import asyncio
import gzip
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

from legacy.commerce.billing import Authorization, Tenant  # noqa: E402
from legacy.commerce.errors import InsufficientQuota  # noqa: E402
from legacy.realtime import MeteredSession  # noqa: E402
from legacy.tts_ws_api import _HOLD_CHARS, TtsWsQuery, _Conversation  # noqa: E402

OUT = HERE.parent / "testdata"
REQUEST_ID = "rid-transcript"
RESERVATION = UUID("00000000-0000-0000-0000-000000000002")
RATE = 16000  # the stand-in model's sample rate, and the voices' (so nothing is resampled)


def speech_of(text: str) -> tuple[bytes, int]:
    """The stand-in model's speech of a chunk and its rate: per code point c, 4 samples of
    c % 30000 at 16 kHz; for a chunk starting with "LONG", 170 samples at 8 kHz (so one
    chunk passes 10 s)."""
    n, rate = (170, 8000) if text.startswith("LONG") else (4, RATE)
    return b"".join(struct.pack("<h", ord(c) % 30000) * n for c in text), rate


def inference() -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        pcm, rate = speech_of(json.loads(request.content)["text"])
        return httpx.Response(200, content=pcm, headers={"x-sample-rate": str(rate)})

    return httpx.MockTransport(answer)


class Ledger:
    def __init__(self, limit: Decimal | None) -> None:
        self.limit, self.held = limit, _HOLD_CHARS
        self.calls: list[str] = []

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


class Client:
    """Legacy's websocket as the conversation uses it, driven by a script."""

    def __init__(self, frames: list[str | bytes]) -> None:
        self.frames = list(frames)
        self.sent: list[str] = []
        self.closed: list[Any] = []
        self.client_state = self.application_state = WebSocketState.CONNECTED
        self.app = SimpleNamespace(state=SimpleNamespace(ws_idle_s=60.0))
        self.conversation: _Conversation | None = None

    async def quiet(self) -> None:
        """Until the server has nothing left to do for what it was sent."""
        assert self.conversation is not None
        while True:
            for _ in range(20):
                await asyncio.sleep(0)
            busy = self.conversation.speaking or not self.conversation.jobs.empty()
            if not busy:
                return
            await asyncio.sleep(0.005)

    async def receive(self) -> dict[str, Any]:
        await self.quiet()
        if not self.frames or self.closed:
            await asyncio.sleep(0.05)
            return {"type": "websocket.disconnect", "code": 1000}
        frame = self.frames.pop(0)
        if isinstance(frame, bytes):
            return {"type": "websocket.receive", "bytes": frame}
        return {"type": "websocket.receive", "text": frame}

    async def send_text(self, text: str) -> None:
        self.sent.append(text)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed.append([code, reason])
        self.client_state = WebSocketState.DISCONNECTED


def config(**fields: Any) -> str:
    return json.dumps({"type": "config", "data": {"language_code": "en-IN", **fields}})


def text(value: str) -> str:
    return json.dumps({"type": "text", "data": {"text": value}}, ensure_ascii=False)


FLUSH = json.dumps({"type": "flush"})
PING = json.dumps({"type": "ping"})
WAV = {"output_audio_codec": "wav", "speech_sample_rate": RATE}
STORY = "Once upon a time there was a small village by the river. " * 8

SCRIPTS: list[dict[str, Any]] = [
    {"name": "buffer-chunks-flush-final", "query": {"send_completion_event": "true"}, "frames": [
        config(**WAV, min_buffer_size=30, max_chunk_length=40), PING, text("Hello there."),
        text(" This is a longer sentence that goes on and on."), text(" The end."), FLUSH]},
    {"name": "mistakes-then-speech", "query": {"send_completion_event": "yes"}, "frames": [
        text("Too early."), b"\x01\x02", FLUSH, config(**WAV, pitch=2), config(**WAV),
        json.dumps({"type": "dance"}), text(""), "nonsense", json.dumps({"type": "it's"}),
        text("नमस्ते दुनिया। आप कैसे हैं?"), FLUSH]},
    {"name": "config-mid-session", "query": {"send_completion_event": "1"}, "frames": [
        config(**WAV, min_buffer_size=1000), text("Still the old voice."),
        config(output_audio_codec="linear16", speech_sample_rate=RATE), text("Now the new one."),
        config(language_code="xx"), text(" Kept after a bad config."), FLUSH]},
    {"name": "flush-empty-and-whitespace", "query": {"send_completion_event": "true"}, "frames": [
        config(**WAV), FLUSH, text("   \n"), FLUSH, text("\u3000"), text("Words."), FLUSH]},
    {"name": "no-completion-event", "query": {}, "frames": [
        config(**WAV), text("A flush without its event."), FLUSH, FLUSH]},
    {"name": "hold-grows", "query": {"send_completion_event": "true"}, "frames": [
        config(**WAV, min_buffer_size=1000, max_chunk_length=500), text(STORY), text(STORY),
        FLUSH, text(STORY * 3), FLUSH]},
    {"name": "wallet-runs-out", "query": {}, "limit": "400", "frames": [
        config(**WAV, min_buffer_size=1000, max_chunk_length=200), text(STORY), FLUSH,
        text("Never spoken."), FLUSH]},
    {"name": "ten-second-pieces", "query": {}, "frames": [
        config(output_audio_codec="wav", speech_sample_rate=8000, max_chunk_length=500),
        text("LONG " + "word " * 99), FLUSH]},
    {"name": "buffer-left-unspoken", "query": {}, "frames": [
        config(**WAV), text("Spoken once it is long enough, past fifty characters."),
        text("Left in the buffer.")]},
]  # fmt: skip


async def run(script: dict[str, Any]) -> dict[str, Any]:
    limit = Decimal(script["limit"]) if "limit" in script else None
    ledger = Ledger(limit)
    tenant = Tenant(RESERVATION, "t", "ab", 60, 1000)
    auth = Authorization(tenant, RESERVATION, REQUEST_ID, {"characters": _HOLD_CHARS}, False,
                         _HOLD_CHARS, None)  # fmt: skip
    client = Client(script["frames"])
    async with httpx.AsyncClient(transport=inference()) as http:
        session = MeteredSession(ledger, auth, _HOLD_CHARS)  # type: ignore[arg-type]
        async with session:
            query = TtsWsQuery.model_validate(script["query"])
            conversation = _Conversation(client, session, query, http, "http://inference")  # type: ignore[arg-type]
            client.conversation = conversation
            await conversation.run()
    frames = [f if isinstance(f, str) else {"binary": f.hex()} for f in script["frames"]]
    return {"name": script["name"], "query": script["query"], "limit": script.get("limit"),
            "frames": frames, "sent": client.sent, "closed": client.closed[0] if client.closed
            else None, "ledger": ledger.calls}  # fmt: skip


async def main() -> None:
    transcripts = [await run(s) for s in SCRIPTS]
    path = OUT / "transcripts.json.gz"
    data = json.dumps(transcripts, ensure_ascii=False, indent=1) + "\n"
    path.write_bytes(gzip.compress(data.encode("utf-8"), 9, mtime=0))
    for t in transcripts:
        print(t["name"], len(t["sent"]), "frames", t["closed"], t["ledger"])


if __name__ == "__main__":
    asyncio.run(main())

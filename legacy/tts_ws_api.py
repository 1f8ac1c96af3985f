"""``/text-to-speech/ws`` (sdk-contract §1.8): text in, audio out, over one WebSocket session.

Query: ``model`` (bulbul:v2 when omitted, see ``legacy/speech/options.py``) and
``send_completion_event``. Handshake auth, refusals and the session's metering are
``legacy/realtime.py``'s. Client messages are JSON text frames:

* ``config`` must come first (anything else before it gets an ``error`` message and is
  dropped). A new config mid-session first sends the buffered text off with the old one.
* ``text`` (1-2500 characters) is buffered; once the buffer holds ``min_buffer_size``
  characters it is synthesized, split into chunks of at most ``max_chunk_length``.
* ``flush`` synthesizes the buffer whatever its size; when the audio of everything before it
  has been sent, an ``event`` ``final`` follows if ``send_completion_event`` is true.
* ``ping`` is a keep-alive and gets no reply (the SDK raises on any other message type).
  A session with no client message for ``IDLE_S`` seconds and no audio left to send is
  closed (1000, reason ``idle``), like the real service's ~60 s; a long synthesis in
  progress is not idleness.

The server sends only ``audio``, ``event`` and ``error`` JSON text frames. Each ``audio``
message is a complete file of the configured codec (one chunk of text, or a ≤10 s piece of a
long chunk), so it plays alone and every frame stays well under the SDK's 1 MiB limit.

Back pressure: the receiving loop hands buffers to the synthesizer through a queue of
``_PENDING_JOBS``; the synthesizer runs at most ``_WINDOW`` chunks ahead and blocks on the
socket's flow control when the client stops reading. So a client that stops reading stops
synthesis, then stops the server reading its messages, and nothing grows without bound.

Billing (route ``text-to-speech-ws``, characters): each chunk's characters are counted when
its audio is about to be sent; the session's hold grows as needed, and a wallet that cannot
cover the next chunk ends the session with an ``error`` (code 402) and close 1008. Buffered
text never synthesized (the client left without a flush) is not billed. The ledger gets one
row per session when it ends.
"""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
from fastapi import APIRouter, WebSocket
from pydantic import BaseModel, Field, ValidationError
from starlette.websockets import WebSocketDisconnect

from banyan.logs import get_logger
from legacy.commerce.errors import InsufficientQuota
from legacy.realtime import MeteredSession, close_quietly, open_session, parse_query, refuse
from legacy.speech.audio import resample, scale
from legacy.speech.codecs import CODECS, Bitrate, CodecName, encode
from legacy.speech.options import InvalidSpeechOptions, SpeechOptions, resolve_options
from legacy.speech.tts import InferenceFailed, SpeechRequest, speak_chunks
from legacy.speech.voices import Model
from legacy.text.scripts import CoreLanguage

__all__ = ["tts_ws_router"]

_log = get_logger(__name__)
_HOLD_CHARS = Decimal(250)  # held when the session opens, and each time usage outgrows it
IDLE_S = 60.0  # app.state.ws_idle_s overrides it (tests)
_PENDING_JOBS = 2  # buffers waiting for the synthesizer before the receiver stops reading
_WINDOW = 2  # chunks synthesized ahead of the socket
_SEGMENT_S = 10  # longest audio in one message: 10 s of 16-bit PCM at 24 kHz is 480 KB


class TtsWsQuery(BaseModel):
    model: Model | None = None
    send_completion_event: bool = False


class TtsConfig(BaseModel):
    """The ``data`` of a config message (the SDK's ``configure()`` sends every field)."""

    language_code: CoreLanguage
    speaker: str | None = Field(default=None, max_length=64)
    pitch: float | None = Field(default=None, ge=-0.75, le=0.75)
    pace: float | None = Field(default=None, ge=0.3, le=3.0)
    loudness: float | None = Field(default=None, ge=0.3, le=3.0)
    speech_sample_rate: int | None = None
    enable_preprocessing: bool | None = None
    output_audio_codec: CodecName | None = None
    output_audio_bitrate: Bitrate | None = None
    min_buffer_size: int = Field(default=50, ge=1, le=1000)
    max_chunk_length: int = Field(default=150, ge=20, le=500)  # the model takes 500 a call
    dict_id: str | None = Field(default=None, max_length=128)
    model: Model | None = None
    temperature: float | None = Field(default=None, ge=0.01, le=1.0)


class _Message(BaseModel):
    type: str
    data: dict[str, Any] | None = None


class _Text(BaseModel):
    text: str = Field(min_length=1, max_length=2500)


@dataclass(frozen=True, slots=True)
class _Voice:
    """A validated config: how buffered text is spoken and encoded."""

    language_code: str
    options: SpeechOptions
    min_buffer_size: int
    max_chunk_length: int


@dataclass(frozen=True, slots=True)
class _Job:
    text: str
    voice: _Voice
    final: bool  # a flush: send the completion event after its audio


class _ProtocolError(Exception):
    """A client message the session answers with an ``error`` message (and otherwise drops)."""

    def __init__(self, message: str, code: int = 400) -> None:
        super().__init__(message)
        self.code = code


class _SessionOver(Exception):
    """The session must end (the wallet ran out); the close has been sent."""


tts_ws_router = APIRouter(tags=["speech"])


@tts_ws_router.websocket("/text-to-speech/ws")
async def text_to_speech_ws(websocket: WebSocket) -> None:
    query = await parse_query(websocket, TtsWsQuery)
    if query is None:
        return
    inference_url: str | None = websocket.app.state.inference_url
    if inference_url is None:
        await refuse(websocket, 503, "speech synthesis is not configured (BANYAN_INFERENCE_URL)")
        return
    session = await open_session(
        websocket, route="text-to-speech-ws", unit="characters", estimate=_HOLD_CHARS
    )
    if session is None:
        return
    async with session:
        conversation = _Conversation(
            websocket, session, query, websocket.app.state.inference, inference_url
        )
        await conversation.run()


@dataclass
class _Conversation:
    websocket: WebSocket
    session: MeteredSession
    query: TtsWsQuery
    client: httpx.AsyncClient
    inference_url: str
    voice: _Voice | None = None
    buffer: str = ""
    jobs: asyncio.Queue[_Job] = field(default_factory=lambda: asyncio.Queue(_PENDING_JOBS))
    sending: asyncio.Lock = field(default_factory=asyncio.Lock)
    speaking: bool = False  # the synthesizer holds a job

    async def run(self) -> None:
        """Until the client leaves or the session must end; the synthesizer never outlives it."""
        synthesizer = asyncio.create_task(self._synthesize_forever())
        receiver = asyncio.create_task(self._receive_forever())
        try:
            await asyncio.wait({synthesizer, receiver}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (synthesizer, receiver):
                task.cancel()
            results = await asyncio.gather(synthesizer, receiver, return_exceptions=True)
        for result in results:
            if isinstance(result, Exception) and not isinstance(
                result, WebSocketDisconnect | _SessionOver | asyncio.CancelledError
            ):
                _log.error("text-to-speech session failed", exc_info=result)

    async def _receive_forever(self) -> None:
        idle_s: float = getattr(self.websocket.app.state, "ws_idle_s", IDLE_S)
        while True:
            try:
                async with asyncio.timeout(idle_s):
                    message = await self.websocket.receive()
            except TimeoutError:
                if self.speaking or not self.jobs.empty():
                    continue  # the client is waiting for audio, not idle
                await close_quietly(self.websocket, 1000, "idle")
                return
            if message["type"] == "websocket.disconnect":
                return
            try:
                await self._handle(message.get("text"))
            except _ProtocolError as exc:
                await self._send_error(str(exc), exc.code)

    async def _handle(self, text: str | None) -> None:
        if text is None:
            raise _ProtocolError("send JSON text frames, not binary ones")
        try:
            message = _Message.model_validate(json.loads(text))
        except (ValueError, ValidationError) as exc:
            raise _ProtocolError(
                'a message is a JSON object {"type": "config" | "text" | "flush" | "ping", '
                '"data": {...}}'
            ) from exc
        if message.type not in ("config", "text", "flush", "ping"):
            raise _ProtocolError(
                f"unknown message type {message.type!r}; use config, text, flush or ping"
            )
        if message.type == "ping":
            return  # keep-alive: no reply, by contract
        if message.type == "config":
            voice = self._configure(message.data or {})
            await self._send_buffer(final=False)  # what was buffered keeps the old config
            self.voice = voice
            return
        if self.voice is None:
            raise _ProtocolError(
                f"the first message must be a config message; {message.type!r} came first"
            )
        if message.type == "text":
            try:
                self.buffer += _Text.model_validate(message.data or {}).text
            except ValidationError as exc:
                raise _ProtocolError(f"text message: {_describe(exc)}") from exc
            if len(self.buffer) >= self.voice.min_buffer_size:
                await self._send_buffer(final=False)
        else:  # flush
            await self._send_buffer(final=True)

    def _configure(self, data: dict[str, Any]) -> _Voice:
        try:
            config = TtsConfig.model_validate(data)
            options = resolve_options(
                surface="ws", model=config.model or self.query.model, speaker=config.speaker,
                pace=config.pace, pitch=config.pitch, loudness=config.loudness,
                sample_rate=config.speech_sample_rate, codec=config.output_audio_codec,
                bitrate=config.output_audio_bitrate,
            )  # fmt: skip
        except ValidationError as exc:
            raise _ProtocolError(f"config message: {_describe(exc)}") from exc
        except InvalidSpeechOptions as exc:
            raise _ProtocolError(f"config message: {exc}") from exc
        return _Voice(
            config.language_code, options, config.min_buffer_size, config.max_chunk_length
        )

    async def _send_buffer(self, *, final: bool) -> None:
        """Queue the buffer for synthesis (a flush even when it is empty, for its event)."""
        if self.voice is None or not (final or self.buffer.strip()):
            return
        job, self.buffer = _Job(self.buffer, self.voice, final), ""
        await self.jobs.put(job)  # blocks while the synthesizer is behind: back pressure

    async def _synthesize_forever(self) -> None:
        while True:
            job = await self.jobs.get()
            self.speaking = True
            try:
                if job.text.strip():
                    await self._speak(job)
                if job.final and self.query.send_completion_event:
                    await self._send({"type": "event", "data": {"event_type": "final"}})
            finally:
                self.speaking = False

    async def _speak(self, job: _Job) -> None:
        options = job.voice.options
        speech = SpeechRequest(
            job.text, job.voice.language_code, options.pace, options.pitch, options.speaker
        )
        chunks = speak_chunks(
            self.client, self.inference_url, speech,
            max_chars=job.voice.max_chunk_length, concurrency=_WINDOW,
        )  # fmt: skip
        try:
            async for chunk in chunks:
                try:
                    await self.session.use(Decimal(len(chunk.text)))
                except InsufficientQuota as exc:
                    await self._send_error(str(exc), 402)
                    await close_quietly(self.websocket, 1008, "insufficient quota")
                    raise _SessionOver from exc
                pcm = resample(chunk.pcm, chunk.sample_rate, options.sample_rate)
                await self._send_audio(scale(pcm, options.loudness), options)
        except InferenceFailed as exc:
            await self._send_error(str(exc), 502)
        finally:
            await chunks.aclose()

    async def _send_audio(self, pcm: bytes, options: SpeechOptions) -> None:
        step = 2 * options.sample_rate * _SEGMENT_S
        content_type = CODECS[options.codec].media_type
        for start in range(0, len(pcm), step):
            audio = await asyncio.to_thread(
                encode, pcm[start : start + step], options.sample_rate, options.codec,
                bitrate=options.bitrate,
            )  # fmt: skip
            await self._send({
                "type": "audio",
                "data": {
                    "content_type": content_type,
                    "audio": base64.b64encode(audio).decode("ascii"),
                    "request_id": self.session.request_id,
                },
            })  # fmt: skip

    async def _send_error(self, message: str, code: int) -> None:
        await self._send({
            "type": "error",
            "data": {"message": message, "code": code, "request_id": self.session.request_id},
        })  # fmt: skip

    async def _send(self, message: dict[str, Any]) -> None:
        async with self.sending:  # the receiver's errors and the synthesizer's audio interleave
            await self.websocket.send_text(json.dumps(message, ensure_ascii=False))


def _describe(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'data'}: {err['msg']}" for err in exc.errors()
    )

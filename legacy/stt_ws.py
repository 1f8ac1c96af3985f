"""``/speech-to-text/ws`` and ``/speech-to-text-translate/ws`` (sdk-contract §1.8).

Client → server (JSON text frames only): ``{"audio": {"data": <base64>, "sample_rate",
"encoding": "audio/wav"}}``, ``{"type": "flush"}``, and on the translate route
``{"type": "config", "prompt": ...}`` (accepted; the simulated model ignores prompts). Audio is
a WAV file (any rate, detected by its RIFF header) or, by ``input_audio_codec=pcm_*``, raw
16-bit PCM at ``sample_rate`` (16000, or 8000, resampled by a soxr stream). The SDK always says
``encoding: audio/wav``, so the bytes decide, not the label.

Server → client: ``{"type": "data", "data": {request_id, transcript, language_code,
language_probability, timestamps: null, diarized_transcript: null, metrics: {audio_duration,
processing_latency}}}`` once per utterance, when the VAD hears it end or on flush;
``{"type": "events", "data": {event_type: "vad", signal_type: START_SPEECH | END_SPEECH,
occured_at}}`` when ``vad_signals=true``; ``{"type": "error", "data": {error, code}}`` for a
bad message (the session goes on) or an empty wallet (the session closes, 1008).
``high_vad_sensitivity=true`` ends utterances after a shorter pause. ``flush_signal`` and the
VAD tuning knobs are accepted; flush messages are honoured either way.

Back pressure: the receive loop hands finished utterances to the recognizer through a queue
of ``QUEUE_DEPTH`` and awaits a free place, so a client sending faster than recognition stops
being read (TCP pushes back) instead of making the server buffer; the utterance stream itself
keeps a bounded amount of audio (``speech/streaming.py``). Messages over ``MAX_MESSAGE_CHARS``
close the session with 1009.

Billing (``realtime.py``): one session, ``audio_seconds`` of audio received (at 16 kHz), in
whole milliseconds rounded up, the same rule as the REST routes; settled when the session
ends, however it ends.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

import httpx
import numpy as np
import soxr
from fastapi import APIRouter, HTTPException, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ConfigDict, Field

from legacy.commerce.errors import InsufficientQuota
from legacy.realtime import MeteredSession, close_quietly, open_session, parse_query, refuse
from legacy.speech.decode import AudioRejected, decode_audio
from legacy.speech.streaming import Utterance, UtteranceStream
from legacy.speech.stt import (
    MODEL_MAX_SECONDS,
    RecognitionFailed,
    RecognitionRequest,
    fit_to_context,
    transcribe,
)
from legacy.speech.vad import Segment, SpeechEnded, SpeechStarted, VadConfig
from legacy.stt_api import SttLanguage, SttMode, parse_keyterms

__all__ = ["QUEUE_DEPTH", "pump", "stt_ws_router"]

QUEUE_DEPTH = 2
MAX_MESSAGE_CHARS = 1 << 20  # base64 of ~750 KiB: well under the SDK's 1 MiB frame limit
_ESTIMATE_S = Decimal(10)  # held when a session opens; extended 10 s at a time

Flag = Literal["true", "false"]


class SttWsQuery(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    language_code: SttLanguage = Field(default="unknown", alias="language-code")
    model: Literal["saaras:v3", "saaras:v4", "saarika:v2.5"] = "saaras:v4"
    mode: SttMode = "transcribe"
    keyterms: str | None = None
    sample_rate: Literal["16000", "8000"] = "16000"
    input_audio_codec: Literal["wav", "pcm_s16le", "pcm_l16", "pcm_raw"] = "wav"
    high_vad_sensitivity: Flag = "false"
    vad_signals: Flag = "false"
    flush_signal: Flag = "false"


class SttTranslateWsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: Literal["saaras:v2.5"] = "saaras:v2.5"
    sample_rate: Literal["16000", "8000"] = "16000"
    input_audio_codec: Literal["wav", "pcm_s16le", "pcm_l16", "pcm_raw"] = "wav"
    high_vad_sensitivity: Flag = "false"
    vad_signals: Flag = "false"
    flush_signal: Flag = "false"


@dataclass(slots=True)
class _Session:
    """What one socket's tasks share."""

    websocket: WebSocket
    metered: MeteredSession
    recognition: RecognitionRequest
    raw_rate: int | None  # None: WAV messages; else raw PCM at this rate
    vad_signals: bool
    stream: UtteranceStream
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    samples: int = 0  # 16 kHz samples received
    billed_ms: int = 0
    resampler: Any = None
    is_open: bool = True

    async def send(self, message: dict[str, object]) -> None:
        """Send one JSON text frame; a client gone is noted, not raised."""
        if not self.is_open:
            return
        try:
            async with self.send_lock:
                await self.websocket.send_text(json.dumps(message, ensure_ascii=False))
        except (WebSocketDisconnect, RuntimeError, OSError):
            self.is_open = False

    async def error(self, message: str, code: str) -> None:
        await self.send({"type": "error", "data": {"error": message, "code": code}})


stt_ws_router = APIRouter()


@stt_ws_router.websocket("/speech-to-text/ws")
async def speech_to_text_ws(websocket: WebSocket) -> None:
    query = await parse_query(websocket, SttWsQuery)
    if query is None:
        return
    try:
        terms = parse_keyterms(query.keyterms, query.model)
    except HTTPException as exc:
        await refuse(websocket, exc.status_code, str(exc.detail))
        return
    recognition = RecognitionRequest(query.language_code, query.mode, terms)
    await _serve(websocket, "speech-to-text-ws", recognition, query)


@stt_ws_router.websocket("/speech-to-text-translate/ws")
async def speech_to_text_translate_ws(websocket: WebSocket) -> None:
    query = await parse_query(websocket, SttTranslateWsQuery)
    if query is None:
        return
    recognition = RecognitionRequest("unknown", "translate")
    await _serve(websocket, "speech-to-text-translate-ws", recognition, query)


async def _serve(
    websocket: WebSocket, route: str, recognition: RecognitionRequest,
    query: SttWsQuery | SttTranslateWsQuery,
) -> None:  # fmt: skip
    inference_url: str | None = websocket.app.state.inference_url
    if inference_url is None:
        await refuse(websocket, 503, "speech recognition is not configured (BANYAN_INFERENCE_URL)")
        return
    metered = await open_session(websocket, route=route, unit="audio_seconds", estimate=_ESTIMATE_S)
    if metered is None:
        return
    raw_rate = None if query.input_audio_codec == "wav" else int(query.sample_rate)
    vad = VadConfig.for_sensitivity(query.high_vad_sensitivity == "true")
    session = _Session(
        websocket, metered, recognition, raw_rate, query.vad_signals == "true",
        UtteranceStream(vad, max_utterance_s=MODEL_MAX_SECONDS),
    )  # fmt: skip
    if raw_rate == 8000:
        session.resampler = soxr.ResampleStream(8000, 16000, 1, dtype="int16")
    client: httpx.AsyncClient = websocket.app.state.inference
    jobs: asyncio.Queue[Utterance] = asyncio.Queue(maxsize=QUEUE_DEPTH)
    async with metered:
        worker = asyncio.create_task(_recognize_forever(session, jobs, client, inference_url))
        try:
            await pump(lambda: _receive(websocket), lambda m: _handle(session, m), jobs)
        finally:
            worker.cancel()
            await asyncio.gather(worker, return_exceptions=True)
        if session.is_open:
            await close_quietly(websocket)


async def _receive(websocket: WebSocket) -> str | None:
    """The next text frame; None when the client has gone."""
    try:
        message = await websocket.receive()
    except (WebSocketDisconnect, RuntimeError):
        return None
    if message["type"] == "websocket.disconnect":
        return None
    text = message.get("text")
    return text if isinstance(text, str) else ""


async def pump(
    receive: Callable[[], Awaitable[str | None]],
    handle: Callable[[str], Awaitable[list[Utterance] | None]],
    jobs: asyncio.Queue[Utterance],
) -> None:
    """The receive loop: read a message, handle it, queue the utterances it finished —
    awaiting room in the bounded queue before reading on (back pressure). Returns when the
    client has gone or ``handle`` returns None (end the session)."""
    while (message := await receive()) is not None:
        utterances = await handle(message)
        if utterances is None:
            return
        for utterance in utterances:
            await jobs.put(utterance)


async def _handle(session: _Session, text: str) -> list[Utterance] | None:
    if len(text) > MAX_MESSAGE_CHARS:
        await session.error(f"messages are at most {MAX_MESSAGE_CHARS} characters", "1009")
        await close_quietly(session.websocket, 1009)
        session.is_open = False
        return None
    try:
        message = json.loads(text) if text else None
    except ValueError:
        message = None
    if not isinstance(message, dict):
        await session.error(
            "send JSON text frames: audio, flush or config", "invalid_request_error"
        )
        return []
    if message.get("type") == "flush":
        return _utterances(await _events(session, session.stream.flush()))
    if message.get("type") == "config":
        return []  # a prompt: accepted, does not change the simulated model
    audio = message.get("audio")
    if not isinstance(audio, dict) or not isinstance(audio.get("data"), str):
        await session.error(
            'unknown message; expected {"audio": {"data": ...}} or {"type": "flush"}',
            "invalid_request_error",
        )
        return []
    try:
        # binascii.Error, or a plain ValueError for a str that is not ASCII (which used to
        # escape and end the session without a close frame)
        data = base64.b64decode(audio["data"], validate=True)
    except ValueError as exc:
        await session.error(f"audio.data: {exc}", "invalid_request_error")
        return []
    try:
        pcm = _to_16k(session, data)
    except AudioRejected as exc:
        await session.error(f"audio.data: {exc}", "invalid_request_error")
        return []
    try:
        await _bill(session, len(pcm) // 2)
    except InsufficientQuota as exc:
        await session.error(str(exc), "insufficient_quota_error")
        await close_quietly(session.websocket, 1008)
        session.is_open = False
        return None
    return _utterances(await _events(session, session.stream.feed(pcm)))


def _to_16k(session: _Session, data: bytes) -> bytes:
    if session.raw_rate is None or data[:4] == b"RIFF":
        return decode_audio(data, codec=None, max_seconds=MODEL_MAX_SECONDS).pcm
    pcm = data[: len(data) - len(data) % 2]
    if session.resampler is None:
        return pcm
    out = session.resampler.resample_chunk(np.frombuffer(pcm, dtype="<i2"))
    return np.asarray(out, dtype="<i2").tobytes()


async def _bill(session: _Session, samples: int) -> None:
    """Usage in whole milliseconds of the total, rounded up (so the session's sum is exact)."""
    total_ms = -(-(session.samples + samples) // 16)
    await session.metered.use(Decimal(total_ms - session.billed_ms) / 1000)
    session.samples += samples
    session.billed_ms = total_ms


async def _events(session: _Session, events: list[Any]) -> list[Any]:
    if session.vad_signals:
        for event in events:
            if isinstance(event, SpeechStarted | SpeechEnded):
                signal = "START_SPEECH" if isinstance(event, SpeechStarted) else "END_SPEECH"
                await session.send(
                    {"type": "events", "data": {"event_type": "vad", "signal_type": signal,
                                                "occured_at": time.time()}}
                )  # fmt: skip
    return events


def _utterances(events: list[Any]) -> list[Utterance]:
    return [event for event in events if isinstance(event, Utterance)]


async def _recognize_forever(
    session: _Session, jobs: asyncio.Queue[Utterance], client: httpx.AsyncClient,
    inference_url: str,
) -> None:  # fmt: skip
    """The worker: recognize queued utterances in order and send each transcript. Keeps
    draining the queue after the client has gone, so the receive loop never waits forever.
    With ``unknown``, the first detection holds for the rest of the session."""
    recognition, probability = session.recognition, None
    while True:
        utterance = await jobs.get()
        if not session.is_open:
            continue
        started = time.perf_counter()
        whole = Segment(0.0, round(len(utterance.pcm) / 2 / 16000, 3))
        pieces = fit_to_context(utterance.pcm, [whole], MODEL_MAX_SECONDS)
        try:
            result = await transcribe(client, inference_url, utterance.pcm, pieces, recognition)
        except RecognitionFailed as exc:
            await session.error(str(exc), "model_call_error")
            continue
        if recognition.language == "unknown" and result.language_code is not None:
            recognition = RecognitionRequest(
                result.language_code, recognition.mode, recognition.keyterms
            )
            probability = result.language_probability
        language = None if recognition.language == "unknown" else recognition.language
        await session.send(
            {"type": "data", "data": {
                "request_id": session.metered.request_id,
                "transcript": result.transcript,
                "language_code": language,
                "language_probability": probability,
                "timestamps": None,
                "diarized_transcript": None,
                "metrics": {
                    "audio_duration": round(utterance.end_s - utterance.start_s, 3),
                    "processing_latency": round(time.perf_counter() - started, 3),
                },
            }}
        )  # fmt: skip

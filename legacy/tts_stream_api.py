"""``POST /text-to-speech/stream`` (sdk-contract §1.5, §1.6): encoded audio as it is spoken.

The text (at most 3500 characters; ``language_code`` detected when omitted) is split into
sentence-sized chunks, synthesized at most ``_WINDOW`` ahead of what has been sent, and each
chunk's audio is fed through one continuous encoder (``AudioEncoder``), whose bytes go out as
HTTP chunks: concatenated, they are one file of the requested codec (mp3 by default,
``audio/mpeg``), with stream headers (no total length). The response starts only once the
first chunk is spoken, so a model failure before any audio is still a clean 502 envelope;
a failure after that can only cut the stream short (the connection is dropped, and the
client sees a truncated body rather than a false end).

Billing (route ``text-to-speech-stream``, characters): the whole text is held before synthesis
(402 before the first byte). A stream that completes is charged ``len(text)``, like the REST
route. A client that disconnects stops synthesis at once (the chunks in flight are cancelled)
and is charged the characters of the chunks whose audio was handed to the connection before
the disconnect was seen — what it was sent, not what was held. A slow reader holds back
synthesis through the connection's flow control and the window, never a buffer without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

import httpx
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from pydantic import Field
from starlette.types import Receive, Scope, Send

from banyan.logs import get_logger
from legacy.error_docs import error_responses
from legacy.metering import abandon_charge, close_charge, open_charge
from legacy.speech.audio import resample, scale
from legacy.speech.codecs import CODECS, AudioEncoder, Bitrate
from legacy.speech.options import SpeechOptions
from legacy.speech.tts import InferenceFailed, SpeechRequest, pause_pcm, speak_chunks
from legacy.text.lid import LanguageIdentifier, LidUnavailable
from legacy.text.scripts import CORE_LANGUAGES, CoreLanguage
from legacy.tts_api import SpeakableText, SpeechFields, inference_url_of, options_of, speech_request

__all__ = ["tts_stream_router"]

_log = get_logger(__name__)
_CHUNK_CHARS = 250  # a sentence or two: the first audio comes quickly
_WINDOW = 2  # chunks synthesized ahead of the connection


class TextToSpeechStreamRequest(SpeechFields):
    text: SpeakableText = Field(max_length=3500)
    language_code: CoreLanguage | None = None
    output_audio_bitrate: Bitrate | None = None


@dataclass(frozen=True, slots=True)
class _Piece:
    audio: bytes
    chars: int  # characters of text this piece completes (0 for the encoder's tail)


tts_stream_router = APIRouter(tags=["speech"])


@tts_stream_router.post(
    "/text-to-speech/stream",
    response_class=Response,
    responses={
        **error_responses(502, 503),
        200: {
            # One media type per codec (mp3 unless output_audio_codec says otherwise).
            "content": {media: {} for media in sorted({c.media_type for c in CODECS.values()})},
            "description": "the encoded audio stream",
        },
    },
)
async def text_to_speech_stream(request: Request, body: TextToSpeechStreamRequest) -> Response:
    options = options_of(body, "stream", body.output_audio_bitrate)
    language = body.language_code or await _detect(request.app.state.lid, body.text)
    inference_url = inference_url_of(request)
    chars = Decimal(len(body.text))
    charge = await open_charge(
        request, route="text-to-speech-stream", unit="characters", estimate=chars
    )
    client: httpx.AsyncClient = request.app.state.inference
    pieces = _pieces(client, inference_url, speech_request(body.text, language, options), options)
    try:
        first = await anext(pieces)
    except (InferenceFailed, StopAsyncIteration) as exc:
        await pieces.aclose()
        await abandon_charge(request, charge)
        raise HTTPException(502, str(exc) or "the speech model returned no audio") from exc

    async def settle(sent_chars: int, completed: bool) -> None:
        await close_charge(request, charge, chars if completed else Decimal(sent_chars))

    return _AudioStream(first, pieces, settle, media_type=CODECS[options.codec].media_type)


async def _detect(lid: LanguageIdentifier, text: str) -> str:
    try:
        found = (await lid.identify(text)).language_code
    except LidUnavailable as exc:
        raise HTTPException(exc.status, str(exc)) from exc
    if found not in CORE_LANGUAGES:
        raise HTTPException(
            400,
            f"could not tell which language the text is in (detected {found or 'none'}); "
            f"set language_code to one of {', '.join(CORE_LANGUAGES)}",
        )
    return found


async def _pieces(
    client: httpx.AsyncClient, inference_url: str, speech: SpeechRequest, options: SpeechOptions
) -> AsyncGenerator[_Piece, None]:
    """Encoded audio, chunk by chunk, then the encoder's tail. Encoding runs in a thread; the
    encoder is only closed once no thread is using it."""
    encoder = AudioEncoder(options.codec, options.sample_rate, bitrate=options.bitrate)
    spoken = speak_chunks(
        client, inference_url, speech, max_chars=_CHUNK_CHARS, concurrency=_WINDOW
    )
    busy: asyncio.Future[bytes] | None = None

    async def run(work: Callable[[], bytes]) -> bytes:
        nonlocal busy
        busy = asyncio.ensure_future(asyncio.to_thread(work))
        return await asyncio.shield(busy)

    try:
        first = True
        async for chunk in spoken:
            pcm = scale(
                resample(chunk.pcm, chunk.sample_rate, options.sample_rate), options.loudness
            )
            if not first:
                pcm = pause_pcm(options.sample_rate) + pcm
            first = False
            audio = await run(partial(encoder.feed, pcm))
            yield _Piece(audio, len(chunk.text))
        yield _Piece(await run(encoder.finish), 0)
    finally:
        await spoken.aclose()
        if busy is not None and not busy.done():
            with contextlib.suppress(Exception):
                await asyncio.wait([busy])
        encoder.close()


class _AudioStream(Response):
    """A chunked audio body that watches for the client going away (pure ASGI).

    Sends ``first`` with the headers, then every further piece; meanwhile it listens for
    ``http.disconnect``, and when that comes first it stops the pieces (cancelling synthesis)
    without waiting for a send that the server would silently drop. ``settle`` is called
    exactly once, with the characters sent and whether the stream completed.
    """

    def __init__(
        self,
        first: _Piece,
        pieces: AsyncGenerator[_Piece, None],
        settle: Callable[[int, bool], Awaitable[None]],
        *,
        media_type: str,
    ) -> None:
        # Not Response.__init__: it would declare the empty body's length (0).
        self.status_code = 200
        self.media_type = media_type
        self.background = None
        self.init_headers()
        self._first = first
        self._pieces = pieces
        self._settle = settle
        self._settled = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        sent = [0]
        pump = asyncio.create_task(self._pump(send, sent))
        hangup = asyncio.create_task(_disconnected(receive))
        failure: BaseException | None = None
        try:
            await asyncio.wait({pump, hangup}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            completed = pump.done() and not pump.cancelled() and pump.exception() is None
            if pump.done() and not pump.cancelled():
                failure = pump.exception()
            for task in (pump, hangup):
                task.cancel()
            await asyncio.gather(pump, hangup, return_exceptions=True)
            await self._pieces.aclose()
            await self._settle_once(sent[0], completed)
        if failure is not None:
            # Headers are gone: raising makes the server drop the connection, so the client
            # sees a truncated body, never a stream that looks complete.
            _log.warning("speech stream cut short", error=str(failure), sent_chars=sent[0])
            raise failure

    async def _pump(self, send: Send, sent: list[int]) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        piece: _Piece | None = self._first
        while piece is not None:
            if piece.audio:
                await send({"type": "http.response.body", "body": piece.audio, "more_body": True})
            sent[0] += piece.chars
            piece = await anext(self._pieces, None)
        # Billed before the body ends, so a client that has read it all finds the charge.
        await self._settle_once(sent[0], True)
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _settle_once(self, sent_chars: int, completed: bool) -> None:
        if not self._settled:
            await self._settle(sent_chars, completed)
            self._settled = True


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass

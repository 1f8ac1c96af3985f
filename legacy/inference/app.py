"""The inference server: the models legacy (and later the Go candidate) call over HTTP.

A separate process (port 8300), shared by both implementations so that differences between
them measure platform code, not model randomness. Every model is deterministic for identical
input, has a context limit like a real model (a call over it is refused, so callers must
chunk), and a latency profile (``profiles.py``).

    GET  /healthz
    GET  /v1/tts/voices
    POST /v1/tts  {"text", "voice", ["rate_wpm"], ["pitch"]}
         -> 200 raw PCM (audio/L16: signed 16-bit little-endian mono),
            X-Sample-Rate, X-Duration-S | 400 unknown voice | 413 over the context limit | 422
    POST /v1/translate  (``translation_route.py``)
    POST /v1/lid  language identification where a script is shared (``lid_route.py``)
    POST /v1/asr  (16 kHz PCM body; ``asr.py``) -> 200 transcript and word timings | 400 | 413
    POST /v1/generate  the chat model (``llm.py``), NDJSON token stream
    POST /v1/ocr  (one PNG or JPEG page image; ``ocr.py``) -> 200 lines with boxes | 400 | 413

Models: speech synthesis is eSpeak NG (``espeak.py``), language identification lingua's
n-gram detector and OCR RapidOCR's PP-OCRv4 (``ocr.py``), real engines; translation
(``translation.py``), speech recognition (``asr.py``) and chat (``llm.py``, with a real BPE
tokenizer) are documented deterministic simulators.
"""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from legacy.inference.asr import Recognizer, asr_router
from legacy.inference.config import InferenceConfig
from legacy.inference.espeak import EspeakEngine, EspeakError
from legacy.inference.lid_route import lid_router
from legacy.inference.llm import llm_router
from legacy.inference.ocr import OcrEngine, ocr_router
from legacy.inference.translation_route import translation_router

__all__ = ["InferenceConfig", "create_inference_app"]


class TtsRequest(BaseModel):
    text: str = Field(min_length=1)
    voice: str = Field(default="en", min_length=1, max_length=32)
    rate_wpm: int = Field(default=175, ge=80, le=450)
    pitch: int = Field(default=50, ge=0, le=100)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "code": "model_call_error"}}, status)


def create_inference_app(
    engine: EspeakEngine, config: InferenceConfig | None = None, *, ocr: OcrEngine | None = None
) -> FastAPI:
    """The server over ``engine`` (speech synthesis) and ``ocr``: a new OCR engine, which loads
    its models on the first OCR call, unless one is given (tests share one)."""
    settings = config or InferenceConfig()
    app = FastAPI(title="Inference server", docs_url=None, redoc_url=None)
    app.include_router(translation_router(settings.translation))
    app.include_router(lid_router(settings.lid))
    app.include_router(llm_router(settings.llm_latency))
    app.include_router(ocr_router(ocr or OcrEngine(), settings.ocr))

    @app.get("/healthz")
    async def healthz() -> dict[str, object]:
        return {
            "status": "ok", "models": ["tts", "translation", "lid", "asr", "llm", "ocr"],
            "tts_max_chars": settings.tts_max_chars,
            "translation_max_chars": settings.translation.max_chars,
            "asr_max_seconds": settings.asr_max_seconds,
            "ocr_max_pixels": settings.ocr.max_pixels,
        }  # fmt: skip

    @app.get("/v1/tts/voices")
    async def voices() -> dict[str, list[str]]:
        return {"voices": engine.voices()}

    @app.post("/v1/tts", response_model=None)
    async def tts(body: TtsRequest) -> Response:
        if len(body.text) > settings.tts_max_chars:
            return _error(
                413, f"text is {len(body.text)} characters; this model takes at most "
                f"{settings.tts_max_chars} per call: split it",
            )  # fmt: skip
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            # The engine blocks (and serialises calls); keep the event loop free meanwhile.
            audio = await asyncio.to_thread(
                engine.synthesize,
                body.text,
                voice=body.voice,
                rate_wpm=body.rate_wpm,
                pitch=body.pitch,
            )
        except EspeakError as exc:
            return _error(400, str(exc))
        except ValueError as exc:
            return _error(422, str(exc))
        seed = f"{body.voice}|{body.rate_wpm}|{body.pitch}|{body.text}".encode()
        remaining = settings.tts_latency.delay_s(len(body.text), seed) - (loop.time() - started)
        if remaining > 0:
            await asyncio.sleep(remaining)
        return Response(
            audio.pcm,
            media_type="audio/L16",
            headers={
                "X-Sample-Rate": str(audio.sample_rate),
                "X-Duration-S": f"{audio.duration_s:.3f}",
            },
        )

    app.include_router(
        asr_router(Recognizer(), max_seconds=settings.asr_max_seconds, latency=settings.asr_latency)
    )
    return app

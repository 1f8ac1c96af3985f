"""What a worker does with one file: the processors of each job kind, and how they fail.

A processor turns a file's bytes into a :class:`TaskResult`: the billed quantity and one output
object. It is idempotent (same bytes, same parameters, same output), which is what makes
at-least-once processing safe: a file retried after its worker died is worked again from the
start, and its output overwrites the first attempt's with the same bytes (rfcs/0007 §4).

Failures are sorted by whose they are: :class:`TaskRejected` is the input's (not audio, an
unreadable PDF, over a limit): the file ends ``API Error`` and is not retried. Anything else
(the model server down, a timeout) is the platform's, retried with backoff.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

import httpx

from legacy.jobs.queue import Task, file_request_id
from legacy.speech.decode import AudioRejected, decode_audio
from legacy.speech.stt import MODEL_MAX_SECONDS, RecognitionRequest, fit_to_context, transcribe
from legacy.speech.vad import find_speech
from legacy.stt_api import audio_seconds
from legacy.vision.pipeline import (
    DocumentRejected,
    digitise,
    extract,
    to_html,
    to_json,
    to_markdown,
)

__all__ = [
    "MAX_JOB_AUDIO_SECONDS",
    "DocumentJobProcessor",
    "Processor",
    "SpeechJobProcessor",
    "TaskRejected",
    "TaskResult",
    "output_key",
]

# A batch file may be long (the REST API stops at 30 s); the upload limit bounds it anyway.
MAX_JOB_AUDIO_SECONDS: Final = 3600.0


class TaskRejected(Exception):
    """The file cannot be processed as sent; the message is for the customer."""


@dataclass(frozen=True, slots=True)
class TaskResult:
    quantity: Decimal  # in the unit of the file's hold
    output: bytes
    output_name: str
    pages_total: int | None = None
    pages_succeeded: int | None = None


Processor = Callable[[Task, bytes], Awaitable[TaskResult]]


def output_key(task: Task) -> str:
    """Derived from the job and file ids only, so a second run writes the same object."""
    return f"jobs/{task.job_id}/outputs/{task.file_id}.json"


def _json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=2).encode()


class SpeechJobProcessor:
    """Batch speech-to-text (and -translate): the real-time API's pipeline on a whole file
    (decode → VAD → recognition of each piece, merged), output as the REST API's answer."""

    def __init__(self, client: httpx.AsyncClient, inference_url: str) -> None:
        self.client = client
        self.inference_url = inference_url

    async def __call__(self, task: Task, data: bytes) -> TaskResult:
        params = task.parameters
        try:
            audio = await asyncio.to_thread(
                decode_audio, data, codec=params.get("input_audio_codec"),
                max_seconds=MAX_JOB_AUDIO_SECONDS,
            )  # fmt: skip
        except AudioRejected as exc:
            raise TaskRejected(str(exc)) from exc
        segments = await asyncio.to_thread(find_speech, audio.pcm)
        pieces = fit_to_context(audio.pcm, segments, MODEL_MAX_SECONDS)
        translate = task.kind == "stt-translate"
        language = "unknown" if translate else params.get("language_code") or "unknown"
        recognition = RecognitionRequest(
            language,
            "translate" if translate else params.get("mode") or "transcribe",
            tuple(params.get("keyterms") or ()),
        )
        result = await transcribe(self.client, self.inference_url, audio.pcm, pieces, recognition)
        detected = language == "unknown"
        answer: dict[str, Any] = {
            "request_id": file_request_id(task.job_id, task.file_id),
            "transcript": result.transcript,
        }
        if not translate and params.get("with_timestamps"):
            answer["timestamps"] = {
                "words": [w.text for w in result.words],
                "start_time_seconds": [w.start_s for w in result.words],
                "end_time_seconds": [w.end_s for w in result.words],
            }
        answer["language_code"] = result.language_code if detected else language
        if detected:
            answer["language_probability"] = result.language_probability
        return TaskResult(audio_seconds(audio), _json(answer), f"{task.name}.json")


class DocumentJobProcessor:
    """doc-AI digitise and extract: the vision pipeline on one document (rasterize → OCR on
    the inference server → layout), every page in every output format, and for ``extract``
    the job's schema filled from its pages. Billed in pages."""

    def __init__(self, client: httpx.AsyncClient, inference_url: str) -> None:
        self.client = client
        self.inference_url = inference_url

    async def __call__(self, task: Task, data: bytes) -> TaskResult:
        try:
            document = await digitise(
                self.client, self.inference_url, data, language=task.parameters.get("language")
            )
            found = (
                extract(document, task.parameters["schema"])
                if "schema" in task.parameters
                else None
            )
        except DocumentRejected as exc:  # not a document we can read, or a required field absent
            raise TaskRejected(str(exc)) from exc
        output: dict[str, Any] = {
            "file_name": task.name,
            "pages": [
                {
                    "page_number": page.page_number,
                    "markdown": to_markdown(page),
                    "html": to_html(page),
                    "layout": to_json(page),
                }
                for page in document.pages
            ],
        }
        if found is not None:
            output["extraction"] = {"result": found.result, "annotations": found.annotations}
        pages = len(document.pages)
        return TaskResult(
            Decimal(pages), _json(output), f"{task.name}.json",
            pages_total=pages, pages_succeeded=pages,
        )  # fmt: skip

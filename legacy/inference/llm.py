"""The chat model on the inference server: ``POST /v1/generate``, streamed as NDJSON.

    POST /v1/generate {"model", "messages", ["max_tokens"], ["stop"], ["seed"],
                       ["temperature"], ["tools"], ["tool_choice"], ["response_format"],
                       ["stream"]}
      stream true  -> 200 application/x-ndjson, one JSON object per line:
                      {"type": "start", "model", "prompt_tokens", "max_tokens"}
                      {"type": "delta", "text", "tokens", ["tool_id", "tool_name"]}  (0..n)
                      {"type": "end", "finish_reason", "prompt_tokens", "completion_tokens"}
      stream false -> 200 {"content", "tool_calls": [{"id", "name", "arguments"}],
                           "finish_reason", "prompt_tokens", "completion_tokens"}
      400 unknown model / over the context limit / tool_choice names no tool | 422

What is said is the simulator's (``textgen.py``); how long it takes is a ``StreamProfile``:
time to first token, then per token, with seeded jitter. Token counts are the tokenizer's
(``tokenizer.py``); every ``delta`` says how many tokens it holds, so a caller that stops
reading knows exactly what it received. Missing ``max_tokens`` means the model's default
bounded by the context left (``llm_catalog.output_budget``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from legacy.inference.llm_catalog import CHAT_MODELS, output_budget
from legacy.inference.profiles import StreamProfile
from legacy.inference.textgen import (
    GenerationRequest,
    Plan,
    UnknownTool,
    call_seed,
    plan_completion,
)
from legacy.inference.tokenizer import Tokenizer

__all__ = ["GenerateBody", "llm_router"]


class GenerateBody(BaseModel):
    model: str
    messages: list[dict[str, Any]] = Field(min_length=1)
    max_tokens: int | None = Field(default=None, ge=0)
    stop: str | list[str] | None = None
    seed: int | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None
    stream: bool = True


def _refuse(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "code": "invalid_request_error"}}, status)


def llm_router(profile: StreamProfile, tokenizer: Tokenizer | None = None) -> APIRouter:
    """The chat model's routes; the tokenizer is loaded here once for the process."""
    words = tokenizer or Tokenizer()
    router = APIRouter()

    @router.post("/v1/generate", response_model=None)
    async def generate(body: GenerateBody) -> Response:
        card = CHAT_MODELS.get(body.model)
        if card is None:
            return _refuse(400, f"unknown model {body.model!r}; known: {', '.join(CHAT_MODELS)}")
        prompt = words.prompt_tokens(body.messages, body.tools, body.response_format)
        max_tokens = output_budget(card, prompt, body.max_tokens)
        if prompt + max_tokens > card.context_tokens:
            return _refuse(
                400,
                f"This model's maximum context length is {card.context_tokens} tokens. However, "
                f"you requested {prompt + max_tokens} tokens ({prompt} in the messages, "
                f"{max_tokens} in the completion). Please reduce the length of the messages or "
                "max_tokens.",
            )
        stop = (body.stop,) if isinstance(body.stop, str) else tuple(body.stop or ())
        request = GenerationRequest(
            body.model, body.messages, max_tokens, body.seed, body.temperature, stop,
            body.tools or (), body.tool_choice, body.response_format,
        )  # fmt: skip
        try:
            plan = plan_completion(request, words)
        except UnknownTool as exc:
            return _refuse(400, str(exc))
        seed = call_seed(request)
        if body.stream:
            events = _events(plan, prompt, max_tokens, body.model, profile, seed)
            return StreamingResponse(events, media_type="application/x-ndjson")
        await asyncio.sleep(
            profile.first_token_s(prompt, seed)
            + sum(profile.tokens_s(p.tokens, i, seed) for i, p in enumerate(plan.pieces) if i)
        )
        return JSONResponse(_whole(plan, prompt))

    return router


async def _events(
    plan: Plan, prompt: int, max_tokens: int, model: str, profile: StreamProfile, seed: bytes
) -> AsyncIterator[bytes]:
    yield _line({"type": "start", "model": model, "prompt_tokens": prompt,
                 "max_tokens": max_tokens})  # fmt: skip
    await asyncio.sleep(profile.first_token_s(prompt, seed))
    for index, piece in enumerate(plan.pieces):
        if index:
            await asyncio.sleep(profile.tokens_s(piece.tokens, index, seed))
        event: dict[str, object] = {"type": "delta", "text": piece.text, "tokens": piece.tokens}
        if piece.tool_id is not None:
            event |= {"tool_id": piece.tool_id, "tool_name": piece.tool_name}
        yield _line(event)
    yield _line({"type": "end", "finish_reason": plan.finish_reason, "prompt_tokens": prompt,
                 "completion_tokens": plan.completion_tokens})  # fmt: skip


def _whole(plan: Plan, prompt: int) -> dict[str, object]:
    text = "".join(piece.text for piece in plan.pieces)
    calls = []
    if plan.kind == "tool_call":
        head = plan.pieces[0]
        calls.append({"id": head.tool_id, "name": head.tool_name, "arguments": text})
    return {
        "content": text if plan.kind == "content" else None,
        "tool_calls": calls,
        "finish_reason": plan.finish_reason,
        "prompt_tokens": prompt,
        "completion_tokens": plan.completion_tokens,
    }


def _line(event: dict[str, object]) -> bytes:
    return json.dumps(event, ensure_ascii=False).encode() + b"\n"

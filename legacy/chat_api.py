"""Chat completions and models, OpenAI-shaped (sdk-contract §1.7, §2; gotchas 1, 2, 10).

    POST /v1/chat/completions, /v2/chat/completions  (one implementation)
    GET  /v1/models, /v2/models, /v1/models/{id}, /v2/models/{id}

One route serves sarvamai (``api-subscription-key``) and openai (``Authorization: Bearer``); a
bad key is 401 here (OpenAI-style paths, ``metering.py``). Streaming is decided by the body's
``stream``, never by ``Accept`` (openai sends ``application/json`` either way).

Billing (rfcs/0004 §8): ``tokens_in`` and ``tokens_out`` are line items of one reservation.
Before the first byte the wallet must cover the estimate — the prompt's tokens plus the most
the model may write (``max_tokens``, or the model's default, never more than the context
leaves) — so an empty wallet is a 402, never a cut stream. The settlement is what was
measured with the tokenizer: the prompt, and the completion tokens *delivered* — all of them
for a finished answer, exactly those sent before the client left for a stream cut short
(``chat/metered_stream.py``). The model is asked only after the hold, so a refusal (the
context limit: 400 naming it) gives the hold back.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncGenerator
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response

from banyan.logs import get_logger
from legacy.chat.chunks import Frame, StreamIdentity, StreamWriter, collect
from legacy.chat.metered_stream import MeteredEventStream
from legacy.chat.model_client import (
    End,
    Generation,
    ModelRefused,
    ModelUnavailable,
    start_generation,
)
from legacy.chat.schemas import ChatCompletion, ChatCompletionRequest, Model, ModelList
from legacy.commerce.billing import Authorization, Billing
from legacy.commerce.errors import CommerceError
from legacy.error_docs import error_responses
from legacy.inference.llm_catalog import CHAT_MODELS, ModelCard, output_budget
from legacy.inference.tokenizer import Tokenizer
from legacy.metering import abandon_charge, api_key_from, close_charge, open_charge

__all__ = ["chat_router"]

_ROUTE = "chat-completions"
_log = get_logger(__name__)


def chat_router(tokenizer: Tokenizer | None = None) -> APIRouter:
    """The chat routes on ``/v1`` and ``/v2``; the tokenizer is loaded once per process."""
    words = tokenizer or Tokenizer()
    router = APIRouter(tags=["chat"])

    async def chat_completions(request: Request, body: ChatCompletionRequest) -> Response:
        card = _card(body.model)
        inference_url: str | None = request.app.state.inference_url
        if inference_url is None:
            raise HTTPException(503, "the chat model is not configured (BANYAN_INFERENCE_URL)")
        prompt = words.prompt_tokens(body.messages, body.tools, body.response_format)
        budget = output_budget(card, prompt, body.completion_limit)
        most = min(budget, max(0, card.context_tokens - prompt))
        auth = await open_charge(
            request, route=_ROUTE, model=card.id,
            estimate={"tokens_in": Decimal(prompt), "tokens_out": Decimal(most)},
        )  # fmt: skip
        client: httpx.AsyncClient = request.app.state.inference
        try:
            generation = await start_generation(client, inference_url, _payload(body, budget))
        except ModelRefused as exc:
            await abandon_charge(request, auth)
            raise HTTPException(400, str(exc)) from exc
        except ModelUnavailable as exc:
            await abandon_charge(request, auth)
            raise HTTPException(502, str(exc)) from exc
        identity = StreamIdentity(_completion_id(), int(time.time()), body.model)
        if not body.stream:
            return await _answer_whole(request, auth, generation, identity, prompt)
        writer = StreamWriter(identity, prompt, body.wants_usage_chunk)

        async def finish(delivered: int) -> None:
            try:
                await generation.aclose()
            finally:
                await _settle(request, auth, prompt, delivered)

        return MeteredEventStream(_frames(generation, writer), finish)

    async def list_models(request: Request) -> ModelList:
        await _billing(request).tenant_for_key(api_key_from(request.headers))
        return ModelList(data=[_model(card) for card in CHAT_MODELS.values()])

    async def get_model(request: Request, model_id: str) -> Model:
        await _billing(request).tenant_for_key(api_key_from(request.headers))
        card = CHAT_MODELS.get(model_id)
        if card is None:
            raise HTTPException(404, f"no model {model_id!r}; GET /v1/models lists them")
        return _model(card)

    streamed: dict[int | str, dict[str, Any]] = {200: {"content": {"text/event-stream": {}},
                      "description": "chat.completion, or SSE chunks when stream"}}  # fmt: skip
    for prefix in ("/v1", "/v2"):
        router.add_api_route(
            f"{prefix}/chat/completions", chat_completions, methods=["POST"],
            response_model=ChatCompletion,
            responses={**error_responses(502, 503, openai_style=True), **streamed},
        )  # fmt: skip
        router.add_api_route(
            f"{prefix}/models", list_models, methods=["GET"],
            responses=error_responses(openai_style=True),
        )  # fmt: skip
        router.add_api_route(
            f"{prefix}/models/{{model_id}}", get_model, methods=["GET"],
            responses=error_responses(404, openai_style=True),
        )  # fmt: skip
    return router


def _card(model: str) -> ModelCard:
    card = CHAT_MODELS.get(model)
    if card is None:
        raise HTTPException(
            400, f"model {model!r} is not served here; use one of {', '.join(CHAT_MODELS)}"
        )
    return card


def _model(card: ModelCard) -> Model:
    return Model(id=card.id, created=card.created, owned_by=card.owned_by)


def _billing(request: Request) -> Billing:
    billing: Billing = request.app.state.billing
    return billing


def _payload(body: ChatCompletionRequest, max_tokens: int) -> dict[str, object]:
    fields = body.model_dump(
        include={"model", "messages", "stop", "seed", "temperature", "tools", "tool_choice",
                 "response_format"},
        exclude_none=True,
    )  # fmt: skip
    return {**fields, "max_tokens": max_tokens, "stream": True}


async def _answer_whole(
    request: Request, auth: Authorization, generation: Generation, identity: StreamIdentity,
    prompt: int,
) -> JSONResponse:  # fmt: skip
    try:
        events = [event async for event in generation.events()]
    except ModelUnavailable as exc:
        await abandon_charge(request, auth)  # nothing reached the customer
        raise HTTPException(502, str(exc)) from exc
    finally:
        await generation.aclose()
    completion = collect(identity, prompt, events)
    await close_charge(
        request, auth,
        {"tokens_in": Decimal(prompt), "tokens_out": Decimal(completion.usage.completion_tokens)},
    )  # fmt: skip
    return JSONResponse(completion.model_dump())


async def _frames(generation: Generation, writer: StreamWriter) -> AsyncGenerator[Frame, None]:
    yield writer.opening()
    finish = "length"  # if the model's stream breaks, the answer is cut: say so, no error event
    try:
        async for event in generation.events():
            if isinstance(event, End):
                finish = event.finish_reason
                break
            yield writer.delta(event)
    except ModelUnavailable as exc:
        _log.warning("chat stream cut by the model", error=str(exc))
    for frame in writer.closing(finish):
        yield frame


async def _settle(request: Request, auth: Authorization, prompt: int, delivered: int) -> None:
    """Bill a stream once it ended, however it ended; a failure here is logged (the hold then
    expires and is released by the sweeper) since the response is already gone."""
    try:
        await close_charge(
            request, auth, {"tokens_in": Decimal(prompt), "tokens_out": Decimal(delivered)}
        )
    except (CommerceError, OSError, asyncpg.PostgresError) as exc:
        _log.error("could not settle a chat stream", request_id=auth.request_id, error=str(exc))


def _completion_id() -> str:
    """A fresh id per completion, as OpenAI-style APIs give: two completions never share one,
    even a retry or a shadow replay under the same request id (the request id is in headers
    and logs, not in the completion's identity)."""
    return f"chatcmpl-{secrets.token_hex(12)}"

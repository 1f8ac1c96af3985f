"""The chat model's client: one generation streamed from the inference server (``/v1/generate``).

An adapter: the only module of the chat API that does network I/O to the model. Opening a
generation checks the model's answer before anything reaches the customer, so a refusal (the
context limit, a tool_choice naming no tool) is still a clean 400 — never a cut stream.

Errors::

    ModelError
    ├── ModelRefused      the model answered 4xx (status and message kept: the caller's mistake)
    └── ModelUnavailable  unreachable, 5xx, or a malformed stream (a 502 for the caller)
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

import httpx

__all__ = [
    "Delta",
    "End",
    "Generation",
    "ModelError",
    "ModelRefused",
    "ModelUnavailable",
    "start_generation",
]


class ModelError(Exception):
    pass


class ModelRefused(ModelError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class ModelUnavailable(ModelError):
    pass


@dataclass(frozen=True, slots=True)
class Delta:
    text: str
    tokens: int
    tool_id: str | None = None  # set on the first piece of a tool call
    tool_name: str | None = None


@dataclass(frozen=True, slots=True)
class End:
    finish_reason: str
    completion_tokens: int


class Generation:
    """An open generation; whoever holds it must ``aclose()`` it (it holds a connection)."""

    def __init__(
        self, response: httpx.Response, lines: AsyncIterator[str], start: Mapping[str, object]
    ) -> None:
        self._response = response
        self._lines = lines
        self.prompt_tokens = int(str(start.get("prompt_tokens", 0)))
        self.max_tokens = int(str(start.get("max_tokens", 0)))

    async def events(self) -> AsyncIterator[Delta | End]:
        """The model's deltas, then one ``End``; raises ModelUnavailable if the stream breaks."""
        try:
            async for line in self._lines:
                if not line.strip():
                    continue
                event = json.loads(line)
                if event.get("type") == "delta":
                    yield Delta(str(event["text"]), int(event["tokens"]),
                                event.get("tool_id"), event.get("tool_name"))  # fmt: skip
                elif event.get("type") == "end":
                    yield End(str(event["finish_reason"]), int(event["completion_tokens"]))
                    return
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            raise ModelUnavailable(f"the chat model's stream broke: {exc}") from exc
        raise ModelUnavailable("the chat model's stream ended without an end event")

    async def aclose(self) -> None:
        await self._response.aclose()


async def start_generation(
    client: httpx.AsyncClient, inference_url: str, payload: Mapping[str, object]
) -> Generation:
    """Ask the model and wait for its first line (accepted or refused); raises ModelError."""
    request = client.build_request("POST", f"{inference_url}/v1/generate", json=dict(payload))
    try:
        response = await client.send(request, stream=True)
    except httpx.HTTPError as exc:
        raise ModelUnavailable(f"the chat model is unreachable: {exc}") from exc
    try:
        if response.status_code != 200:
            raise _refusal(response.status_code, await response.aread())
        lines = response.aiter_lines()
        start = json.loads(await anext(lines))
        if start.get("type") != "start":
            raise ModelUnavailable("the chat model's stream did not start with a start event")
        return Generation(response, lines, start)
    except BaseException as exc:
        await response.aclose()
        if isinstance(exc, httpx.HTTPError | ValueError | StopAsyncIteration):
            raise ModelUnavailable(f"the chat model's stream broke: {exc}") from exc
        raise


def _refusal(status: int, body: bytes) -> ModelError:
    try:
        message = str(json.loads(body)["error"]["message"])
    except (ValueError, KeyError, TypeError):
        message = body.decode("utf-8", errors="replace")[:200] or f"status {status}"
    if 400 <= status < 500:
        return ModelRefused(status, message)
    return ModelUnavailable(f"the chat model failed ({status}): {message}")

"""Model deltas → OpenAI-shaped results: SSE chunk frames for a stream, one object otherwise.

Pure (sans-I/O): the route feeds model events in, sends the frames out. The stream follows the
convention both SDKs parse (sdk-contract §1.7, §2.3, gotcha 2): every event one
``data: <json>\\n\\n`` line (one space after the colon); a role chunk; content (or tool-call)
deltas; a chunk with an empty delta and the ``finish_reason``; the usage chunk (``choices:
[]``) only when the request asked for it; ``data: [DONE]``. Never an ``error`` event: sarvamai
cannot parse one, so a stream that must end early ends like any other.

Each frame says how many completion tokens it carries, so the sender can bill exactly what
it delivered (a stream cut short by the client bills the tokens sent until then).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from legacy.chat.model_client import Delta, End
from legacy.chat.schemas import (
    ChatCompletion,
    Choice,
    ChoiceMessage,
    FunctionCall,
    ToolCall,
    Usage,
)

__all__ = ["DONE", "Frame", "StreamIdentity", "StreamWriter", "collect"]

DONE: Final = b"data: [DONE]\n\n"


@dataclass(frozen=True, slots=True)
class StreamIdentity:
    id: str
    created: int
    model: str


@dataclass(frozen=True, slots=True)
class Frame:
    data: bytes
    tokens: int = 0  # completion tokens this frame delivers


@dataclass(slots=True)
class StreamWriter:
    """Turns one generation's events into SSE frames; counts what it has framed."""

    identity: StreamIdentity
    prompt_tokens: int
    include_usage: bool
    completion_tokens: int = 0
    _tool_calls: int = field(default=0)

    def opening(self) -> Frame:
        return self._frame({"role": "assistant", "content": ""})

    def delta(self, delta: Delta) -> Frame:
        self.completion_tokens += delta.tokens
        if delta.tool_id is not None:
            self._tool_calls += 1
            call = {"index": self._tool_calls - 1, "id": delta.tool_id, "type": "function",
                    "function": {"name": delta.tool_name, "arguments": delta.text}}  # fmt: skip
            return self._frame({"tool_calls": [call]}, tokens=delta.tokens)
        if self._tool_calls:
            call = {"index": self._tool_calls - 1, "function": {"arguments": delta.text}}
            return self._frame({"tool_calls": [call]}, tokens=delta.tokens)
        return self._frame({"content": delta.text}, tokens=delta.tokens)

    def closing(self, finish_reason: str) -> list[Frame]:
        """The last frames: finish, usage if asked for, [DONE]. ``finish_reason`` is the
        model's, or ``length`` for a stream that had to end before the model finished."""
        frames = [self._frame({}, finish_reason=finish_reason)]
        if self.include_usage:
            usage = self.usage().model_dump()
            frames.append(Frame(_data({**self._head(), "choices": [], "usage": usage})))
        frames.append(Frame(DONE))
        return frames

    def usage(self) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            total_tokens=self.prompt_tokens + self.completion_tokens,
        )

    def _head(self) -> dict[str, object]:
        return {"id": self.identity.id, "object": "chat.completion.chunk",
                "created": self.identity.created, "model": self.identity.model}  # fmt: skip

    def _frame(
        self, delta: dict[str, object], *, finish_reason: str | None = None, tokens: int = 0
    ) -> Frame:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return Frame(_data({**self._head(), "choices": [choice], "usage": None}), tokens)


def collect(
    identity: StreamIdentity, prompt_tokens: int, events: Iterable[Delta | End]
) -> ChatCompletion:
    """A whole ``chat.completion`` from a generation's events (the non-streaming answer)."""
    text: list[str] = []
    calls: list[ToolCall] = []
    completion_tokens = 0
    finish = "length"
    for event in events:
        if isinstance(event, End):
            finish = event.finish_reason
            continue
        completion_tokens += event.tokens
        if event.tool_id is not None:
            function = FunctionCall(name=event.tool_name or "", arguments="")
            calls.append(ToolCall(id=event.tool_id, function=function))
        if calls:
            calls[-1].function.arguments += event.text
        else:
            text.append(event.text)
    message = ChoiceMessage(content=None if calls else "".join(text), tool_calls=calls or None)
    usage = Usage(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                  total_tokens=prompt_tokens + completion_tokens)  # fmt: skip
    return ChatCompletion(
        id=identity.id, created=identity.created, model=identity.model, usage=usage,
        choices=[Choice(message=message, finish_reason=finish)],
    )  # fmt: skip


def _data(payload: dict[str, object]) -> bytes:
    return b"data: " + json.dumps(payload, ensure_ascii=False).encode() + b"\n\n"

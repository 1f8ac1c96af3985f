"""The OpenAI-shaped chat API's bodies (sdk-contract §1.7, §2.1 to 2.3).

Requests accept what both SDKs send and ignore keys they do not know (openai 3.54.0 sends
many sampling knobs; sarvamai adds ``extra_body``, ``top_k``…): ``extra="ignore"``.
``max_completion_tokens`` is an alias of ``max_tokens``. Messages stay plain JSON objects:
roles and content shapes vary (string, a list of parts, null with ``tool_calls``) and the
model reads them as they are; only what the platform itself relies on is validated here.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from legacy.json_types import IntegralFloat, JsonInt

__all__ = [
    "ChatCompletion",
    "ChatCompletionRequest",
    "Choice",
    "ChoiceMessage",
    "FunctionCall",
    "Model",
    "ModelList",
    "StreamOptions",
    "ToolCall",
    "Usage",
]


_STOP_LIST_SCHEMA: dict[str, Any] = {"type": "array", "items": {"type": "string"}, "maxItems": 4}


class StreamOptions(BaseModel):
    model_config = ConfigDict(strict=True)

    include_usage: bool | None = None


class ChatCompletionRequest(BaseModel):
    # JSON types as documented (no false for top_p), unknown keys ignored (sdk-contract §2.1).
    model_config = ConfigDict(extra="ignore", strict=True)

    model: str = Field(min_length=1, examples=["sarvam-m"])
    messages: list[dict[str, Any]] = Field(
        min_length=1,
        examples=[[{"role": "user", "content": "Hello!"}]],
        # Documented as the validator below enforces it: every message is an object with a role.
        json_schema_extra={
            "items": {
                "type": "object",
                "required": ["role"],
                "properties": {"role": {"type": "string"}},
                "additionalProperties": True,
            }
        },
    )
    max_tokens: Annotated[int, Field(ge=1), IntegralFloat] | None = None
    max_completion_tokens: Annotated[int, Field(ge=1), IntegralFloat] | None = None
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    # At most 4 (checked below, with the message the candidate reproduces); the schema says so
    # too, so schema-driven clients do not send a fifth.
    stop: str | Annotated[list[str], WithJsonSchema(_STOP_LIST_SCHEMA)] | None = None
    seed: JsonInt | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    n: Annotated[int, Field(ge=1, le=1), IntegralFloat] | None = Field(
        default=None, description="only 1 is supported"
    )
    tools: list[dict[str, Any]] | None = None
    tool_choice: Literal["none", "auto", "required"] | dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None

    @field_validator("messages")
    @classmethod
    def _each_has_a_role(cls, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for index, message in enumerate(messages):
            if not isinstance(message.get("role"), str):
                raise ValueError(f"messages[{index}] needs a role (system, user, assistant…)")
        return messages

    @field_validator("stop")
    @classmethod
    def _at_most_four(cls, stop: str | list[str] | None) -> str | list[str] | None:
        if isinstance(stop, list) and len(stop) > 4:
            raise ValueError("at most 4 stop sequences")
        return stop

    @field_validator("response_format")
    @classmethod
    def _known_format(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        kind = (value or {}).get("type", "text")
        if kind not in ("text", "json_object", "json_schema"):
            raise ValueError("type must be text, json_object or json_schema")
        if kind == "json_schema" and not isinstance((value or {}).get("json_schema"), dict):
            raise ValueError("json_schema needs {name, schema}")
        return value

    @property
    def completion_limit(self) -> int | None:
        return self.max_tokens if self.max_tokens is not None else self.max_completion_tokens

    @property
    def wants_usage_chunk(self) -> bool:
        return bool(self.stream_options and self.stream_options.include_usage)


class FunctionCall(BaseModel):
    name: str
    arguments: str


class ToolCall(BaseModel):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class ChoiceMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str | None
    refusal: str | None = None
    tool_calls: list[ToolCall] | None = None


class Choice(BaseModel):
    index: int = 0
    message: ChoiceMessage
    finish_reason: Literal["stop", "length", "tool_calls"]
    logprobs: None = None


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage


class Model(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Model]

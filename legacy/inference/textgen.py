"""The text-generation simulator: what a chat model answers, decided without a model.

Deterministic and documented, so legacy and the candidate see identical completions and
tests can predict them:

* **Seed.** The answer is a pure function of (model, messages, seed, temperature): they are
  hashed into the RNG. At ``temperature == 0`` the seed is left out, as greedy decoding does
  not sample. ``max_tokens`` and ``stop`` only *cut* the answer, so a shorter limit yields a
  prefix of the longer answer.
* **Language.** The answer is in the script of the last user message
  (``legacy/text/scripts.py``), drawn as 2 to 6 real sentences from that script's bank
  (``sentences.py``); no letters → English.
* **Tools.** ``tool_choice`` ``required`` calls one of the tools (seeded), ``{"type":
  "function", "function": {"name"}}`` calls that one, ``auto`` (the default when tools are
  given) calls a tool only when the last message is the user's and names it (``get_weather``
  or "get weather"), else answers in text; ``none`` never calls. Arguments are JSON valid
  against the function's ``parameters`` (``jsongen.py``).
* **Formats.** ``json_object`` answers ``{"answer": <text>}``; ``json_schema`` answers a value
  valid against the schema. Both are JSON unless ``max_tokens`` cuts them, as with real models.
* **Limits.** The answer is tokenized (``tokenizer.py``); ``stop`` cuts text before the first
  occurrence of any stop sequence (``finish_reason`` stays ``stop``); more tokens than
  ``max_tokens`` are cut there with ``finish_reason`` ``length``; a tool call finishes with
  ``tool_calls``.

It does not read meaning: the sentences are generic, the same question worded twice gets
different sentences.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from legacy.inference.jsongen import value_for
from legacy.inference.sentences import DEFAULT_SCRIPT, SENTENCES
from legacy.inference.tokenizer import Tokenizer, text_of
from legacy.text.scripts import dominant_script

__all__ = ["GenerationRequest", "Piece", "Plan", "UnknownTool", "call_seed", "plan_completion"]

FinishReason = Literal["stop", "length", "tool_calls"]
_SENTENCES_PER_ANSWER: Final = (2, 6)


class UnknownTool(ValueError):
    """``tool_choice`` names a function that is not among ``tools`` (a 400)."""


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    model: str
    messages: Sequence[Mapping[str, object]]
    max_tokens: int
    seed: int | None = None
    temperature: float | None = None
    stop: tuple[str, ...] = ()
    tools: Sequence[Mapping[str, object]] = ()
    tool_choice: str | Mapping[str, object] | None = None
    response_format: Mapping[str, object] | None = None


@dataclass(frozen=True, slots=True)
class Piece:
    """One streamed delta: text (content, or a slice of tool-call arguments) and its tokens.

    A tool call's first piece names the call (``tool_id``, ``tool_name``) with empty text."""

    text: str
    tokens: int
    tool_id: str | None = None
    tool_name: str | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    kind: Literal["content", "tool_call"]
    pieces: tuple[Piece, ...]
    finish_reason: FinishReason

    @property
    def completion_tokens(self) -> int:
        return sum(piece.tokens for piece in self.pieces)


def call_seed(request: GenerationRequest) -> bytes:
    """The bytes every choice of this call derives from (see the module docstring)."""
    greedy = request.temperature == 0
    key = [request.model, list(request.messages), None if greedy else request.seed,
           request.temperature]  # fmt: skip
    return hashlib.blake2b(
        json.dumps(key, sort_keys=True, ensure_ascii=False, default=str).encode(), digest_size=16
    ).digest()


def plan_completion(request: GenerationRequest, tokenizer: Tokenizer) -> Plan:
    """The whole completion, cut to the request's limits, as the pieces to stream."""
    seed = call_seed(request)
    rng = random.Random(seed)
    sentences = SENTENCES[_script_of(request.messages)]
    tool = _chosen_tool(request, rng)
    if tool is not None:
        return _tool_call(request, tool, rng, sentences, seed, tokenizer)
    text = _answer(request.response_format, rng, sentences)
    finish: FinishReason = "stop"
    cut = min((i for s in request.stop if s and (i := text.find(s)) >= 0), default=-1)
    if cut >= 0:
        text = text[:cut]
    tokens = tokenizer.encode(text)
    if len(tokens) > request.max_tokens:
        tokens, finish = tokens[: request.max_tokens], "length"
    pieces = tuple(Piece(t, n) for t, n in tokenizer.pieces(tokens))
    return Plan("content", pieces, finish)


def _script_of(messages: Sequence[Mapping[str, object]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            script = dominant_script(text_of(message.get("content")))
            return script if script is not None and script in SENTENCES else DEFAULT_SCRIPT
    return DEFAULT_SCRIPT


def _answer(
    response_format: Mapping[str, object] | None, rng: random.Random, sentences: Sequence[str]
) -> str:
    kind = (response_format or {}).get("type", "text")
    if kind == "json_schema":
        spec = (response_format or {}).get("json_schema")
        schema = spec.get("schema", {}) if isinstance(spec, Mapping) else {}
        return json.dumps(value_for(schema, rng, sentences), ensure_ascii=False)
    count = rng.randint(*_SENTENCES_PER_ANSWER)
    chosen = [rng.choice(sentences) for _ in range(count)]
    text = " ".join(s for i, s in enumerate(chosen) if i == 0 or s != chosen[i - 1])
    if kind == "json_object":
        return json.dumps({"answer": text}, ensure_ascii=False)
    return text


def _functions(request: GenerationRequest) -> list[Mapping[str, object]]:
    found = []
    for tool in request.tools:
        function = tool.get("function")
        if tool.get("type", "function") == "function" and isinstance(function, Mapping):
            found.append(function)
    return found


def _chosen_tool(request: GenerationRequest, rng: random.Random) -> Mapping[str, object] | None:
    functions = _functions(request)
    choice = request.tool_choice
    if isinstance(choice, Mapping):
        wanted = choice.get("function")
        name = wanted.get("name") if isinstance(wanted, Mapping) else None
        for function in functions:
            if function.get("name") == name:
                return function
        raise UnknownTool(f"tool_choice names function {name!r}, which is not among tools")
    if not functions or choice == "none":
        return None
    if choice == "required":
        return functions[rng.randrange(len(functions))]
    last = request.messages[-1] if request.messages else {}
    if last.get("role") != "user":
        return None
    said = text_of(last.get("content")).lower()
    for function in functions:
        name = str(function.get("name", "")).lower()
        if name and (name in said or name.replace("_", " ") in said):
            return function
    return None


def _tool_call(
    request: GenerationRequest, function: Mapping[str, object], rng: random.Random,
    sentences: Sequence[str], seed: bytes, tokenizer: Tokenizer,
) -> Plan:  # fmt: skip
    name = str(function.get("name", ""))
    arguments = json.dumps(value_for(function.get("parameters", {}), rng, sentences),
                           ensure_ascii=False)  # fmt: skip
    call_id = "call_" + hashlib.blake2b(seed + b"|call", digest_size=12).hexdigest()
    head = Piece("", min(tokenizer.count(name), request.max_tokens), call_id, name)
    tokens = tokenizer.encode(arguments)
    budget = request.max_tokens - head.tokens
    finish: FinishReason = "tool_calls"
    if len(tokens) > budget:
        tokens, finish = tokens[:budget], "length"
    pieces = (head, *(Piece(t, n) for t, n in tokenizer.pieces(tokens)))
    return Plan("tool_call", pieces, finish)

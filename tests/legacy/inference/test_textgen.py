"""The text-generation simulator: seeded, in the user's script, cut by the request's limits."""

from __future__ import annotations

import json

import jsonschema
import pytest

from legacy.inference.sentences import SENTENCES
from legacy.inference.textgen import GenerationRequest, UnknownTool, plan_completion
from legacy.inference.tokenizer import Tokenizer
from legacy.text.scripts import dominant_script

words = Tokenizer()
CITY = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": CITY}}


def ask(text: str = "How do I plan a trip?", **options: object) -> GenerationRequest:
    fields: dict = {"max_tokens": 4000, **options}
    return GenerationRequest("sarvam-m", [{"role": "user", "content": text}], **fields)


def answer(request: GenerationRequest) -> str:
    return "".join(piece.text for piece in plan_completion(request, words).pieces)


def test_the_answer_is_seeded_by_model_messages_seed_and_temperature() -> None:
    assert answer(ask(seed=1)) == answer(ask(seed=1))
    assert len({answer(ask(seed=s)) for s in range(8)}) > 4
    assert answer(ask(seed=1)) != answer(ask(seed=1, temperature=0.7))
    # Greedy decoding does not sample: the seed does not matter at temperature 0.
    assert answer(ask(seed=1, temperature=0)) == answer(ask(seed=2, temperature=0))


@pytest.mark.parametrize("script", sorted(SENTENCES))
def test_the_answer_is_in_the_script_of_the_last_user_message(script: str) -> None:
    request = GenerationRequest("sarvam-m", [
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "Hi!"},
        {"role": "user", "content": SENTENCES[script][0]},
    ], max_tokens=4000)  # fmt: skip
    assert dominant_script(answer(request)) == script


def test_max_tokens_cuts_a_prefix_with_length_and_counts_every_token() -> None:
    whole = plan_completion(ask("नमस्ते", seed=3), words)
    for limit in (1, 2, 7, 20):
        cut = plan_completion(ask("नमस्ते", seed=3, max_tokens=limit), words)
        assert (cut.finish_reason, cut.completion_tokens) == ("length", limit)
        assert "".join(p.text for p in whole.pieces).startswith("".join(p.text for p in cut.pieces))
    assert whole.finish_reason == "stop"
    assert whole.completion_tokens == words.count("".join(p.text for p in whole.pieces))


def test_stop_sequences_cut_before_the_first_occurrence() -> None:
    text = answer(ask(seed=4))
    stop = text.split()[2]
    plan = plan_completion(ask(seed=4, stop=("zzz", stop)), words)
    assert "".join(p.text for p in plan.pieces) == text[: text.index(stop)]
    assert plan.finish_reason == "stop"


@pytest.mark.parametrize(
    ("choice", "text", "calls"),
    [
        ("required", "hello", True),
        ({"type": "function", "function": {"name": "get_weather"}}, "hello", True),
        ("auto", "what is the weather? use get weather", True),
        (None, "what is the weather in Pune?", False),
        ("none", "get_weather please", False),
    ],
)
def test_tool_choice(choice: object, text: str, calls: bool) -> None:
    plan = plan_completion(ask(text, tools=[TOOL], tool_choice=choice), words)
    assert (plan.kind == "tool_call") is calls
    if calls:
        head, *rest = plan.pieces
        assert (head.tool_name, plan.finish_reason) == ("get_weather", "tool_calls")
        assert (head.tool_id or "").startswith("call_")
        arguments = json.loads("".join(p.text for p in rest))
        jsonschema.validate(arguments, TOOL["function"]["parameters"])


def test_a_tool_choice_naming_no_tool_is_refused() -> None:
    choice = {"type": "function", "function": {"name": "nope"}}
    with pytest.raises(UnknownTool, match="'nope'"):
        plan_completion(ask(tools=[TOOL], tool_choice=choice), words)


def test_json_formats() -> None:
    loose = json.loads(answer(ask(response_format={"type": "json_object"})))
    assert set(loose) == {"answer"}
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    strict_format = {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}
    strict = answer(ask(response_format=strict_format))
    jsonschema.validate(json.loads(strict), schema)

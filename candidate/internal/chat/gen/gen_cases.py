"""Write ../testdata/cases.json.gz and ../testdata/chunks.json from legacy's chat code.

* ``cases.json``: requests to ``/v1`` and ``/v2/chat/completions`` run through legacy's own
  app (``legacy_chat.py``: the real routes, error handlers, commerce middleware and chat model;
  a fake ledger), each with legacy's answer, its billing calls (the estimate holds the prompt's
  tokens, so they are checked too) and the bytes it sent the model. Replayed by the chat
  package (validation messages, prompt tokens, the model payload) and by httpapi's
  chat_cases_test.go (the whole answer, SSE bytes included, and the ledger calls).
* ``chunks.json``: model events turned into SSE frames and a whole ``chat.completion`` by
  legacy/chat/chunks.py (StreamWriter, collect).

    .venv/bin/python candidate/internal/chat/gen/gen_cases.py
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[3]))

from legacy_chat import CREATED, ID, Recorder  # noqa: E402

from legacy.chat.chunks import StreamIdentity, StreamWriter, collect  # noqa: E402
from legacy.chat.model_client import Delta, End  # noqa: E402

JSON = "application/json"
KEY = {"authorization": "Bearer ok"}
HELLO = [{"role": "user", "content": "Hello! How do I plan a trip to Jaipur?"}]
HINDI = [{"role": "user", "content": "नमस्ते, मुझे दिल्ली के बारे में बताइए।"}]
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "minLength": 2},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
                "ratio": {"type": "number", "minimum": 0.5, "maximum": 1e3},
            },
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
    },
}
SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "maxLength": 40},
        "stops": {"type": "array", "items": {"type": "string"}, "minItems": 2},
        "nights": {"type": "integer", "minimum": 1, "maximum": 9},
        "budget": {"anyOf": [{"type": "number", "exclusiveMinimum": 0}, {"type": "null"}]},
    },
    "required": ["title", "stops", "nights", "budget"],
}


def case(name: str, body: Any = None, *, raw: str | None = None, path: str = "/v1",
         content_type: str | None = JSON, headers: dict[str, str] | None = None,
         ) -> dict[str, Any]:  # fmt: skip
    data = raw.encode() if raw is not None else json.dumps(body, ensure_ascii=False).encode()
    hs = [("x-request-id", f"case-{name}")]
    if content_type is not None:
        hs.append(("content-type", content_type))
    hs += list((headers if headers is not None else KEY).items())
    return {"name": name, "path": f"{path}/chat/completions", "headers": hs, "body": data}


def chat(**more: Any) -> dict[str, Any]:
    return {"model": "sarvam-m", "messages": HELLO, **more}


VALIDATION = [
    case("empty-body", raw=""),
    case("bad-json", raw='{"model": "sarvam-m",}'),
    case("array-body", raw="[]"),
    case("null-body", raw="null"),
    case("no-content-type", chat(), content_type=None),
    case("text-plain", chat(), content_type="text/plain"),
    case("missing-all", {}),
    case("missing-messages", {"model": "sarvam-m"}),
    case("missing-model", {"messages": HELLO}),
    case("model-empty", chat(model="")),
    case("model-number", chat(model=5)),
    case("model-null", chat(model=None)),
    case("model-surrogate", raw='{"model": "\\ud800", "messages": [{"role": "user"}]}'),
    case("messages-empty", chat(messages=[])),
    case("messages-string", chat(messages="hi")),
    case("messages-null", chat(messages=None)),
    case("messages-items", chat(messages=[5, "x", None, [], {"role": "user"}])),
    case("messages-no-role", chat(messages=[{"content": "hi"}])),
    case("messages-role-number", chat(messages=[{"role": "user"}, {"role": 5}])),
    case("messages-role-null", chat(messages=[{"role": None, "content": "x"}])),
    case("max-tokens-0", chat(max_tokens=0)),
    case("max-tokens-negative", chat(max_tokens=-1)),
    case("max-tokens-string", chat(max_tokens="5")),
    case("max-tokens-fraction", chat(max_tokens=5.5)),
    case("max-tokens-bool", chat(max_tokens=True)),
    case("max-tokens-inf", raw='{"model": "sarvam-m", "messages": [], "max_tokens": 1e400}'),
    case("max-tokens-nan", raw='{"model": "sarvam-m", "messages": [], "max_tokens": NaN}'),
    case("max-tokens-neg-float", chat(max_tokens=-2.0)),
    case("max-completion-tokens-0", chat(max_completion_tokens=0)),
    case("max-completion-tokens-list", chat(max_completion_tokens=[1])),
    case("stream-string", chat(stream="yes")),
    case("stream-number", chat(stream=1)),
    case("stream-options-number", chat(stream=True, stream_options=5)),
    case("stream-options-list", chat(stream=True, stream_options=[])),
    case("stream-options-usage-string", chat(stream=True, stream_options={"include_usage": "y"})),
    case("stop-number", chat(stop=5)),
    case("stop-list-number", chat(stop=["a", 5])),
    case("stop-five", chat(stop=["a", "b", "c", "d", "e"])),
    case("stop-surrogate", raw='{"model": "sarvam-m", "messages": [], "stop": "\\udc00"}'),
    case("seed-fraction", chat(seed=1.5)),
    case("seed-string", chat(seed="1")),
    case("seed-bool", chat(seed=False)),
    case("seed-inf", raw='{"model": "sarvam-m", "messages": [{"role": "user"}], "seed": -1e999}'),
    case("temperature-low", chat(temperature=-0.1)),
    case("temperature-high", chat(temperature=3)),
    case("temperature-string", chat(temperature="1")),
    case("temperature-bool", chat(temperature=True)),
    case("temperature-nan", raw='{"model": "sarvam-m", "messages": [{}], "temperature": NaN}'),
    case("temperature-inf", raw='{"model": "m", "messages": [{}], "temperature": Infinity}'),
    case("top-p-high", chat(top_p=1.5)),
    case("top-p-bool", chat(top_p=False)),
    case("top-p-string", chat(top_p="0.5")),
    case("n-2", chat(n=2)),
    case("n-0", chat(n=0)),
    case("n-string", chat(n="1")),
    case("n-fraction", chat(n=1.5)),
    case("tools-number", chat(tools=5)),
    case("tools-items", chat(tools=[5, "f", {"type": "function"}])),
    case("tool-choice-word", chat(tool_choice="maybe")),
    case("tool-choice-number", chat(tool_choice=5)),
    case("tool-choice-list", chat(tool_choice=[])),
    case("response-format-xml", chat(response_format={"type": "xml"})),
    case("response-format-type-number", chat(response_format={"type": 5})),
    case("response-format-schema-missing", chat(response_format={"type": "json_schema"})),
    case("response-format-schema-list", chat(response_format={"type": "json_schema",
                                                               "json_schema": []})),
    case("response-format-string", chat(response_format="json")),
    case("many-problems", {"model": 1, "messages": [], "max_tokens": 0, "stream": "x",
                           "stop": 3, "temperature": 9, "n": 4, "tools": {},
                           "tool_choice": "x", "response_format": {"type": "x"}}),
    case("temperature-huge-int", raw='{"model": "m", "messages": [{"role": "u"}], '
                                     '"temperature": 1' + "0" * 400 + ', "top_p": 1e400}'),
    case("tool-choice-surrogate", raw='{"model": "m", "messages": [{"role": "u"}], '
                                      '"tool_choice": "\\ud800"}'),
    case("problems-and-validators", chat(messages=[{}], stop=list("abcde"),
                                         response_format={"type": "y"}, n=2)),
]  # fmt: skip

FLOWS = [
    case("plain", chat(seed=7)),
    case("plain-v2", chat(seed=7), path="/v2"),
    case("system-user", chat(messages=[{"role": "system", "content": "You are terse."},
                                       *HELLO], seed=1)),
    case("multi-turn", chat(messages=[*HELLO, {"role": "assistant", "content": "Start early."},
                                      {"role": "user", "content": "And in summer?"}])),
    case("hindi", chat(model="sarvam-105b", messages=HINDI, seed=1)),
    case("tamil-v2", chat(model="gemma4", messages=[{"role": "user",
                          "content": "வணக்கம், எப்படி இருக்கிறீர்கள்?"}]), path="/v2"),
    case("temperature-0", chat(temperature=0, seed=9)),
    case("temperature-int", chat(temperature=1, seed=9)),
    case("temperature-float", chat(temperature=0.7, seed=9, top_p=0.9)),
    case("max-tokens-5", chat(max_tokens=5, seed=3)),
    case("max-tokens-float", chat(max_tokens=6.0, seed=3)),
    case("max-tokens-both", chat(max_tokens=3, max_completion_tokens=9)),
    case("max-completion-tokens", chat(max_completion_tokens=4, seed=None, stop=None,
                                       tools=None)),
    case("max-tokens-over-context", chat(max_tokens=9000)),
    case("max-tokens-8190", chat(max_tokens=8190)),
    case("max-tokens-huge", chat(max_tokens=10**30)),
    case("max-tokens-huge-float", chat(max_tokens=1e20)),
    case("seed-float", chat(seed=2.0, max_tokens=8)),
    case("seed-huge", chat(seed=-(10**25), max_tokens=8)),
    case("seed-exp", chat(seed=1e3, max_tokens=8)),
    case("stop-string", chat(stop="the", seed=3)),
    case("stop-list", chat(stop=["answer", "", "x"], seed=3)),
    case("stop-empty-list", chat(stop=[], seed=3, max_tokens=4)),
    case("n-1", chat(n=1.0, max_tokens=2)),
    case("extra-knobs", chat(frequency_penalty=0.5, some_future_knob={"x": 1}, user="u",
                             max_tokens=3)),
    case("nulls", chat(max_tokens=None, stream=None, stream_options=None, stop=None,
                       seed=None, temperature=None, top_p=None, n=None, tools=None,
                       tool_choice=None, response_format=None)),
    case("tools-required", chat(tools=[WEATHER], tool_choice="required")),
    case("tools-named", chat(tools=[WEATHER], tool_choice={"type": "function",
                                                           "function": {"name": "get_weather"}})),
    case("tools-auto-named", chat(messages=[{"role": "user", "content": "get weather in Pune"}],
                                  tools=[WEATHER])),
    case("tools-auto-text", chat(tools=[WEATHER], tool_choice="auto", max_tokens=10)),
    case("tools-none", chat(tools=[WEATHER], tool_choice="none", max_tokens=10)),
    case("tools-unknown-choice", chat(tools=[{"type": "function", "function": {"name": "f"}}],
                                      tool_choice={"type": "function",
                                                   "function": {"name": "g"}})),
    case("tools-cut", chat(tools=[WEATHER], tool_choice="required", max_tokens=4)),
    case("tools-empty", chat(tools=[], max_tokens=4)),
    case("tool-round-trip", chat(messages=[
        *HELLO,
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": "get_weather", "arguments": "{\"city\": \"Jaipur\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp\": 31.5}"},
    ], tools=[WEATHER], max_tokens=12)),
    case("json-object", chat(response_format={"type": "json_object"}, seed=2)),
    case("json-schema", chat(response_format={"type": "json_schema",
                                              "json_schema": {"name": "trip", "schema": SCHEMA}})),
    case("response-format-text", chat(response_format={"type": "text"}, max_tokens=5)),
    case("response-format-empty", chat(response_format={}, max_tokens=5)),
    case("content-parts", chat(messages=[{"role": "user", "content": [
        {"type": "text", "text": "What is in this picture?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
        {"type": "input_image", "image_url": "data:image/png;base64,AAAA"},
        {"type": ["image"]}, "a loose string", 42, 1.5, None, True, ["x", 'y"z'],
        {"type": "audio"}]}], max_tokens=6)),
    case("content-odd", chat(messages=[
        {"role": "user", "content": 5}, {"role": "user", "content": {"a": 1}},
        {"role": "user", "content": None}, {"role": "user", "content": 1e100},
        {"role": "user", "content": "last", "name": 0}], max_tokens=6)),
    case("names", chat(messages=[
        {"role": "user", "name": "asha", "content": "hi"},
        {"role": "user", "name": 2.5, "content": "hi"},
        {"role": "user", "name": [1, "two", None, False, {"k": 1e-7}], "content": "hi"},
        {"role": "user", "name": "", "content": "hi", "tool_call_id": 0},
        {"role": "tool", "tool_call_id": 12345678901234567890, "content": "x"},
        {"role": "user", "content": "bye", "tool_calls": [1.0, "s", None, {"b": 1, "a": [2]}]},
    ], max_tokens=6)),
    case("numbers-in-tools", chat(tools=[{"type": "function", "function": {
        "name": "f", "parameters": {"type": "object", "properties": {
            "a": {"type": "number", "minimum": -0.0, "maximum": 1e16, "multipleOf": 0.25},
            "b": {"type": "integer", "minimum": 1e2, "maximum": 123456789012345678901234567890},
            "c": {"type": "number", "default": 1e-5, "examples": [100000.0, 0.0001, 1.5e300]}},
            "required": ["a", "b", "c"]}}}], tool_choice="required")),
    case("unicode-keys", chat(messages=[{"role": "user", "content": "x", "é": 1, "b": 2, "a": 3,
                                         "😀": {"z": 1, "y": 2}}], max_tokens=3)),
    case("nan-in-messages", raw='{"model": "sarvam-m", "messages": [{"role": "user", '
                                '"content": "hi", "w": NaN}]}'),
    case("surrogate-in-content", raw='{"model": "sarvam-m", "messages": [{"role": "user", '
                                     '"content": "hi \\ud83d"}]}'),
    case("escapes", raw='{"model": "sarvam-m", "messages": [{"role": "user", "content": '
                        '"tab\\t nl\\n ctl\\u0001 del\\u007f quote\\" slash\\/ ls\\u2028 '
                        '\\ud83d\\ude00"}], "max_tokens": 4}'),
    case("duplicate-keys", raw='{"model": "gemma4", "model": "sarvam-m", "messages": '
                               '[{"role": "user", "content": "a", "content": "b"}], '
                               '"max_tokens": 3}'),
    case("whitespace-body", raw=' \n {"model":"sarvam-m","messages":[{"role":"user",'
                                '"content":"hi"}],"max_tokens":2} \n'),
    case("key-surrogate", raw='{"model": "sarvam-m", "messages": [{"role": "user", '
                              '"content": "hi", "\\udc00": 1}]}'),
    case("stop-surrogate-list", raw='{"model": "sarvam-m", "messages": [{"role": "user", '
                                    '"content": "hi"}], "stop": ["\\ud800"]}'),
    case("infinity-in-tools", raw='{"model": "sarvam-m", "messages": [{"role": "user", '
                                  '"content": "hi"}], "tools": [{"type": "function", "function": '
                                  '{"name": "f", "parameters": {"maximum": -Infinity}}}]}'),
    case("nan-name", raw='{"model": "sarvam-m", "max_tokens": 2, "messages": [{"role": "user", '
                         '"content": "hi", "name": 1e16}, {"role": "user", "content": '
                         '[1e16, 0.0001, 1e-05, -0.0, 12345678901234567890, true]}]}'),
    case("schema-object-empty", chat(response_format={"type": "json_schema", "json_schema": {}},
                                     max_tokens=5)),
    case("line-separator-in-arguments", chat(tools=[{"type": "function", "function": {
        "name": "f", "parameters": {"type": "object", "properties": {
            "a": {"enum": ["x\u2028y"]}}, "required": ["a"]}}}], tool_choice="required")),
    case("line-separator-in-arguments-stream", chat(stream=True, tools=[{"type": "function",
        "function": {"name": "f", "parameters": {"type": "object", "properties": {
            "a": {"enum": ["x\u0085y"]}}, "required": ["a"]}}}], tool_choice="required")),
    case("unknown-model", chat(model="gpt-4o")),
    case("unknown-model-quote", chat(model="it's")),
    case("unknown-model-both-quotes", chat(model="it's \"x\"")),
    case("unknown-model-controls", chat(model="a\tb\nc\x7fd\u200be\u00a0f\U0001F600\\")),
    case("long-prompt-over-context", chat(messages=[{"role": "user",
                                                     "content": "word " * 8200}])),
    case("long-prompt-default-budget", chat(messages=[{"role": "user",
                                                       "content": "word " * 7500}])),
    # Streams.
    case("stream", chat(stream=True, seed=5)),
    case("stream-usage", chat(stream=True, seed=5, stream_options={"include_usage": True})),
    case("stream-usage-false", chat(stream=True, stream_options={"include_usage": False},
                                    max_tokens=4)),
    case("stream-usage-null", chat(stream=True, stream_options={"include_usage": None,
                                                                "x": 1}, max_tokens=4)),
    case("stream-false", chat(stream=False, max_tokens=4, stream_options={"include_usage": True})),
    case("stream-v2", chat(stream=True, max_tokens=6, stream_options={"include_usage": True}),
         path="/v2"),
    case("stream-hindi-cut", chat(messages=HINDI, stream=True, max_tokens=7)),
    case("stream-tools", chat(stream=True, tools=[WEATHER], tool_choice={
        "type": "function", "function": {"name": "get_weather"}},
        stream_options={"include_usage": True})),
    case("stream-json-schema", chat(stream=True, response_format={
        "type": "json_schema", "json_schema": {"name": "trip", "schema": SCHEMA}})),
    case("stream-over-context", chat(stream=True, max_tokens=9000)),
    # Billing.
    case("no-key", chat(max_tokens=2), headers={}),
    case("bad-key", chat(max_tokens=2), headers={"authorization": "Bearer bad"}),
    case("bad-key-v2", chat(max_tokens=2), path="/v2", headers={"api-subscription-key": "bad"}),
    case("broke", chat(max_tokens=2, stream=True), headers={"api-subscription-key": "broke"}),
    case("limited", chat(max_tokens=2), headers={"authorization": "Bearer limited"}),
    case("shadow", chat(max_tokens=2), headers={**KEY, "x-banyan-shadow": "1"}),
    case("shadow-stream", chat(max_tokens=2, stream=True), headers={**KEY,
                                                                     "x-banyan-shadow": "1"}),
    case("subscription-key", chat(max_tokens=2), headers={"api-subscription-key": "ok"}),
    case("unknown-model-bad-key", chat(model="nope"), headers={"authorization": "Bearer bad"}),
    case("invalid-bad-key", chat(n=3), headers={"authorization": "Bearer bad"}),
    # The model failing.
    case("model-500", chat(messages=[{"role": "user", "content": "MODEL-500"}])),
    case("model-500-stream", chat(messages=[{"role": "user", "content": "MODEL-500"}],
                                  stream=True)),
    case("model-cut", chat(messages=[{"role": "user", "content": "MODEL-CUT"}])),
    case("model-cut-stream", chat(messages=[{"role": "user", "content": "MODEL-CUT"}],
                                  stream=True, stream_options={"include_usage": True})),
    case("model-nostart", chat(messages=[{"role": "user", "content": "MODEL-NOSTART"}])),
    case("model-empty", chat(messages=[{"role": "user", "content": "MODEL-EMPTY"}],
                             stream=True)),
]  # fmt: skip


def chunk_cases() -> list[dict[str, Any]]:
    """Event sequences through StreamWriter and collect."""
    identity = StreamIdentity(ID, CREATED, "sarvam-m")
    sequences: list[tuple[str, list[Delta | End]]] = [
        ("text", [Delta("नम", 3), Delta("स्ते \"quoted\"\n", 2), End("stop", 5)]),
        ("empty", [End("stop", 0)]),
        ("cut", [Delta("Hello", 1), End("length", 1)]),
        ("no-end", [Delta("Hello", 1), Delta(" there", 1)]),
        ("tool", [Delta("", 2, "call_1", "get_weather"), Delta('{"city": ', 3),
                  Delta('"Pune"}', 2), End("tool_calls", 7)]),
        ("tool-no-name", [Delta("", 1, "call_x", None), Delta("{}", 1), End("tool_calls", 2)]),
        ("text-then-tool", [Delta("Let me check. ", 4), Delta("", 2, "call_1", "f"),
                            Delta("{}", 1), Delta("", 1, "call_2", "g"), Delta("[1]", 2),
                            End("tool_calls", 10)]),
        ("controls", [Delta("\t\x00\x1f\x7f\u2028😀<>&", 9), End("stop", 9)]),
    ]  # fmt: skip
    out = []
    for name, events in sequences:
        for usage in (False, True):
            writer = StreamWriter(identity, 11, usage)
            frames = [writer.opening()]
            finish = "length"
            for event in events:
                if isinstance(event, End):
                    finish = event.finish_reason
                    break
                frames.append(writer.delta(event))
            frames += writer.closing(finish)
            out.append({
                "name": f"{name}{'-usage' if usage else ''}",
                "events": [_event(e) for e in events],
                "include_usage": usage,
                "frames": [{"data": f.data.decode(), "tokens": f.tokens} for f in frames],
                "completion": json.dumps(collect(identity, 11, events).model_dump(),
                                         ensure_ascii=False, separators=(",", ":")),
            })  # fmt: skip
    return out


def _event(event: Delta | End) -> dict[str, Any]:
    if isinstance(event, End):
        return {"type": "end", "finish_reason": event.finish_reason,
                "completion_tokens": event.completion_tokens}  # fmt: skip
    out: dict[str, Any] = {"type": "delta", "text": event.text, "tokens": event.tokens}
    if event.tool_id is not None:
        out |= {"tool_id": event.tool_id, "tool_name": event.tool_name}
    return out


def main() -> None:
    recorder = Recorder()
    cases = [recorder.run(c) for c in VALIDATION + FLOWS]
    data = HERE.parent / "testdata"
    data.mkdir(exist_ok=True)
    table = json.dumps(cases, ensure_ascii=False, indent=1) + "\n"
    (data / "cases.json.gz").write_bytes(gzip.compress(table.encode(), 9, mtime=0))
    chunks = chunk_cases()
    (data / "chunks.json").write_text(json.dumps(chunks, ensure_ascii=False, indent=1) + "\n")
    print(f"wrote {len(cases)} request cases and {len(chunks)} chunk cases to {data}")


if __name__ == "__main__":
    main()

"""Parity of the Go candidate's chat completions with legacy's, by the shadow engine's comparators.

Every request of the corpus goes to legacy and to the candidate with the same ``X-Request-ID``
(both bill it: legacy's live ledger, the candidate's shadow ledger via ``X-Banyan-Shadow``) and
both ask the same chat model, and the two answers are compared as the shadow process would:
status, content type, then the body as JSON or as an SSE stream. Two more checks go past the
shadow engine: an SSE stream is also compared event for event with its values (the engine's SSE
comparator looks at the events' shapes and the reassembled text, not at tool-call arguments or
usage values in every chunk), and the ledger lines each side wrote for the request (units,
quantities, credits) must be the same.

``id`` and ``created`` are ignored, and only because legacy itself varies them between two
identical calls (a fresh completion id each time, the clock): the test first sends legacy the
same requests twice and fails if anything else differs. It prints the route's parity and every
divergence found, and fails on any divergence not in :data:`KNOWN`.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx

from shadow.compare.config import CompareConfig, IgnoreRule
from shadow.compare.dispatch import compare
from shadow.model import Diff, Observation
from tests.candidate.ledger import ledger_differences, settled

# corpus case name -> why the answers may differ (rfcs/0006-candidate-decisions.md)
KNOWN: dict[str, str] = {}

# Fields legacy varies between two identical calls (checked by the noise probe below).
NOISE = (IgnoreRule("completion-id", path="id"), IgnoreRule("created", path="created"))
CONFIG = CompareConfig(headers=("content-type",), ignore=NOISE)

HELLO = [{"role": "user", "content": "Hello! How do I plan a trip to Jaipur?"}]
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
            },
            "required": ["city", "unit"],
        },
    },
}
TRIP = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "maxLength": 40},
        "stops": {"type": "array", "items": {"type": "string"}, "minItems": 2},
        "nights": {"type": "integer", "minimum": 1, "maximum": 9},
    },
    "required": ["title", "stops", "nights"],
}
USAGE = {"include_usage": True}
SHADOW = "X-Banyan-Shadow"


def chat(**more: Any) -> dict[str, Any]:
    return {"model": "sarvam-m", "messages": HELLO, **more}


def said(text: str, **more: Any) -> dict[str, Any]:
    return chat(messages=[{"role": "user", "content": text}], **more)


CORPUS: dict[str, tuple[str, Any]] = {
    # Plain answers, in the script of the last user message.
    "plain": ("/v1", chat(seed=7)),
    "plain-v2": ("/v2", chat(seed=7)),
    "system-user": ("/v1", chat(messages=[{"role": "system", "content": "Be brief."}, *HELLO])),
    "multi-turn": ("/v1", chat(messages=[*HELLO, {"role": "assistant", "content": "Go in winter."},
                                         {"role": "user", "content": "And where to stay?"}])),
    "hindi": ("/v1", said("नमस्ते, मुझे दिल्ली के बारे में बताइए।", model="sarvam-105b", seed=1)),
    "tamil-v2": ("/v2", said("வணக்கம், எப்படி இருக்கிறீர்கள்?", model="gemma4")),
    "bengali": ("/v1", said("নমস্কার, কলকাতা ভ্রমণের পরিকল্পনা কীভাবে করব?", seed=11)),
    "content-parts": ("/v1", chat(messages=[{"role": "user", "content": [
        {"type": "text", "text": "What is in this picture?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}])),
    # Sampling and limits.
    "temperature-0": ("/v1", chat(temperature=0, seed=9)),
    "temperature-1": ("/v1", chat(temperature=1, seed=9)),
    "temperature-top-p": ("/v1", chat(temperature=0.7, top_p=0.9, seed=9)),
    "max-tokens": ("/v1", chat(max_tokens=5, seed=3)),
    "max-completion-tokens": ("/v1", chat(max_completion_tokens=4, seed=None, stop=None)),
    "stop-string": ("/v1", chat(stop="the", seed=3)),
    "stop-list": ("/v1", chat(stop=["answer", "plan"], seed=3)),
    "n-1": ("/v1", chat(n=1, max_tokens=6)),
    "seed-float": ("/v1", chat(seed=2.0, max_tokens=8)),
    "unknown-knobs": ("/v1", chat(frequency_penalty=0.5, user="u", extra={"x": 1}, max_tokens=4)),
    # Tools and formats.
    "tools-required": ("/v1", chat(tools=[WEATHER], tool_choice="required")),
    "tools-named": ("/v1", chat(tools=[WEATHER], tool_choice={
        "type": "function", "function": {"name": "get_weather"}})),
    "tools-auto-call": ("/v1", said("Please get weather for Pune", tools=[WEATHER])),
    "tools-auto-text": ("/v1", chat(tools=[WEATHER], max_tokens=12)),
    "tools-none": ("/v1", chat(tools=[WEATHER], tool_choice="none", max_tokens=12)),
    "tool-round-trip": ("/v1", chat(messages=[*HELLO, {"role": "assistant", "content": None,
        "tool_calls": [{"id": "call_1", "type": "function", "function": {
            "name": "get_weather", "arguments": "{\"city\": \"Jaipur\", \"unit\": \"celsius\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "31 degrees"}],
        tools=[WEATHER], max_tokens=16)),
    "json-object": ("/v1", chat(response_format={"type": "json_object"}, seed=2)),
    "json-schema": ("/v1", chat(response_format={"type": "json_schema",
                                                 "json_schema": {"name": "trip", "schema": TRIP}})),
    # Streams.
    "stream": ("/v1", chat(stream=True, seed=5)),
    "stream-usage": ("/v1", chat(stream=True, seed=5, stream_options=USAGE)),
    "stream-usage-v2": ("/v2", said("வணக்கம்!", model="sarvam-105b", stream=True,
                                    stream_options=USAGE)),
    "stream-cut": ("/v1", chat(stream=True, max_tokens=7, stream_options=USAGE)),
    "stream-tools": ("/v1", chat(stream=True, tools=[WEATHER], tool_choice="required",
                                 stream_options=USAGE)),
    "stream-json-schema": ("/v1", chat(stream=True, response_format={
        "type": "json_schema", "json_schema": {"name": "trip", "schema": TRIP}})),
    # Refusals: the model's (400), the platform's (400, 422).
    "over-context": ("/v1", chat(max_tokens=9000)),
    "stream-over-context": ("/v1", chat(max_tokens=9000, stream=True)),
    "unknown-tool": ("/v1", chat(tools=[WEATHER], tool_choice={
        "type": "function", "function": {"name": "nope"}})),
    "unknown-model": ("/v1", chat(model="gpt-4o")),
    "missing-messages": ("/v1", {"model": "sarvam-m"}),
    "no-role": ("/v1", chat(messages=[{"content": "hi"}])),
    "n-2": ("/v1", chat(n=2)),
    "temperature-3": ("/v1", chat(temperature=3)),
    "five-stops": ("/v1", chat(stop=["a", "b", "c", "d", "e"])),
    "format-xml": ("/v1", chat(response_format={"type": "xml"})),
    "tool-choice-bad": ("/v2", chat(tool_choice="sometimes")),
    "many-problems": ("/v1", {"model": 1, "messages": [], "max_tokens": 0, "stream": "x",
                              "stop": 3, "tools": {}, "response_format": "json"}),
    "not-an-object": ("/v1", ["model", "sarvam-m"]),
}  # fmt: skip
NOISE_PROBES = ("plain", "tools-required", "json-schema", "stream-usage")


def observe(response: httpx.Response) -> Observation:
    headers = tuple((k.encode().lower(), v.encode()) for k, v in response.headers.items())
    elapsed = response.elapsed.total_seconds()
    return Observation(response.status_code, headers, response.content, elapsed, elapsed)


def counted(diffs: list[Diff]) -> list[Diff]:
    """The diffs no ignore rule covers (as the shadow engine's classify does)."""
    return [d for d in diffs if not any(rule.covers(d.path) for rule in CONFIG.ignore)]


def events(body: bytes) -> list[object]:
    """An SSE body's events, each payload parsed, id and created dropped."""
    out: list[object] = []
    for event in body.decode().split("\n\n"):
        if not event:
            continue
        data = event.removeprefix("data: ")
        if data == "[DONE]":
            out.append(data)
            continue
        chunk = json.loads(data)
        out.append({k: v for k, v in chunk.items() if k not in ("id", "created")})
    return out


def exact_stream_diffs(legacy: httpx.Response, candidate: httpx.Response) -> list[Diff]:
    if not legacy.headers.get("content-type", "").startswith("text/event-stream"):
        return []
    ours, theirs = events(legacy.content), events(candidate.content)
    for i, (a, b) in enumerate(zip(ours, theirs, strict=False)):
        if a != b:
            return [Diff(f"$sse.exact[{i}]", "changed", str(a)[:300], str(b)[:300])]
    if len(ours) != len(theirs):
        return [Diff("$sse.exact", "changed", len(ours), len(theirs))]
    return []


def post(client: httpx.Client, url: str, path: str, body: Any, key: str, **headers: str):
    return client.post(
        f"{url}{path}/chat/completions", json=body,
        headers={"Authorization": f"Bearer {key}", **headers},
    )  # fmt: skip


def test_legacy_varies_only_the_completion_id_and_created(platform) -> None:
    """The noise the ignore rules stand for: legacy answering the same request twice (a second
    apart, so the clock moves), each time under a request id of its own."""
    key = platform.make_tenant(credits="1000", requests_per_minute=10_000)
    varied: set[str] = set()
    with httpx.Client(timeout=60) as client:
        for name in NOISE_PROBES:
            path, body = CORPUS[name]
            first = post(client, platform.direct_url, path, body, key)
            time.sleep(1.05)
            second = post(client, platform.direct_url, path, body, key)
            assert first.status_code == second.status_code == 200
            varied |= {d.field for d in compare(observe(first), observe(second), CONFIG)}
    print(f"NOISE chat-completions: legacy varies {sorted(varied)}")
    assert varied == {"id", "created"}, varied


def test_chat_completions_answer_as_legacy_does(platform, candidate_url: str) -> None:
    key = platform.make_tenant(credits="1000", requests_per_minute=10_000)
    matched: list[bool] = []
    unexplained: list[str] = []
    request_ids: dict[str, str] = {}
    with httpx.Client(timeout=60) as client:
        for name, (path, body) in CORPUS.items():
            request_id = request_ids[name] = f"parity-chat-{name}-{uuid.uuid4().hex[:8]}"
            same = {"X-Request-ID": request_id}
            legacy = post(client, platform.direct_url, path, body, key, **same)
            candidate = post(client, candidate_url, path, body, key, **same, **{SHADOW: "1"})
            diffs = counted(compare(observe(legacy), observe(candidate), CONFIG))
            diffs += exact_stream_diffs(legacy, candidate)
            matched.append(not diffs)
            for diff in diffs:
                line = (f"chat-completions {name} {diff.path} {diff.kind}: "
                        f"legacy={diff.control!r} candidate={diff.candidate!r}")  # fmt: skip
                print("DIVERGENCE " + line)
                if name not in KNOWN:
                    unexplained.append(line)
        billed = settled(platform, client, list(request_ids.values()))
    for name, difference in ledger_differences(billed, request_ids).items():
        line = f"chat-completions {name} {difference}"
        print("DIVERGENCE " + line)
        matched[list(request_ids).index(name)] = False
        if name not in KNOWN:
            unexplained.append(line)
    print(f"PARITY chat-completions: {sum(matched)}/{len(matched)} = "
          f"{sum(matched) / len(matched):.3f}")  # fmt: skip
    assert not unexplained, "\n".join(unexplained)
    assert sum(bool(billed[rid]["live"]) for rid in request_ids.values()) >= 25  # billed cases

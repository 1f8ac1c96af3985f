"""The chat API on the wire: SSE framing, body quirks, and billing a stream cut short; legacy
direct, through the proxy, and the Go candidate (issue 7)."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from decimal import Decimal

import asyncpg
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from legacy.inference.tokenizer import Tokenizer

# A long answer (Bengali: ~2 tokens a letter), so a stream is still going when it is cut.
QUESTION = [{"role": "user", "content": "নমস্কার, কলকাতা ভ্রমণের পরিকল্পনা কীভাবে করব?"}]


def ledger(platform, request_id: str, *, wait_s: float = 5.0) -> dict[str, Decimal]:
    async def fetch() -> dict[str, Decimal]:
        conn = await asyncpg.connect(platform.database_url)
        try:
            rows = await conn.fetch(
                "SELECT unit, quantity FROM legacy.ledger WHERE request_id = $1", request_id
            )
        finally:
            await conn.close()
        return {r["unit"]: r["quantity"] for r in rows}

    deadline = time.monotonic() + wait_s
    while not (rows := asyncio.run(fetch())) and time.monotonic() < deadline:
        time.sleep(0.05)
    return rows


def post(base_url: str, key: str, body: dict, **headers: str) -> httpx.Response:
    with httpx.Client(timeout=30) as http:
        return http.post(
            f"{base_url}/v1/chat/completions", json=body,
            headers={"Authorization": f"Bearer {key}", **headers},
        )  # fmt: skip


def test_a_stream_cut_short_bills_exactly_the_tokens_delivered(
    ported_base_url: str, platform
) -> None:
    base_url = ported_base_url
    key = platform.make_tenant()
    body = {"model": "sarvam-m", "messages": QUESTION, "seed": 11}
    whole = post(base_url, key, body).json()
    text = whole["choices"][0]["message"]["content"]
    pieces = [tokens for _, tokens in Tokenizer().pieces(Tokenizer().encode(text))]
    prefix_sums = list(itertools.accumulate(pieces))
    assert len(pieces) > 60  # long enough to cut in the middle

    request_id = f"cut-{uuid.uuid4().hex[:12]}"
    received = 0
    with (
        httpx.Client(timeout=30) as http,
        http.stream(
            "POST", f"{base_url}/v1/chat/completions", json={**body, "stream": True},
            headers={"api-subscription-key": key, "X-Request-ID": request_id},
        ) as response,
    ):  # fmt: skip
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data: ") and '"content": "' in line and '"content": ""' not in line:
                received += 1
                if received == 5:
                    break  # the client goes away mid-answer

    billed = ledger(platform, request_id)
    assert billed["tokens_in"] == whole["usage"]["prompt_tokens"]
    # Whole chunks only, at least those the client read, never the whole answer.
    assert billed["tokens_out"] in prefix_sums
    assert prefix_sums[4] <= billed["tokens_out"] < whole["usage"]["completion_tokens"]


def test_sse_framing_and_streaming_decided_by_the_body(ported_base_url: str, platform) -> None:
    base_url = ported_base_url
    key = platform.make_tenant()
    body = {"model": "sarvam-m", "messages": QUESTION, "stream": True, "max_tokens": 6,
            "stream_options": {"include_usage": True}, "frequency_penalty": 0.5,
            "some_future_knob": {"x": 1}}  # fmt: skip
    response = post(base_url, key, body, Accept="application/json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-request-id"]
    events = [e for e in response.text.split("\n\n") if e]
    assert all(e.startswith("data: ") and not e.startswith("data:  ") for e in events)
    assert events[-1] == "data: [DONE]"
    chunks = [json.loads(e.removeprefix("data: ")) for e in events[:-1]]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert chunks[-2]["choices"][0] == {
        "index": 0, "delta": {}, "logprobs": None, "finish_reason": "length"
    }  # fmt: skip
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["completion_tokens"] == 6
    assert {c["id"] for c in chunks} == {chunks[0]["id"]}


def test_every_completion_has_an_id_of_its_own(side_url: str, platform) -> None:
    """Two completions under one request id (a retry, a shadow replay) are still two."""
    key = platform.make_tenant()
    body = {"model": "sarvam-m", "messages": QUESTION, "max_tokens": 2}
    same = f"same-{uuid.uuid4().hex[:8]}"
    headers = [{"X-Request-ID": f"{same}-0"}, {"X-Request-ID": f"{same}-1"},
               {"X-Banyan-Shadow": "1", "X-Request-ID": f"{same}-0"}]  # fmt: skip
    ids = [post(side_url, key, body, **h).json()["id"] for h in headers]
    assert all(i.startswith("chatcmpl-") for i in ids)
    assert len(set(ids)) == 3


def test_max_completion_tokens_is_max_tokens_and_null_means_absent(
    ported_base_url: str, platform
) -> None:
    base_url = ported_base_url
    key = platform.make_tenant()
    body = {"model": "sarvam-m", "messages": QUESTION, "max_completion_tokens": 4,
            "seed": None, "stop": None, "tools": None}  # fmt: skip
    answer = post(base_url, key, body).json()
    assert answer["usage"]["completion_tokens"] == 4
    assert answer["choices"][0]["finish_reason"] == "length"


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"model": "sarvam-m"}, 422, "body.messages"),
        ({"model": "sarvam-m", "messages": [{"content": "hi"}]}, 422, "needs a role"),
        ({"model": "sarvam-m", "messages": QUESTION, "n": 2}, 422, "body.n"),
        ({"model": "sarvam-m", "messages": QUESTION, "temperature": 3}, 422, "temperature"),
        ({"model": "sarvam-m", "messages": QUESTION, "response_format": {"type": "xml"}}, 422,
         "json_object"),
        ({"model": "sarvam-m", "messages": QUESTION, "stop": ["a", "b", "c", "d", "e"]}, 422,
         "at most 4"),
        ({"model": "sarvam-m", "messages": QUESTION, "tools": [{"type": "function", "function":
          {"name": "f"}}], "tool_choice": {"type": "function", "function": {"name": "g"}}}, 400,
         "not among tools"),
    ],
)  # fmt: skip
def test_bad_bodies_are_clear_4xx(
    side_url: str, platform, body: dict, status: int, needle: str
) -> None:
    response = post(side_url, platform.make_tenant(), body)
    assert response.status_code == status, response.text
    assert needle in response.json()["error"]["message"]


def test_a_refused_request_gives_its_hold_back(side_url: str, platform) -> None:
    key = platform.make_tenant(credits="12")
    body = {"model": "sarvam-m", "messages": QUESTION, "max_tokens": 8190}
    for _ in range(3):  # each holds ~9.8 credits: a hold kept would make the next one a 402
        assert post(side_url, key, body).status_code == 400
    ok = post(side_url, key, {**body, "max_tokens": 10})
    assert ok.status_code == 200, ok.text


FINITE = st.floats(allow_nan=False, allow_infinity=False)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | FINITE | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=3),
    max_leaves=8,
)  # fmt: skip
SCHEMA = st.dictionaries(
    st.sampled_from(["type", "properties", "required", "items", "minLength", "maxLength",
                     "minimum", "maximum", "enum", "$ref", "anyOf", "minItems"]),
    JSON,
)  # fmt: skip
MESSAGE = st.dictionaries(
    st.sampled_from(["role", "content", "name", "tool_calls"]),
    JSON | st.sampled_from(["user", "assistant"]),
)
TOOL = st.fixed_dictionaries(
    {"type": st.just("function"),
     "function": st.fixed_dictionaries({"name": st.text(max_size=5), "parameters": SCHEMA})}
)  # fmt: skip
FORMAT = st.fixed_dictionaries(
    {"type": st.sampled_from(["json_object", "json_schema", "text"]),
     "json_schema": st.fixed_dictionaries({"schema": SCHEMA})}
)  # fmt: skip
BODIES = st.fixed_dictionaries(
    {"model": st.sampled_from(["sarvam-m", "gemma4", "nope", ""]),
     "messages": st.lists(MESSAGE, max_size=3)},
    optional={
        "max_tokens": st.integers(-2, 40), "stream": st.booleans(), "stop": JSON,
        "seed": JSON, "temperature": JSON, "n": JSON, "stream_options": JSON,
        "tools": st.lists(TOOL, max_size=2), "response_format": FORMAT,
        "tool_choice": JSON | st.sampled_from(["auto", "required", "none"]),
    },
)  # fmt: skip


# side_url is function-scoped but the same URL for every example: nothing to reset between them.
@settings(
    max_examples=60, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)  # fmt: skip
@given(body=BODIES)
def test_no_body_is_a_500(side_url: str, chat_key: str, body: dict) -> None:
    response = post(side_url, chat_key, body)
    assert response.status_code < 500, response.text
    assert response.status_code in (200, 400, 422), response.text


@pytest.fixture(scope="module")
def chat_key(platform) -> str:
    return platform.make_tenant(credits="1000")

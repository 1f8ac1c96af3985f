"""Model deltas to SSE frames and to a whole chat.completion."""

from __future__ import annotations

import json

from legacy.chat.chunks import DONE, StreamIdentity, StreamWriter, collect
from legacy.chat.model_client import Delta, End

ID = StreamIdentity("chatcmpl-1", 1767225600, "sarvam-m")


def payload(data: bytes) -> dict:
    assert data.startswith(b"data: {")
    assert data.endswith(b"\n\n")
    return json.loads(data[6:])


def test_a_content_stream_is_role_deltas_finish_usage_done() -> None:
    writer = StreamWriter(ID, prompt_tokens=10, include_usage=True)
    frames = [writer.opening(), writer.delta(Delta("नम", 3)), writer.delta(Delta("स्ते", 2))]
    frames += writer.closing("stop")
    assert [f.tokens for f in frames] == [0, 3, 2, 0, 0, 0]
    role, first, _second, finish, usage = (payload(f.data) for f in frames[:-1])
    assert frames[-1].data == DONE
    assert role["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert first["choices"][0]["delta"] == {"content": "नम"}
    assert (first["object"], first["id"], first["usage"]) == ("chat.completion.chunk", ID.id, None)
    assert finish["choices"][0] == {"index": 0, "delta": {}, "logprobs": None,
                                    "finish_reason": "stop"}  # fmt: skip
    assert usage["choices"] == []
    assert usage["usage"] == {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}


def test_no_usage_chunk_unless_asked() -> None:
    writer = StreamWriter(ID, prompt_tokens=10, include_usage=False)
    frames = writer.closing("length")
    assert [payload(f.data)["choices"][0]["finish_reason"] for f in frames[:-1]] == ["length"]
    assert frames[-1].data == DONE


def test_a_tool_call_streams_its_name_then_its_arguments() -> None:
    writer = StreamWriter(ID, prompt_tokens=1, include_usage=False)
    head = payload(writer.delta(Delta("", 2, "call_1", "get_weather")).data)
    rest = payload(writer.delta(Delta('{"city": "Pune"}', 6)).data)
    assert head["choices"][0]["delta"]["tool_calls"] == [
        {"index": 0, "id": "call_1", "type": "function",
         "function": {"name": "get_weather", "arguments": ""}}
    ]  # fmt: skip
    assert rest["choices"][0]["delta"]["tool_calls"] == [
        {"index": 0, "function": {"arguments": '{"city": "Pune"}'}}
    ]


def test_collect_builds_the_whole_completion() -> None:
    text = collect(ID, 7, [Delta("Hello", 1), Delta(" there", 1), End("stop", 2)])
    assert text.choices[0].message.content == "Hello there"
    assert (text.usage.completion_tokens, text.usage.total_tokens) == (2, 9)
    call = collect(ID, 7, [Delta("", 2, "call_1", "f"), Delta('{"a":', 2), Delta(" 1}", 2),
                           End("tool_calls", 6)])  # fmt: skip
    message = call.choices[0].message
    assert message.content is None
    assert message.tool_calls is not None
    assert message.tool_calls[0].function.arguments == '{"a": 1}'
    assert call.choices[0].finish_reason == "tool_calls"

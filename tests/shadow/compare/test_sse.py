"""The SSE comparator on chat streams framed by legacy's own writer, and on generic streams."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from legacy.chat.chunks import StreamIdentity, StreamWriter
from legacy.chat.model_client import Delta
from shadow.compare import sse
from shadow.compare.config import CompareConfig, parse_compare
from shadow.compare.sse import SseEvent, compare_sse, parse_sse
from shadow.model import CandidateGarbage, Diff

PLAIN = CompareConfig()


def chat_stream(
    pieces: list[str],
    *,
    usage: bool = True,
    finish: str = "stop",
    done: bool = True,
    ident: str = "chatcmpl-1",
    created: int = 1767225600,
) -> bytes:
    """A chat stream exactly as legacy frames it (legacy/chat/chunks.py), one token a piece."""
    writer = StreamWriter(StreamIdentity(ident, created, "sarvam-m"), 12, usage)
    frames = [writer.opening(), *(writer.delta(Delta(p, 1)) for p in pieces)]
    frames += writer.closing(finish)
    body = b"".join(frame.data for frame in frames)
    return body if done else body.removesuffix(b"data: [DONE]\n\n")


LEGACY = chat_stream(["Namaste", ", ", "Pune", "!"])


def paths(found: list[Diff]) -> list[tuple[str, str]]:
    return [(d.path, d.kind) for d in found]


def test_public_surface_is_pinned() -> None:
    assert set(sse.__all__) == {"SseEvent", "compare_sse", "parse_sse"}


# Parsing -----------------------------------------------------------------------------------------


def test_parse_joins_data_lines_and_reads_event_and_id() -> None:
    body = b": keep-alive\nevent: delta\nid: 7\ndata: a\ndata:b\n\ndata: [DONE]\n\n"
    assert parse_sse(body) == [SseEvent("delta", "a\nb", "7"), SseEvent("message", "[DONE]", "7")]


def test_parse_accepts_crlf_cr_and_a_bom_and_drops_an_unfinished_event() -> None:
    body = "\ufeffdata: x\r\n\r\ndata: y\r\rdata: é\n\ndata: cut".encode()
    assert [e.data for e in parse_sse(body)] == ["x", "y", "é"]


def test_parse_keeps_an_empty_data_event_and_skips_one_without_data() -> None:
    assert parse_sse(b"data:\n\nevent: ping\n\nretry: 5\n\n") == [SseEvent("message", "")]


def test_parse_keeps_unicode_line_separators_inside_data() -> None:
    body = 'data: {"c": "a\u2028b\x85c"}\n\n'.encode()
    assert json.loads(parse_sse(body)[0].data) == {"c": "a\u2028b\x85c"}


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\r\n"), max_size=8),
        min_size=1,
        max_size=5,
    )
)
def test_parse_reads_what_a_writer_wrote_whatever_the_line_end(payloads: list[str]) -> None:
    for end in ("\n", "\r\n", "\r"):
        body = "".join(f"data: {p}{end}{end}" for p in payloads).encode()
        assert [e.data for e in parse_sse(body)] == payloads


# Chat streams ----------------------------------------------------------------------------------


def test_another_id_timestamp_and_split_of_the_same_text_is_only_a_count_change() -> None:
    candidate = chat_stream(["Namaste, ", "Pune!"], ident="chatcmpl-2", created=1767225999)
    assert paths(compare_sse(LEGACY, candidate, PLAIN)) == [
        ("$sse.count", "changed"),
        ("$sse.usage.completion_tokens", "changed"),
        ("$sse.usage.total_tokens", "changed"),
    ]


def test_identical_streams_and_other_ids_match() -> None:
    assert compare_sse(LEGACY, LEGACY, PLAIN) == []
    assert compare_sse(LEGACY, chat_stream(["Namaste", ", ", "Pune", "!"], ident="x"), PLAIN) == []


def test_a_missing_usage_chunk() -> None:
    candidate = chat_stream(["Namaste", ", ", "Pune", "!"], usage=False)
    found = compare_sse(LEGACY, candidate, PLAIN)
    assert Diff("$sse.usage", "removed", "object(3 keys)", None) in found
    assert Diff("$sse.count", "changed", 8, 7) in found
    order = next(d for d in found if d.path == "$sse.order")
    assert order.control == "role contentx4 finish usage [DONE]"
    assert order.candidate == "role contentx4 finish [DONE]"
    # The other way round it is an extra usage chunk.
    assert Diff("$sse.usage", "added", None, "object(3 keys)") in compare_sse(
        candidate, LEGACY, PLAIN
    )


def test_a_missing_done_is_a_terminal_diff() -> None:
    candidate = chat_stream(["Namaste", ", ", "Pune", "!"], done=False)
    found = compare_sse(LEGACY, candidate, PLAIN)
    assert Diff("$sse.terminal", "removed", "[DONE]", None) in found
    assert ("$sse.order", "changed") in paths(found)


def test_another_finish_reason_and_a_missing_finish_chunk() -> None:
    found = compare_sse(LEGACY, chat_stream(["Namaste", ", ", "Pune", "!"], finish="length"), PLAIN)
    assert found == [Diff("$sse.terminal", "changed", "stop", "length")]
    events = [e + b"\n\n" for e in LEGACY.split(b"\n\n") if e]
    unfinished = b"".join(e for e in events if b'"finish_reason": "stop"' not in e)
    assert Diff("$sse.terminal", "removed", "stop", None) in compare_sse(LEGACY, unfinished, PLAIN)


def test_text_differences_show_both_texts() -> None:
    candidate = chat_stream(["Namaste", ", ", "Mumbai", "!"])
    assert compare_sse(LEGACY, candidate, PLAIN) == [
        Diff("$sse.text", "changed", "Namaste, Pune!", "Namaste, Mumbai!")
    ]


def test_usage_values_honour_tolerance() -> None:
    candidate = chat_stream(["Namaste", ", ", "Pune", "!", "!"])
    tolerance = {"$sse.usage.completion_tokens": 1, "$sse.usage.total_tokens": 1}
    loose = parse_compare({"tolerance": tolerance}, route="t")
    assert paths(compare_sse(LEGACY, candidate, loose)) == [
        ("$sse.count", "changed"),
        ("$sse.text", "changed"),
    ]


def test_schema_differences_are_reported_once_per_field() -> None:
    extra = LEGACY.replace(b'"logprobs": null, ', b"").replace(
        b'"object": "chat.completion.chunk"',
        b'"object": "chat.completion.chunk", "x_debug": {"w": 1}',
    )
    found = compare_sse(LEGACY, extra, PLAIN)
    assert found == [
        Diff("$sse[0].choices[0].logprobs", "removed", None, None),
        Diff("$sse[0].x_debug", "added", None, "object(1 keys)"),
    ]
    assert compare_sse(LEGACY, extra, parse_compare({"subset": True}, route="t")) == found[:1]


def test_schema_values_do_not_count_but_types_of_subtrees_do() -> None:
    changed = LEGACY.replace(b'"logprobs": null', b'"logprobs": {"content": []}', 1)
    assert compare_sse(LEGACY, changed, PLAIN) == [
        Diff("$sse[0].choices[0].logprobs", "type_changed", None, "object(1 keys)")
    ]


def test_schema_is_compared_on_aligned_events_after_a_missing_chunk() -> None:
    # The candidate lacks the role chunk; its finish chunk has an extra field. Alignment pairs
    # finish with finish (control index 5), not the events at the same positions.
    events = [e + b"\n\n" for e in LEGACY.split(b"\n\n") if e]
    finish = events[5].replace(b'"finish_reason"', b'"stop_reason": 1, "finish_reason"')
    candidate = b"".join([*events[1:5], finish, *events[6:]])
    found = compare_sse(LEGACY, candidate, PLAIN)
    assert ("$sse[5].choices[0].stop_reason", "added") in paths(found)
    assert [p for p, _ in paths(found) if p.startswith("$sse[")] == [
        "$sse[5].choices[0].stop_reason"
    ]


# Garbage -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "candidate",
    [
        b"\xff\xfe garbage",  # not UTF-8
        b"",  # no event at all
        b"HTTP/1.1 500 oops\n",  # no event either (an unfinished line)
        b'data: {"id": "chatcmpl-1", "choices": [\n\ndata: [DONE]\n\n',  # JSON cut short
        b"data: hello\n\ndata: [DONE]\n\n",  # text where the control sends JSON
    ],
)
def test_a_candidate_stream_that_does_not_read_is_garbage(candidate: bytes) -> None:
    with pytest.raises(CandidateGarbage):
        compare_sse(LEGACY, candidate, PLAIN)


def test_a_control_stream_that_is_not_utf8_is_compared_as_bytes() -> None:
    assert compare_sse(b"\xff", LEGACY, PLAIN) == [
        Diff("$body", "changed", "bytes(1)", f"bytes({len(LEGACY)})")
    ]


# Generic streams -------------------------------------------------------------------------------


def named(*events: tuple[str, str]) -> bytes:
    return b"".join(f"event: {name}\ndata: {data}\n\n".encode() for name, data in events)


def test_generic_streams_compare_names_order_and_payloads() -> None:
    control = named(
        ("start", '{"job": 1}'), ("progress", "10%"), ("progress", "50%"), ("end", "ok")
    )
    same_shape = control.replace(b'"job": 1', b'"job": 2')
    assert compare_sse(control, same_shape, PLAIN) == []
    candidate = named(
        ("start", '{"job": 1, "eta": 3}'), ("progress", "10%"), ("end", "done"), ("end", "ok")
    )
    # Same count and order of names; the end run pairs up by position.
    assert compare_sse(control, candidate, PLAIN) == [
        Diff("$sse[0].eta", "added", None, 3),
        Diff("$sse[3]", "changed", "ok", "done"),
    ]
    reordered = named(("start", '{"job": 1}'), ("end", "ok"), ("progress", "10%"))
    assert compare_sse(control, reordered, PLAIN)[:2] == [
        Diff("$sse.count", "changed", 4, 3),
        Diff("$sse.order", "changed", "start progressx2 end", "start end progress"),
    ]


def test_a_generic_text_stream_accepts_any_text_from_the_candidate() -> None:
    control = b"data: hello\n\ndata: world\n\n"
    assert compare_sse(control, b"data: hello\n\ndata: there\n\n", PLAIN) == [
        Diff("$sse[1]", "changed", "world", "there")
    ]

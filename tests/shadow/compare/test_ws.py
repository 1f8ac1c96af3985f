"""WebSocket sessions (shadow/compare/ws.py): captured bytes made by wsproto itself, parsed back
into messages; server-message sequences aligned and compared."""

from __future__ import annotations

import json
import random
import time
import zlib
from collections.abc import Sequence

import numpy as np
import pytest
from wsproto.connection import Connection, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Event, Ping, Pong, TextMessage
from wsproto.extensions import PerMessageDeflate

from legacy.speech.codecs import encode
from shadow.compare.config import CompareConfig, CompareConfigError, parse_compare
from shadow.compare.ws import (
    MAX_ALIGNED_MESSAGES,
    MAX_MESSAGE_BYTES,
    ParsedStream,
    compare_sessions,
    message_type,
    parse_frames,
)
from shadow.model import CandidateGarbage, Diff, WsMessage

CONFIG = CompareConfig()


def frames(*events: Event, client: bool, deflate: bool = False) -> list[bytes]:
    """The bytes a client (masked) or a server sends for each event, one item per event."""
    extensions = []
    if deflate:
        extension = PerMessageDeflate()
        extension.finalize("permessage-deflate")
        extensions.append(extension)
    role = ConnectionType.CLIENT if client else ConnectionType.SERVER
    sender = Connection(role, extensions=extensions)
    return [sender.send(event) for event in events]


def timed(pieces: Sequence[bytes], start: float = 0.0) -> list[tuple[float, bytes]]:
    return [(start + k / 8, piece) for k, piece in enumerate(pieces)]  # exact in binary


FRAGMENTED = (
    TextMessage(data='{"type": "text", "data": {"te', message_finished=False),
    Ping(payload=b"keepalive"),  # a control frame between two fragments
    TextMessage(data='xt": "नमस्ते"}}', message_finished=True),
    BytesMessage(data=b"\x00\x01\x02", message_finished=False),
    BytesMessage(data=b"\x03", message_finished=True),
    Pong(payload=b""),
    TextMessage(data='{"type": "flush"}'),
    CloseConnection(code=1000, reason="done"),
)
EXPECTED = (
    WsMessage(at=2 / 8, text='{"type": "text", "data": {"text": "नमस्ते"}}'),
    WsMessage(at=4 / 8, data=b"\x00\x01\x02\x03"),
    WsMessage(at=6 / 8, text='{"type": "flush"}'),
)


@pytest.mark.parametrize("client", [True, False])
def test_fragmented_messages_are_reassembled_and_control_frames_dropped(client: bool) -> None:
    parsed = parse_frames(timed(frames(*FRAGMENTED, client=client)), from_client=client)
    assert parsed == ParsedStream(EXPECTED, error=None, truncated=(), close_code=1000)


def test_bytes_split_at_every_offset_give_the_same_messages_timed_by_the_completing_chunk() -> None:
    stream = b"".join(frames(*FRAGMENTED, client=True))
    whole = parse_frames([(1.0, stream)], from_client=True)
    assert [m.text or m.data for m in whole.messages] == [m.text or m.data for m in EXPECTED]
    ends = []  # offset just past each message's last frame
    total = 0
    for piece, event in zip(frames(*FRAGMENTED, client=True), FRAGMENTED, strict=True):
        total += len(piece)
        if isinstance(event, TextMessage | BytesMessage) and event.message_finished:
            ends.append(total)
    for offset in range(1, len(stream)):
        parsed = parse_frames([(1.0, stream[:offset]), (2.0, stream[offset:])], from_client=True)
        assert [m.text or m.data for m in parsed.messages] == [
            m.text or m.data for m in EXPECTED
        ], offset
        assert [m.at for m in parsed.messages] == [1.0 if end <= offset else 2.0 for end in ends]
        assert parsed.close_code == 1000
        assert parsed.error is None


def test_masking_tells_the_directions_apart() -> None:
    masked = frames(TextMessage(data="hi"), client=True)
    unmasked = frames(TextMessage(data="hi"), client=False)
    assert parse_frames(timed(masked), from_client=True).messages == (WsMessage(0.0, "hi"),)
    wrong_way = parse_frames(timed(masked), from_client=False)
    assert wrong_way.messages == ()
    assert wrong_way.error is not None
    assert "invalid WebSocket data (1002)" in wrong_way.error
    assert parse_frames(timed(unmasked), from_client=True).error is not None


def test_corrupt_bytes_stop_parsing_and_keep_what_was_complete() -> None:
    good = frames(TextMessage(data='{"type": "audio"}'), TextMessage(data="second"), client=False)
    parsed = parse_frames(timed([*good, b"\x8f\x05garbage", *good]), from_client=False)
    assert [m.text for m in parsed.messages] == ['{"type": "audio"}', "second"]
    assert parsed.error is not None
    assert parsed.close_code is None


def test_invalid_utf8_in_a_text_message_is_an_error() -> None:
    header = bytes([0x81, 4])  # FIN, text, unmasked, 4 bytes
    parsed = parse_frames([(0.5, header + b"\xff\xfe\xfd\xfc")], from_client=False)
    assert parsed.messages == ()
    assert parsed.error is not None
    assert "(1007)" in parsed.error


def test_a_stream_cut_inside_a_message_keeps_the_complete_ones_and_says_so() -> None:
    done, started = frames(
        TextMessage(data="complete"),
        TextMessage(data="half of it", message_finished=False),
        client=False,
    )
    parsed = parse_frames(timed([done, started]), from_client=False)
    assert parsed.messages == (WsMessage(0.0, "complete"),)
    assert parsed.error == "the stream ended inside a message"
    cut_frame = parse_frames(timed([done, started[:5]]), from_client=False)
    assert cut_frame.messages == (WsMessage(0.0, "complete"),)
    assert cut_frame.error == "the stream ended inside a message"


def test_a_message_past_the_cap_is_truncated_and_flagged() -> None:
    big = bytes(range(256)) * (MAX_MESSAGE_BYTES // 256 + 2048)
    pieces = frames(
        BytesMessage(data=big[: len(big) // 2], message_finished=False),
        BytesMessage(data=big[len(big) // 2 :], message_finished=True),
        TextMessage(data="x" * (MAX_MESSAGE_BYTES + 10)),
        TextMessage(data="after"),
        client=True,
    )
    parsed = parse_frames(timed(pieces), from_client=True)
    assert parsed.error is None
    assert parsed.truncated == (0, 1)
    first, second, third = parsed.messages
    assert first.data == big[:MAX_MESSAGE_BYTES]
    assert second.text == "x" * MAX_MESSAGE_BYTES
    assert third == WsMessage(at=3 / 8, text="after")


def test_data_after_the_close_frame_is_ignored() -> None:
    pieces = frames(TextMessage(data="a"), CloseConnection(code=1008), client=False)
    parsed = parse_frames(timed([*pieces, b"\x81\x01b"]), from_client=False)
    assert parsed == ParsedStream((WsMessage(0.0, "a"),), None, (), 1008)


def test_permessage_deflate_streams_are_inflated() -> None:
    events = (TextMessage(data='{"type": "audio", "data": "' + "a" * 5000 + '"}'),) * 3
    pieces = frames(*events, client=True, deflate=True)
    assert sum(map(len, pieces)) < 1000  # really compressed
    negotiated = "permessage-deflate; client_max_window_bits=15"
    parsed = parse_frames(timed(pieces), from_client=True, extensions=negotiated)
    assert parsed.error is None
    assert [m.text for m in parsed.messages] == [e.data for e in events]
    # Without the extension the compressed frames are invalid (RSV1 set).
    assert parse_frames(timed(pieces), from_client=True).error is not None


def test_a_deflate_bomb_is_an_error_not_a_gigabyte() -> None:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    payload = compressor.compress(b"\0" * (8 * MAX_MESSAGE_BYTES)) + compressor.flush(
        zlib.Z_SYNC_FLUSH
    )
    payload = payload[:-4]
    assert len(payload) < 10_000
    header = bytes([0xC2, 126]) + len(payload).to_bytes(2, "big")  # FIN+RSV1, binary
    parsed = parse_frames(
        [(0.0, header + payload)], from_client=False, extensions="permessage-deflate"
    )
    assert parsed.messages == ()
    assert parsed.error is not None
    assert "(1009)" in parsed.error


# --- comparing sessions -----------------------------------------------------------------


def flatten(value: object, path: str, out: dict[str, object]) -> dict[str, object]:
    if isinstance(value, dict):
        for key, item in value.items():
            flatten(item, f"{path}.{key}" if path else key, out)
    elif isinstance(value, list):
        for k, item in enumerate(value):
            flatten(item, f"{path}[{k}]", out)
    else:
        out[path] = value
    return out


def flat_compare(
    control: bytes, candidate: bytes, config: CompareConfig, prefix: str
) -> list[Diff]:
    """A small stand-in for shadow/compare/json_diff.py: paths and values, no rules."""
    try:
        theirs = flatten(json.loads(candidate), "", {})
    except json.JSONDecodeError as exc:
        raise CandidateGarbage("candidate message is not JSON") from exc
    ours = flatten(json.loads(control), "", {})
    diffs = []
    for path in sorted(ours.keys() | theirs.keys()):
        if path not in theirs:
            diffs.append(Diff(prefix + path, "removed", ours[path], None))
        elif path not in ours:
            diffs.append(Diff(prefix + path, "added", None, theirs[path]))
        elif ours[path] != theirs[path]:
            diffs.append(Diff(prefix + path, "changed", ours[path], theirs[path]))
    return diffs


def msg(kind: str, at: float = 0.0, **data: object) -> WsMessage:
    return WsMessage(at=at, text=json.dumps({"type": kind, "data": data}))


def compare(control: Sequence[WsMessage], candidate: Sequence[WsMessage]) -> list[Diff]:
    return compare_sessions(control, candidate, CONFIG, compare_message=flat_compare)


TTS = [msg("audio", audio=f"chunk{k}") for k in range(4)] + [msg("event", event_type="final")]


def test_identical_sessions_have_no_diff_whatever_the_timing() -> None:
    later = [WsMessage(m.at + 1.5, m.text) for m in TTS]
    assert compare(TTS, later) == []


def test_a_dropped_final_message_is_one_removed_diff_at_its_index() -> None:
    assert compare(TTS, TTS[:-1]) == [Diff("$ws[4]", "removed", "event", None)]
    audio_only = TTS[:-1]
    assert compare(audio_only, audio_only[:-1]) == [Diff("$ws[3]", "removed", "audio", None)]


def test_an_extra_message_is_one_added_diff_at_the_index_it_comes_before() -> None:
    extra = [*TTS[:2], msg("error", message="boom"), *TTS[2:]]
    assert compare(TTS, extra) == [Diff("$ws[2]", "added", None, "error")]
    assert compare(TTS, [*TTS, msg("event", event_type="final")]) == [
        Diff("$ws[5]", "added", None, "event")
    ]


def test_a_message_of_another_type_is_one_changed_diff() -> None:
    stt = [msg("events", signal_type="START_SPEECH"), msg("data", transcript="hello")]
    other = [msg("events", signal_type="START_SPEECH"), msg("error", error="no model")]
    assert compare(stt, other) == [Diff("$ws[1]", "changed", "data", "error")]


def test_aligned_json_messages_are_compared_field_by_field_at_the_control_index() -> None:
    control = [msg("events", signal_type="START_SPEECH"), msg("data", transcript="hello", n=1)]
    candidate = [msg("data", transcript="hullo", n=1)]
    assert compare(control, candidate) == [
        Diff("$ws[0]", "removed", "events", None),
        Diff("$ws[1].data.transcript", "changed", "hello", "hullo"),
    ]


def test_the_alignment_costs_the_edit_distance_on_random_sessions() -> None:
    rng = random.Random(5)

    def distance(a: list[str], b: list[str]) -> int:
        row = list(range(len(b) + 1))
        for i, x in enumerate(a, 1):
            previous, row[0] = row[0], i
            for j, y in enumerate(b, 1):
                previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
        return row[-1]

    for _ in range(300):
        a = [rng.choice("abc") for _ in range(rng.randrange(0, 9))]
        b = [rng.choice("abc") for _ in range(rng.randrange(0, 9))]
        diffs = compare([msg(t) for t in a], [msg(t) for t in b])
        assert len(diffs) == distance(a, b), (a, b, diffs)
        removed = [d for d in diffs if d.kind == "removed"]
        added = [d for d in diffs if d.kind == "added"]
        assert len(a) - len(removed) == len(b) - len(added)


def test_text_binary_and_typeless_messages_get_their_own_types() -> None:
    assert message_type(WsMessage(0, data=b"\x00")) == "<binary>"
    assert message_type(WsMessage(0, text="hello")) == "<text>"
    assert message_type(WsMessage(0, text="[1, 2]")) == "<json>"
    assert message_type(WsMessage(0, text='{"type": 3}')) == "<json>"
    assert message_type(WsMessage(0, text='{"type": "audio"}')) == "audio"
    control = [WsMessage(0, text="plain"), WsMessage(0, data=b"\x01\x02")]
    candidate = [WsMessage(0, text="plane"), WsMessage(0, data=b"\x01")]
    assert compare(control, candidate) == [
        Diff("$ws[0]", "changed", "plain", "plane"),
        Diff("$ws[1]", "changed", "2 bytes", "1 bytes"),
    ]
    assert compare(control, [WsMessage(0, data=b"x"), control[1]]) == [
        Diff("$ws[0]", "changed", "<text>", "<binary>")
    ]


def test_binary_audio_messages_are_compared_as_audio() -> None:
    rate = 16_000
    t = np.arange(rate) / rate
    tone = (np.sin(2 * np.pi * 330 * t) * 8000).astype("<i2").tobytes()
    control = [WsMessage(0, data=encode(tone, rate, "wav"))]
    same = [WsMessage(0, data=encode(tone, rate, "flac"))]
    assert compare(control, same) == [
        Diff("$ws[0].$audio.container", "changed", "wav", "flac"),
        Diff("$ws[0].$audio.codec", "changed", "pcm_s16le", "flac"),
    ]
    broken = [WsMessage(0, data=b"RIFF....WAVEnot really")]
    assert [d.path for d in compare(control, broken)] == ["$ws[0]"]


def test_garbage_from_the_message_comparator_propagates() -> None:
    with pytest.raises(CandidateGarbage):
        compare_sessions(
            [WsMessage(0, text="{}")],
            [WsMessage(0, text="[]")],
            CONFIG,
            compare_message=lambda *_: (_ for _ in ()).throw(CandidateGarbage("bad")),
        )


def test_a_full_alignment_of_two_thousand_messages_is_fast() -> None:
    rng = random.Random(9)
    kinds = ["audio", "event", "error", "data", "events"]
    a = [msg(rng.choice(kinds)) for _ in range(MAX_ALIGNED_MESSAGES)]
    b = [msg(rng.choice(kinds)) for _ in range(MAX_ALIGNED_MESSAGES)]
    started = time.perf_counter()
    diffs = compare(a, b)
    elapsed = time.perf_counter() - started
    assert 0 < len(diffs) < MAX_ALIGNED_MESSAGES
    assert elapsed < 2.0, elapsed


def test_longer_sessions_trim_the_common_ends_then_fall_back_to_index_order() -> None:
    long = [msg("audio", audio=str(k)) for k in range(3 * MAX_ALIGNED_MESSAGES)]
    # A common prefix and suffix are aligned in linear time, so one removal is still one diff.
    assert compare(long, long[:-1]) == [Diff(f"$ws[{len(long) - 1}]", "removed", "audio", None)]
    mixed = [msg("audio" if k % 3 else "event") for k in range(MAX_ALIGNED_MESSAGES + 500)]
    shifted = [msg("error"), *mixed[:-1]]
    diffs = compare(mixed, shifted)
    # By index: every pair of different types is one diff; bounded, no table was built.
    assert len(diffs) > 2
    assert all(d.kind == "changed" for d in diffs)


def test_public_surface_is_pinned() -> None:
    import shadow.compare.ws as module

    assert set(module.__all__) == {
        "MAX_ALIGNED_MESSAGES", "MAX_MESSAGE_BYTES", "MessageComparator", "ParsedStream",
        "compare_sessions", "message_type", "parse_frames",
    }  # fmt: skip
    assert all(hasattr(module, name) for name in module.__all__)


# --- messages: by_type (independent clocks, such as speech-to-text's) -----------------------

BY_TYPE = CompareConfig(messages="by_type")
STT = [
    msg("events", signal_type="START_SPEECH"), msg("events", signal_type="END_SPEECH"),
    msg("data", transcript="one"), msg("events", signal_type="START_SPEECH"),
    msg("events", signal_type="END_SPEECH"), msg("data", transcript="two"),
]  # fmt: skip
# The same session where the first transcript came after the next VAD event.
LATE = [STT[0], STT[1], STT[3], STT[2], STT[4], STT[5]]


def by_type(control: Sequence[WsMessage], candidate: Sequence[WsMessage]) -> list[Diff]:
    return compare_sessions(control, candidate, BY_TYPE, compare_message=flat_compare)


def test_by_type_ignores_how_independent_types_interleave() -> None:
    assert compare(STT, LATE) != []  # in order, the interleaving is a difference
    assert by_type(STT, LATE) == []


def test_by_type_still_pairs_each_type_in_order_and_counts_them() -> None:
    wrong = [*LATE[:3], msg("data", transcript="uno"), *LATE[4:]]
    assert by_type(STT, wrong) == [Diff("$ws[2].data.transcript", "changed", "one", "uno")]
    assert by_type(STT, [m for m in LATE if m is not STT[5]]) == [
        Diff("$ws[5]", "removed", "data", None)
    ]
    extra = [*LATE, msg("events", signal_type="START_SPEECH")]
    assert by_type(STT, extra) == [Diff("$ws[5]", "added", None, "events")]
    assert by_type(STT, [*LATE, msg("error", error="boom")]) == [
        Diff("$ws[6]", "added", None, "error")
    ]


def test_the_message_order_is_a_checked_route_option() -> None:
    assert parse_compare({"messages": "by_type"}, route="stt").messages == "by_type"
    assert parse_compare({}, route="stt").messages == "in_order"
    with pytest.raises(CompareConfigError, match=r"route 'stt': compare.messages: 'shuffled'"):
        parse_compare({"messages": "shuffled"}, route="stt")

"""Mirror frames: every record survives encode → decode, however the bytes are split."""

from __future__ import annotations

import struct

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.mirror import MirrorRecord
from proxy.mirror_wire import MAX_FRAME_BYTES, FrameDecoder, FrameError, FrameTooLarge, encode

_times = st.floats(allow_nan=False, allow_infinity=False)
_headers = st.lists(st.tuples(st.binary(max_size=20), st.binary(max_size=40)), max_size=6)
_chunks = st.none() | st.lists(
    st.tuples(st.floats(min_value=0, max_value=1e6), st.binary(max_size=64)), max_size=5
).map(tuple)
_sides = st.sampled_from(["legacy", "candidate"])

records = st.builds(
    MirrorRecord,
    request_id=st.binary(max_size=40),
    traceparent=st.binary(max_size=60),
    route=st.text(st.characters(blacklist_categories=("Cs",)), max_size=20),
    served_by=_sides,
    mirror_to=_sides,
    method=st.binary(min_size=1, max_size=8),
    target=st.binary(max_size=80),
    request_headers=_headers,
    request_body=st.binary(max_size=300),
    status=st.integers(0, 999),
    response_headers=_headers,
    response_body=st.binary(max_size=300),
    started_at=_times,
    first_byte_at=_times,
    finished_at=_times,
    first_body_at=_times,
    ws_client=_chunks,
    ws_server=_chunks,
)


def sample(**changes: object) -> MirrorRecord:
    fields: dict[str, object] = {
        "request_id": b"r-1",
        "traceparent": b"00-" + b"1" * 32 + b"-" + b"2" * 16 + b"-01",
        "route": "tts",
        "served_by": "legacy",
        "mirror_to": "candidate",
        "method": b"POST",
        "target": b"/text-to-speech?x=1",
        "request_headers": [(b"content-type", b"multipart/form-data; boundary=xyz")],
        "request_body": b"--xyz\r\n\x00\xff binary\r\n--xyz--\r\n",
        "status": 200,
        "response_headers": [(b"content-type", b"application/json")],
        "response_body": b'{"ok": true}',
        "started_at": 10.0,
        "first_byte_at": 10.25,
        "finished_at": 10.5,
        "first_body_at": 10.3,
    }
    fields.update(changes)
    return MirrorRecord(**fields)  # type: ignore[arg-type]


@settings(max_examples=200)
@given(records)
def test_any_record_round_trips(record: MirrorRecord) -> None:
    assert FrameDecoder().feed(encode(record)) == [record]


@settings(max_examples=50)
@given(st.lists(records, min_size=1, max_size=4), st.data())
def test_a_stream_of_frames_decodes_whatever_the_read_sizes(
    batch: list[MirrorRecord], data: st.DataObject
) -> None:
    stream = b"".join(encode(r) for r in batch)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    decoder, decoded, last = FrameDecoder(), [], 0
    for cut in [*cuts, len(stream)]:
        decoded += decoder.feed(stream[last:cut])
        last = cut
    assert decoded == batch
    assert decoder.buffered == 0


def test_split_at_every_offset() -> None:
    ws = sample(status=101, ws_client=((0.0, b"\x81\x85abcd"), (0.5, b"x")), ws_server=())
    stream = encode(sample()) + encode(ws)
    for offset in range(len(stream) + 1):
        decoder = FrameDecoder()
        assert decoder.feed(stream[:offset]) + decoder.feed(stream[offset:]) == [sample(), ws]


def test_bodies_travel_raw_not_json_encoded() -> None:
    body = b"MARKER" + bytes(range(256)) * 100
    frame = encode(sample(request_body=body, response_body=b"R" * 1000))
    total, header_len = struct.unpack_from(">II", frame)
    assert total == len(frame) - 4
    header = orjson.loads(frame[8 : 8 + header_len])
    assert header["request_body"] == len(body)
    assert b"MARKER" not in frame[8 : 8 + header_len]  # no body bytes in the header
    assert frame[8 + header_len :] == body + b"R" * 1000


def test_a_length_over_the_cap_fails_before_anything_is_buffered() -> None:
    decoder = FrameDecoder(max_frame=1024)
    with pytest.raises(FrameTooLarge):
        decoder.feed(struct.pack(">I", 1025))
    assert MAX_FRAME_BYTES == 64 * 1024 * 1024


def test_encode_refuses_a_frame_the_peer_would_refuse() -> None:
    with pytest.raises(FrameTooLarge):
        encode(sample(request_body=b"x" * 2000), max_frame=1024)


def _frame(header: dict[str, object], bodies: bytes = b"") -> bytes:
    raw = orjson.dumps(header)
    return struct.pack(">II", 4 + len(raw) + len(bodies), len(raw)) + raw + bodies


def _good_header() -> dict[str, object]:
    frame = encode(sample(request_body=b"", response_body=b""))
    (header_len,) = struct.unpack_from(">I", frame, 4)
    header: dict[str, object] = orjson.loads(frame[8 : 8 + header_len])
    return header


@pytest.mark.parametrize(
    ("change", "bodies"),
    [
        ({"request_body": 5}, b""),  # lengths say more than the frame holds
        ({}, b"extra"),  # bytes nobody claims
        ({"served_by": "somebody"}, b""),
        ({"v": 2}, b""),
        ({"request_body": -1}, b""),
        ({"status": None}, b""),
    ],
)
def test_malformed_frames_are_errors(change: dict[str, object], bodies: bytes) -> None:
    assert FrameDecoder().feed(_frame(_good_header())) != []  # the unchanged header decodes
    with pytest.raises(FrameError):
        FrameDecoder().feed(_frame({**_good_header(), **change}, bodies))


def test_a_header_that_is_not_json_is_an_error() -> None:
    with pytest.raises(FrameError):
        FrameDecoder().feed(struct.pack(">II", 8, 4) + b"{{{{")
    with pytest.raises(FrameError):
        FrameDecoder().feed(struct.pack(">II", 4, 10))  # header longer than the frame

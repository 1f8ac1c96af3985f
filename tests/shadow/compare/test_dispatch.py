"""Choosing the comparator by content type, status and headers first, audio inside JSON
(shadow/compare/dispatch.py)."""

from __future__ import annotations

import base64
import io
import json
import wave

import numpy as np
import pytest

from shadow.compare.config import CompareConfig, parse_compare
from shadow.compare.dispatch import compare, kind_of
from shadow.model import Diff, Observation, WsMessage

JSON = ((b"content-type", b"application/json"),)


def answer(body: object, status: int = 200, headers=JSON, **kw: object) -> Observation:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Observation(status=status, headers=headers, body=raw, latency_s=0.01, **kw)


def chirp_wav(rate: int, seconds: float = 1.0) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    signal = (0.5 * np.sin(2 * np.pi * (200 + 300 * t) * t) * 32767).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(signal.tobytes())
    return out.getvalue()


@pytest.mark.parametrize(
    ("headers", "messages", "kind"),
    [
        (JSON, None, "json"),
        (((b"content-type", b"application/problem+json"),), None, "json"),
        (((b"content-type", b"text/event-stream; charset=utf-8"),), None, "sse"),
        (((b"content-type", b"audio/wav"),), None, "audio"),
        (((b"content-type", b"text/plain"),), None, "bytes"),
        ((), (WsMessage(0.1, text="{}"),), "websocket"),
    ],
)
def test_the_kind_follows_the_controls_content_type(headers, messages, kind) -> None:
    control = Observation(200, headers, b"", 0.0, messages=messages)
    assert kind_of(control, CompareConfig()) == kind
    assert kind_of(control, parse_compare({"kind": "bytes"}, route="r")) == "bytes"


def test_status_and_compared_headers_come_first() -> None:
    control = answer({"a": 1})
    candidate = answer({"a": 1}, headers=((b"content-type", b"text/plain"),))
    assert compare(control, candidate, CompareConfig()) == [
        Diff("$headers.content-type", "changed", "application/json", "text/plain")
    ]
    assert compare(control, answer({"a": 1}, status=201), CompareConfig()) == [
        Diff("$status", "changed", 200, 201)
    ]


def test_bodies_of_different_status_classes_are_not_compared() -> None:
    diffs = compare(
        answer({"text": "hi"}), answer({"error": {"message": "no"}}, 400), CompareConfig()
    )
    assert diffs == [Diff("$status", "changed", 200, 400)]


def test_base64_audio_inside_json_is_compared_as_audio() -> None:
    ours = base64.b64encode(chirp_wav(22050)).decode()
    theirs = base64.b64encode(chirp_wav(16000)).decode()
    diffs = compare(answer({"audios": [ours]}), answer({"audios": [theirs]}), CompareConfig())
    assert [(d.path, d.control, d.candidate) for d in diffs] == [
        ("audios[0].$audio.sample_rate", 22050, 16000)
    ]


def test_socket_messages_keep_their_index_in_the_path() -> None:
    control = answer(b"", 101, (), messages=(
        WsMessage(0.1, text='{"type": "audio", "n": 1}'),
        WsMessage(0.2, text='{"type": "event", "data": {"event_type": "final"}}'),
    ))  # fmt: skip
    candidate = answer(b"", 101, (), messages=(WsMessage(0.1, text='{"type": "audio", "n": 2}'),))
    paths = [(d.path, d.kind) for d in compare(control, candidate, CompareConfig())]
    assert paths == [("$ws[0].n", "changed"), ("$ws[1]", "removed")]

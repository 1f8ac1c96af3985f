"""Choosing the comparator by content type, status and headers first, audio inside JSON
(shadow/compare/dispatch.py)."""

from __future__ import annotations

import base64
import io
import json
import wave

import numpy as np
import pytest

from shadow.compare.audio import AudioHint
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


def pcm_b64(rate: int, wobble: float = 0.0) -> str:
    """A chirp as raw 16-bit PCM (TTS linear16) in base64, ``wobble`` of noise added."""
    wav = chirp_wav(rate)
    samples = np.frombuffer(wav[44:], dtype="<i2").astype(np.float64)
    samples += wobble * np.random.default_rng(7).standard_normal(len(samples))
    return base64.b64encode(np.clip(samples, -32768, 32767).astype("<i2").tobytes()).decode()


def test_raw_pcm_is_compared_as_audio_when_the_request_says_linear16() -> None:
    """Two resamplers never agree sample for sample: raw PCM a request asked for is heard,
    not diffed as a string (without the hint nothing says the string is audio)."""
    ours, theirs = pcm_b64(24000), pcm_b64(24000, wobble=40)
    control, candidate = answer({"audios": [ours]}), answer({"audios": [theirs]})
    hint = AudioHint.for_request(b'{"output_audio_codec": "linear16", "speech_sample_rate": 24000}')
    assert compare(control, candidate, CompareConfig(), audio_hint=hint) == []
    assert [d.path for d in compare(control, candidate, CompareConfig())] == ["audios[0]"]
    silence = base64.b64encode(bytes(len(base64.b64decode(ours)))).decode()
    diffs = compare(control, answer({"audios": [silence]}), CompareConfig(), audio_hint=hint)
    assert [d.path for d in diffs] == ["audios[0].$audio.signal"]


def test_a_socket_audio_message_of_raw_pcm_is_known_by_its_content_type() -> None:
    def session(audio: str, media: str) -> Observation:
        message = {"type": "audio", "data": {"content_type": media, "audio": audio}}
        return answer(b"", 101, (), messages=(WsMessage(0.1, text=json.dumps(message)),))

    ours, theirs = pcm_b64(16000), pcm_b64(16000, wobble=40)
    assert compare(session(ours, "audio/pcm"), session(theirs, "audio/pcm"), CompareConfig()) == []
    diffs = compare(session(ours, "text/plain"), session(theirs, "text/plain"), CompareConfig())
    assert [d.path for d in diffs] == ["$ws[0].data.audio"]


@pytest.mark.parametrize(
    ("body", "hint"),
    [
        (b'{"text": "hi"}', None),
        (b'{"output_audio_codec": "linear16"}', AudioHint(raw_pcm=True)),
        (b'{"output_audio_codec": "wav", "speech_sample_rate": 8000}', AudioHint(sample_rate=8000)),
        (b'{"output_audio_codec": "linear16", "speech_sample_rate": "fast"}', AudioHint(True)),
        (b'["output_audio_codec"]', None),
        (b"output_audio_codec=linear16", None),
    ],
)
def test_the_hint_is_what_a_tts_request_body_says(body: bytes, hint: AudioHint | None) -> None:
    assert AudioHint.for_request(body) == hint

"""Fuzz the WebSocket routes' messages: whatever a client sends, the server answers in the
route's own message types, never with an internal error (close 1011), and stays usable.

The OpenAPI fuzz (test_openapi_fuzz.py) cannot reach sockets, so this one generates frames
itself: well-formed messages with wrong values, JSON of the wrong shape, text that is not JSON
and binary frames, a few per session, derandomized and bounded.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _message(kinds: list[str]) -> st.SearchStrategy[str | bytes]:
    """A frame: a known message type with arbitrary data, any JSON, non-JSON text, bytes."""
    typed = st.builds(
        lambda kind, data: json.dumps({"type": kind, "data": data}),
        st.sampled_from([*kinds, "nonsense"]),
        _json,
    )
    audio = st.builds(lambda data: json.dumps({"audio": data}), _json)
    return (
        typed | audio | st.builds(json.dumps, _json) | st.text(max_size=40) | st.binary(max_size=40)
    )


ROUTES: dict[str, tuple[str, list[str], set[str]]] = {
    # path?query, client message types, the server's message types
    "tts": ("/text-to-speech/ws?send_completion_event=true", ["config", "text", "flush", "ping"],
            {"audio", "event", "error"}),
    "stt": ("/speech-to-text/ws?language-code=en-IN&vad_signals=true", ["flush", "config"],
            {"data", "events", "error"}),
    "stt-translate": ("/speech-to-text-translate/ws", ["flush", "config"],
                      {"data", "events", "error"}),
}  # fmt: skip


@pytest.fixture(scope="module")
def fuzz_key(platform) -> str:
    return platform.make_tenant(credits="1000000", requests_per_minute=1_000_000)


# The routes the Go candidate serves (issue 7); the others answer its 501.
PORTED = frozenset({"tts", "stt", "stt-translate"})
# The log line of a crash: Starlette's for legacy, the recovered panic for the candidate.
CRASH = {"legacy": "Exception in ASGI application", "candidate": "unhandled panic"}


@pytest.mark.parametrize(
    ("side", "route"),
    [("legacy", route) for route in sorted(ROUTES)] + [("candidate", r) for r in sorted(PORTED)],
)
def test_no_message_breaks_a_session(
    platform, fuzz_key: str, side: str, route: str, request: pytest.FixtureRequest
) -> None:
    base = platform.direct_url if side == "legacy" else request.getfixturevalue("candidate_url")
    path, kinds, replies = ROUTES[route]
    url = base.replace("http://", "ws://") + path

    @settings(
        max_examples=12, derandomize=True, deadline=None, database=None,
        suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    @given(frames=st.lists(_message(kinds), min_size=1, max_size=4))
    def session(frames: list[str | bytes]) -> None:
        code = None
        with connect(url, additional_headers={"api-subscription-key": fuzz_key}) as ws:
            try:
                for frame in frames:
                    ws.send(frame)
                ws.send(json.dumps({"type": "ping"}))
                _drain(ws, replies)
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else None
        # A policy close (bad frame size, bad data) is an answer; 1011 is a crash.
        assert code != 1011

    crashes_before = platform.log_of(side).count(CRASH[side])
    session()
    # The client cannot see every crash (one on the way out, after its close): the log can.
    assert platform.log_of(side).count(CRASH[side]) == crashes_before


def _drain(ws: Any, replies: set[str]) -> None:
    """Read what the server says within a short while; each message must be one of the
    route's own JSON message types."""
    while True:
        try:
            raw = ws.recv(timeout=0.15)
        except TimeoutError:
            return
        assert isinstance(raw, str), "these sockets speak JSON text frames only"
        message = json.loads(raw)
        assert message.get("type") in replies, message

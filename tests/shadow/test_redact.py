"""Redaction of stored examples: credential headers, the WebSocket key offer, body fields."""

from __future__ import annotations

from shadow.model import Diff
from shadow.redact import (
    MAX_BODY_BYTES,
    REDACTED,
    redact_body,
    redact_diff,
    redact_headers,
    redact_target,
)

KEY = "sk_live_9f8e7d6c5b4a"


def test_credential_headers_lose_their_values() -> None:
    headers = [
        (b"API-Subscription-Key", KEY.encode()),
        (b"authorization", f"Bearer {KEY}".encode()),
        (b"cookie", b"s=" + KEY.encode()),
        (b"set-cookie", b"s=" + KEY.encode()),
        (b"x-api-key", KEY.encode()),
        (b"sec-websocket-protocol", f"api-subscription-key.{KEY}, json".encode()),
        (b"content-type", b"application/json"),
    ]
    result = redact_headers(headers)
    assert KEY not in repr(result)
    assert result[0] == ["api-subscription-key", REDACTED]
    assert result[5] == ["sec-websocket-protocol", f"api-subscription-key.{REDACTED}, json"]
    assert result[6] == ["content-type", "application/json"]


def test_query_credentials() -> None:
    assert KEY not in redact_target(f"/v1/tts?api-subscription-key={KEY}&voice=a")
    assert "voice=a" in redact_target(f"/v1/tts?api-subscription-key={KEY}&voice=a")
    assert redact_target("/v1/tts?voice=a") == "/v1/tts?voice=a"


def test_body_fields_are_redacted_with_everything_under_them() -> None:
    body = b'{"input": "secret text", "messages": [{"role": "user", "content": "hi"}], "n": 1}'
    record = redact_body(body, frozenset({"input", "messages[0].content"}))
    assert record["json"] == {
        "input": REDACTED,
        "messages": [{"role": "user", "content": REDACTED}],
        "n": 1,
    }
    assert redact_body(body)["json"]["input"] == "secret text"


def test_bodies_are_truncated_and_binary_is_base64() -> None:
    big = b"x" * (MAX_BODY_BYTES * 2)
    record = redact_body(big)
    assert (len(record["text"]), record["bytes"], record["truncated"]) == (
        MAX_BODY_BYTES, 2 * MAX_BODY_BYTES, True
    )  # fmt: skip
    assert "base64" in redact_body(b"\xff\xfe\x00RIFF")
    big_json = b'{"a": "' + b"y" * MAX_BODY_BYTES + b'"}'
    assert redact_body(big_json)["truncated"] is True
    # Unparseable JSON on a route with redacted fields keeps nothing.
    assert redact_body(b'{"input": "secret', frozenset({"input"}))["text"] == REDACTED


def test_diff_values_on_redacted_fields() -> None:
    diff = Diff("messages[2].content", "changed", "a secret", "another")
    assert redact_diff(diff, frozenset({"messages[*].content"}))["control"] == REDACTED
    assert redact_diff(diff)["control"] == "a secret"

from __future__ import annotations

import re

import pytest

from banyan.contract import accept_request_id, accept_traceparent

VALID_TP = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.mark.parametrize("value", [b"abc", b"req-1.2:3_x", b"x" * 128])
def test_safe_request_ids_are_kept(value: bytes) -> None:
    assert accept_request_id(value) == value


@pytest.mark.parametrize("value", [None, b"", b"x" * 129, b"a b", b"a\r\nInjected: 1", b"\xff"])
def test_unsafe_or_missing_request_ids_are_replaced_by_a_random_id(value: bytes | None) -> None:
    made = accept_request_id(value)
    assert made != value
    assert re.fullmatch(rb"[0-9a-f]{32}", made)
    assert accept_request_id(value) != made


def test_valid_traceparent_is_propagated_unchanged() -> None:
    assert accept_traceparent(VALID_TP) == VALID_TP


@pytest.mark.parametrize(
    "value",
    [
        None,
        b"garbage",
        b"00-00000000000000000000000000000000-00f067aa0ba902b7-01",  # all-zero trace id
        b"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  # all-zero span id
        b"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  # upper case
    ],
)
def test_invalid_traceparent_starts_a_new_trace(value: bytes | None) -> None:
    made = accept_traceparent(value)
    assert made != value
    assert accept_traceparent(made) == made  # what we make is itself valid
    assert accept_traceparent(None) != made  # and random

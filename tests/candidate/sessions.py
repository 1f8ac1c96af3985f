"""Opening a socket session for a parity suite: the connection, or the refused handshake as
the shadow engine records an answer (status, headers, body), so a refusal compares like any
HTTP answer."""

from __future__ import annotations

from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from shadow.model import Observation


def open_session(url: str, headers: dict[str, str]) -> ClientConnection | Observation:
    try:
        return connect(url, additional_headers=headers, max_size=2**22, open_timeout=30,
                       close_timeout=5)  # fmt: skip
    except InvalidStatus as refused:
        response = refused.response
        raw = tuple((k.lower().encode(), v.encode()) for k, v in response.headers.raw_items())
        return Observation(response.status_code, raw, response.body or b"", 0.0)

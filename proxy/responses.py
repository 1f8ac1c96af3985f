"""Responses the proxy writes itself: status lines and the platform's error envelope.

Status lines are precomputed at import (STYLE §3, ``STATUS_LINE``). Error bodies use the
envelope of sdk-contract §1.4 so an SDK parses a proxy error exactly like a platform error;
the message says what happened and, where the client can act, what to do.
"""

from __future__ import annotations

import http
import json

from banyan.contract import REQUEST_ID_B, SERVED_BY_B

__all__ = ["STATUS_LINE", "error_response", "status_line"]

STATUS_LINE: dict[int, bytes] = {
    int(s): b"HTTP/1.1 %d %s\r\n" % (int(s), s.phrase.encode()) for s in http.HTTPStatus
}

_CODE_BY_STATUS: dict[int, str] = {
    400: "invalid_request_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    431: "invalid_request_error",
    501: "invalid_request_error",
    502: "model_call_error",
    503: "internal_server_error",
    504: "gateway_timeout_error",
}


def status_line(status: int) -> bytes:
    line = STATUS_LINE.get(status)
    return line if line is not None else b"HTTP/1.1 %d Unknown\r\n" % status


def error_response(
    status: int,
    message: str,
    *,
    request_id: bytes,
    close: bool = False,
    extra: tuple[tuple[bytes, bytes], ...] = (),
) -> bytes:
    """A complete HTTP/1.1 error response (head and body) in the platform's envelope."""
    body = json.dumps(
        {
            "error": {
                "message": message,
                "code": _CODE_BY_STATUS.get(status, "internal_server_error"),
                "request_id": request_id.decode("ascii", "replace"),
            }
        }
    ).encode()
    head = bytearray(status_line(status))
    head += b"content-type: application/json\r\ncontent-length: %d\r\n" % len(body)
    head += REQUEST_ID_B + b": " + request_id + b"\r\n"
    head += SERVED_BY_B + b": proxy\r\n"
    for key, value in extra:
        head += key + b": " + value + b"\r\n"
    if close:
        head += b"connection: close\r\n"
    head += b"\r\n"
    return bytes(head) + body

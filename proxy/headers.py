"""Header rules of the forwarding core: hop-by-hop removal, framing, contract headers.

Headers are a list of ``(name, value)`` byte pairs with names lower-cased once, at parse time,
order and duplicates kept (STYLE §1). Everything here is pure and allocation-light because it
runs on every request.

Deliberately not done here: routing, mode choice, or anything that needs I/O.
"""

from __future__ import annotations

from collections.abc import Iterable

from banyan.contract import REQUEST_ID_B, SERVED_BY_B, SHADOW_B, TRACEPARENT_B

__all__ = [
    "Headers",
    "api_key_of",
    "connection_tokens",
    "encode_request_head",
    "encode_response_head",
    "end_to_end",
    "first",
]

Headers = list[tuple[bytes, bytes]]

# RFC 9110 §7.6.1: connection-specific fields a proxy must not forward. `proxy-connection` and
# `keep-alive` are pre-standard but still sent by clients. `expect` is answered by the proxy
# itself (it sends 100 Continue), so it is not forwarded either.
_HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"expect",
        b"content-length",  # re-added by the framing code from the body we actually send
    }
)
# Set by the proxy on the outbound request; a client's own values are never trusted.
_PROXY_OWNED_REQUEST = frozenset(
    {
        REQUEST_ID_B,
        SHADOW_B,
        TRACEPARENT_B,
        b"x-forwarded-for",
        b"x-forwarded-proto",
        b"x-forwarded-host",
    }
)
_PROXY_OWNED_RESPONSE = frozenset({REQUEST_ID_B, SERVED_BY_B})


def first(headers: Headers, name: bytes) -> bytes | None:
    for key, value in headers:
        if key == name:
            return value
    return None


def connection_tokens(headers: Headers) -> frozenset[bytes]:
    """Lower-cased tokens of every ``Connection`` field (they name more hop-by-hop fields)."""
    tokens: set[bytes] = set()
    for key, value in headers:
        if key == b"connection":
            tokens.update(t.strip().lower() for t in value.split(b","))
    return frozenset(tokens)


def end_to_end(headers: Headers, *, response: bool = False) -> Headers:
    """The fields to forward: hop-by-hop ones (and those ``Connection`` names) removed, as
    well as the contract fields the proxy sets itself."""
    named = connection_tokens(headers)
    owned = _PROXY_OWNED_RESPONSE if response else _PROXY_OWNED_REQUEST
    return [
        (k, v) for k, v in headers if k not in _HOP_BY_HOP and k not in named and k not in owned
    ]


def api_key_of(headers: Headers) -> bytes | None:
    """The API key a request authenticates with: ``api-subscription-key`` or a Bearer token
    (sdk-contract §1.1: every route accepts either)."""
    for key, value in headers:
        if key == b"api-subscription-key" and value:
            return value
        if key == b"authorization" and value[:7].lower() == b"bearer " and len(value) > 7:
            return value[7:].strip()
    return None


def _encode_fields(out: bytearray, fields: Iterable[tuple[bytes, bytes]]) -> None:
    for key, value in fields:
        out += key
        out += b": "
        out += value
        out += b"\r\n"


def encode_request_head(
    method: bytes, target: bytes, fields: Iterable[tuple[bytes, bytes]]
) -> bytes:
    out = bytearray(method)
    out += b" "
    out += target
    out += b" HTTP/1.1\r\n"
    _encode_fields(out, fields)
    out += b"\r\n"
    return bytes(out)


def encode_response_head(status_line: bytes, fields: Iterable[tuple[bytes, bytes]]) -> bytes:
    out = bytearray(status_line)
    _encode_fields(out, fields)
    out += b"\r\n"
    return bytes(out)

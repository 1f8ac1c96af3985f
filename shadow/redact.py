"""Make a stored example safe to keep (rfcs/0005 §6, brief §6: no API keys, no secrets).

Every stored example goes through here before it is queued for the database:

- request and response headers that carry credentials (:data:`SECRET_HEADERS`) keep their name
  and lose their value, replaced by ``"<redacted>"``; a ``sec-websocket-protocol`` offer of
  ``api-subscription-key.<key>`` (how the WebSocket SDKs send the key) keeps the protocol
  name and loses the key; query parameters named like those headers are redacted too;
- JSON body fields named in the route's ``compare.redact`` (fields like ``input`` or
  ``messages[*].content``, everything under them included) become ``"<redacted>"``, and so do
  diff values on such fields;
- bodies are cut to :data:`MAX_BODY_BYTES`; non-UTF-8 bytes are stored as base64.

It does not look for secrets in free text: the route's ``redact`` list is the contract.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson

from shadow.model import Diff, field_of

__all__ = [
    "MAX_BODY_BYTES",
    "REDACTED",
    "SECRET_HEADERS",
    "is_redacted_field",
    "redact_body",
    "redact_diff",
    "redact_headers",
    "redact_target",
]

REDACTED = "<redacted>"
MAX_BODY_BYTES = 64 * 1024
SECRET_HEADERS = frozenset(
    {"api-subscription-key", "authorization", "cookie", "set-cookie", "x-api-key"}
)
_KEY_PROTOCOL = "api-subscription-key."


def _text(value: bytes) -> str:
    return value.decode("latin-1")


def _redact_protocols(value: str) -> str:
    offers = [offer.strip() for offer in value.split(",")]
    return ", ".join(
        _KEY_PROTOCOL + REDACTED if offer.lower().startswith(_KEY_PROTOCOL) else offer
        for offer in offers
    )


def redact_headers(headers: Iterable[tuple[bytes, bytes]]) -> list[list[str]]:
    """``[[name, value], ...]`` with names lower-cased and credential values replaced."""
    result: list[list[str]] = []
    for raw_name, raw_value in headers:
        name = _text(raw_name).lower()
        if name in SECRET_HEADERS:
            value = REDACTED
        elif name == "sec-websocket-protocol":
            value = _redact_protocols(_text(raw_value))
        else:
            value = _text(raw_value)
        result.append([name, value])
    return result


def redact_target(target: str) -> str:
    """The request target with credential query parameters replaced."""
    path, sep, query = target.partition("?")
    if not sep:
        return target
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(key.lower() in SECRET_HEADERS for key, _ in pairs):
        return target
    safe = [(key, REDACTED if key.lower() in SECRET_HEADERS else value) for key, value in pairs]
    return f"{path}?{urlencode(safe)}"


def _covered(name: str, fields: frozenset[str]) -> bool:
    """Whether a generalised field is, or is under, one of ``fields``."""
    if name in fields:
        return True
    return any(name.startswith((item + ".", item + "[")) for item in fields)


def _walk(value: Any, path: str, fields: frozenset[str]) -> Any:
    if path and _covered(path, fields):
        return REDACTED
    if isinstance(value, dict):
        return {
            key: _walk(item, f"{path}.{key}" if path else str(key), fields)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_walk(item, f"{path}[*]", fields) for item in value]
    return value


def redact_body(body: bytes, fields: frozenset[str] = frozenset()) -> dict[str, Any]:
    """A JSON-able record of a body: ``{"json": …}``, ``{"text": …}`` or ``{"base64": …}``,
    with ``bytes`` (the original size) and ``truncated``; ``fields`` are redacted in JSON."""
    size = len(body)
    if body:
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
        else:
            if fields:
                fields = frozenset(field_of(item) for item in fields)
                document = _walk(document, "", fields)
            encoded = orjson.dumps(document)
            if len(encoded) <= MAX_BODY_BYTES:
                return {"json": document, "bytes": size, "truncated": False}
            # Too big to keep whole: the redacted document's text, cut.
            cut = encoded[:MAX_BODY_BYTES].decode("utf-8", "ignore")
            return {"text": cut, "bytes": size, "truncated": True}
    if fields and body.lstrip()[:1] in (b"{", b"["):
        # Unparseable JSON on a route with redacted fields: keep nothing rather than a secret.
        return {"text": REDACTED, "bytes": size, "truncated": True}
    kept = body[:MAX_BODY_BYTES]
    try:
        return {"text": kept.decode("utf-8"), "bytes": size, "truncated": size > len(kept)}
    except UnicodeDecodeError:
        encoded_bytes = base64.b64encode(kept).decode("ascii")
        return {"base64": encoded_bytes, "bytes": size, "truncated": size > len(kept)}


def _scalar(value: object) -> object:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, bytes):
        return base64.b64encode(value[:MAX_BODY_BYTES]).decode("ascii")
    return repr(value)[:MAX_BODY_BYTES]


def redact_diff(diff: Diff, fields: frozenset[str] = frozenset()) -> dict[str, object]:
    """``{path, kind, control, candidate}`` of a diff, values hidden on a redacted field."""
    secret = bool(fields) and _covered(diff.field, frozenset(field_of(f) for f in fields))
    return {
        "path": diff.path,
        "kind": diff.kind,
        "control": REDACTED if secret and diff.control is not None else _scalar(diff.control),
        "candidate": (
            REDACTED if secret and diff.candidate is not None else _scalar(diff.candidate)
        ),
    }


def is_redacted_field(name: str, fields: Sequence[str]) -> bool:
    """Whether a generalised field is covered by a route's ``redact`` list."""
    return _covered(name, frozenset(field_of(f) for f in fields))

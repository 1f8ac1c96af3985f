"""Request identity: keep the caller's ``X-Request-ID`` or make one, echo it, log with it.

Why the id is validated: it goes into every log line and ledger row (brief §4), so one that is
too long or carries control characters is replaced by a fresh id rather than trusted.
"""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from banyan.logs import bind_request_id

__all__ = ["REQUEST_ID_HEADER", "RequestIdMiddleware", "accept_request_id"]

REQUEST_ID_HEADER = "x-request-id"
_VALID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def accept_request_id(value: str | None) -> str:
    """The caller's id when it is safe to log, else a new UUID."""
    if value is not None and _VALID.match(value):
        return value
    return str(uuid.uuid4())


class RequestIdMiddleware:
    """Pure ASGI middleware (no body buffering), outermost so errors carry the id too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        raw = dict(scope["headers"]).get(REQUEST_ID_HEADER.encode())
        request_id = accept_request_id(raw.decode("latin-1") if raw is not None else None)
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        with bind_request_id(request_id):
            await self.app(scope, receive, send_with_id)

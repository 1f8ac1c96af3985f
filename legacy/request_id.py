"""Request identity: keep the caller's ``X-Request-ID`` or make one, echo it, log with it.

The acceptance rule is the shared contract's (``banyan.contract.accept_request_id``).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from banyan.contract import REQUEST_ID, REQUEST_ID_B, accept_request_id
from banyan.logs import bind_request_id

__all__ = ["RequestIdMiddleware"]


class RequestIdMiddleware:
    """Pure ASGI middleware (no body buffering), outermost so errors carry the id too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        raw = dict(scope["headers"]).get(REQUEST_ID_B)
        request_id = accept_request_id(raw).decode("ascii")
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID] = request_id
            await send(message)

        with bind_request_id(request_id):
            await self.app(scope, receive, send_with_id)

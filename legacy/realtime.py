"""WebSocket sessions of the public model APIs: who may open one, and how it is billed.

Every realtime route (``/speech-to-text/ws``, ``/speech-to-text-translate/ws``,
``/text-to-speech/ws``) goes through the same three steps::

    query = await parse_query(websocket, SttQuery)          # None: refused (422) already
    if query is None:
        return
    session = await open_session(websocket, route=..., unit=..., estimate=...)
    if session is None:                                     # refused (401/402/429) already
        return
    async with session:                                     # settles however the session ends
        ...
        await session.use(Decimal(seconds))                 # may raise InsufficientQuota

Handshake (sdk-contract §1.1, §1.8; RFC 0004 §7): the key comes from ``api-subscription-key``,
``Authorization: Bearer`` or, for browsers that cannot set headers, the subprotocol
``api-subscription-key.<key>``, which is echoed back on accept as the WebSocket spec requires.
A refused handshake is answered *before* accept with an ordinary HTTP response: the status
(401 bad key, 402 empty wallet, 429 with ``Retry-After``, 422 bad query) and the platform's
error envelope, so the SDKs surface the status (``InvalidStatus`` / ``ApiError``).

Metering: a session is one request id and one reservation. It holds ``estimate`` units when it
opens, extends the hold by at least another ``estimate`` whenever usage outgrows it (so a
session on an empty wallet stops with 402 when the money runs out, not after), and settles
the measured usage exactly once when the ``async with`` block ends: normal close, client
gone, server error or cancellation alike (the settle is shielded). A session that used
nothing releases its hold and leaves no ledger row.
"""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal
from types import TracebackType
from typing import Self, TypeVar

import anyio
from fastapi import WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ValidationError
from starlette.websockets import WebSocketState

from banyan.logs import get_logger
from legacy.commerce.billing import Authorization, Billing
from legacy.commerce.errors import CommerceError, InvalidApiKey, RateLimited
from legacy.commerce.ratelimit import rate_limit_headers
from legacy.errors import ErrorCode, error_response
from legacy.metering import api_key_from, open_charge

__all__ = [
    "KEY_SUBPROTOCOL",
    "MeteredSession",
    "close_quietly",
    "open_session",
    "parse_query",
    "refuse",
]

KEY_SUBPROTOCOL = "api-subscription-key."
Query = TypeVar("Query", bound=BaseModel)

_log = get_logger(__name__)


def _subprotocol_key(websocket: WebSocket) -> tuple[str | None, str | None]:
    """(key, the subprotocol to echo) from an offered ``api-subscription-key.<key>``."""
    for offered in websocket.scope.get("subprotocols", []):
        if offered.startswith(KEY_SUBPROTOCOL) and len(offered) > len(KEY_SUBPROTOCOL):
            return offered[len(KEY_SUBPROTOCOL) :], offered
    return None, None


async def refuse(
    websocket: WebSocket,
    status: int,
    message: str,
    *,
    code: ErrorCode | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    """Answer the handshake with an HTTP error instead of accepting it."""
    response = error_response(websocket, status, message, code=code, headers=headers)
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(response)
    else:  # a server without the denial extension: the close code is all we can say
        await websocket.close(code=1008, reason=message[:120])


async def close_quietly(websocket: WebSocket, code: int = 1000, reason: str = "") -> None:
    """Close the session unless the client already has: closing a socket the client dropped
    raises in Starlette, and an error on the way out is not the client's business."""
    if (
        websocket.client_state is not WebSocketState.CONNECTED
        or websocket.application_state is not WebSocketState.CONNECTED
    ):
        return
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
        await websocket.close(code=code, reason=reason)


async def parse_query(websocket: WebSocket, model: type[Query]) -> Query | None:
    """The query string as ``model`` (aliases allowed); refuses the handshake with 422 naming
    each bad parameter when it does not validate."""
    try:
        return model.model_validate(dict(websocket.query_params))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'query'}: {err['msg']}"
            for err in exc.errors()
        )
        await refuse(websocket, 422, f"invalid query parameters: {problems}")
        return None


async def open_session(
    websocket: WebSocket, *, route: str, unit: str, estimate: Decimal
) -> MeteredSession | None:
    """Authorize and accept the session; on refusal answer the handshake and return None."""
    key, subprotocol = _subprotocol_key(websocket)
    try:
        auth = await open_charge(
            websocket, route=route, unit=unit, estimate=estimate,
            api_key=api_key_from(websocket.headers) or key,
        )  # fmt: skip
    except CommerceError as exc:
        status, extra = exc.status, None
        code: ErrorCode | None = None
        if isinstance(exc, InvalidApiKey):
            status, code = 401, "invalid_api_key_error"
            message = f"Websocket initialized with invalid credentials: {exc}"
        else:
            message = str(exc)
        if isinstance(exc, RateLimited):
            extra = rate_limit_headers(exc.decision)
        await refuse(websocket, status, message, code=code, headers=extra)
        return None
    await websocket.accept(subprotocol=subprotocol)
    return MeteredSession(websocket.app.state.billing, auth, estimate)


class MeteredSession:
    """One WebSocket session's reservation: grows with use, settles once at the end."""

    def __init__(self, billing: Billing, auth: Authorization, step: Decimal) -> None:
        self._billing = billing
        self._auth = auth
        self._step = max(step, Decimal(1))
        self._held = step  # units covered by the hold so far
        self._used = Decimal(0)
        self._closed = False
        self._lock = asyncio.Lock()  # one extension at a time, however many tasks use it

    @property
    def request_id(self) -> str:
        return self._auth.request_id

    @property
    def used(self) -> Decimal:
        return self._used

    async def use(self, quantity: Decimal) -> None:
        """Count usage, holding more first when it would exceed the hold.

        Raises InsufficientQuota when the wallet cannot cover it; the usage is then *not*
        counted (the caller did not deliver it)."""
        if quantity <= 0:
            return
        async with self._lock:
            wanted = self._used + quantity
            if wanted > self._held:
                more = max(wanted - self._held, self._step)
                await self._billing.extend(self._auth.reservation_id, more)
                self._held += more
            self._used = wanted

    async def close(self) -> None:
        """Settle the usage (or release an unused hold); once, whatever happened before."""
        if self._closed:
            return
        self._closed = True
        with anyio.CancelScope(shield=True):
            try:
                if self._used > 0:
                    await self._billing.settle(
                        self._auth.reservation_id, unit=self._auth.unit, quantity=self._used
                    )
                else:
                    await self._billing.release(self._auth.reservation_id)
            except CommerceError as exc:  # expired under us: the sweeper gave the hold back
                _log.error("session could not settle", request_id=self.request_id, error=str(exc))

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

"""Billing on the public routes: the key, the charge around the work, the refusals.

Every billed route does ``auth = await open_charge(request, route=..., unit=..., estimate=...)``
before any work (so an empty wallet is a 402 before the first byte of a stream) and
``await close_charge(request, auth, quantity)`` with the measured usage (a route metering
several units passes ``{unit: quantity}`` both times, e.g. ``tokens_in`` and ``tokens_out``);
if the work fails, ``abandon_charge`` gives the hold back, and a request that dies of an
unexpected error (a 500) with a charge still open has it given back by
:class:`ReleaseHoldsOnFailure`, rather than left to expire (rfcs/0006 §2). The key comes from
``api-subscription-key`` or ``Authorization: Bearer`` (sdk-contract §1.1); a request with
``X-Banyan-Shadow: 1`` bills the shadow ledger and skips the rate limiter (brief §4).

Refusals use the platform envelope (sdk-contract §1.4): a bad key is 403
``invalid_api_key_error`` on sarvam-style routes and 401 on OpenAI-style ones (``/v1/…``,
``/v2/…``), 402 ``insufficient_quota_error``, 429 with ``Retry-After`` ≤ 60 s. Billed responses
carry ``X-RateLimit-Limit/Remaining/Reset``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import cast

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from banyan.contract import SHADOW
from banyan.logs import get_logger
from legacy.commerce.billing import Authorization, Billing, Settlement, Usage
from legacy.commerce.errors import CommerceError, InvalidApiKey, RateLimited
from legacy.commerce.ratelimit import RateDecision, rate_limit_headers
from legacy.errors import ErrorCode, error_response

__all__ = [
    "RateLimitHeaders",
    "ReleaseHoldsOnFailure",
    "abandon_charge",
    "api_key_from",
    "close_charge",
    "install_commerce",
    "open_charge",
]

_OPENAI_STYLE = ("/v1/", "/v2/")
_OPEN_CHARGES = "open_charges"  # request state: the charges opened and not yet closed
_log = get_logger(__name__)


def api_key_from(headers: Mapping[str, str]) -> str | None:
    key = headers.get("api-subscription-key")
    if key:
        return key
    scheme, _, token = (headers.get("authorization") or "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _billing(request: HTTPConnection) -> Billing:
    return cast(Billing, request.app.state.billing)


async def open_charge(
    request: HTTPConnection, *, route: str, unit: str | None = None,
    estimate: Decimal | Usage, model: str = "*", api_key: str | None = None,
) -> Authorization:  # fmt: skip
    """Authorize and hold the estimate; raises CommerceError (answered by the handler).

    One unit: ``unit="characters", estimate=Decimal(n)``; several (line items, rfcs/0004 §8):
    ``estimate={"tokens_in": p, "tokens_out": m}`` and no ``unit``. ``api_key`` is for keys
    that did not come in a header (a WebSocket subprotocol)."""
    auth = await _billing(request).authorize(
        api_key=api_key or api_key_from(request.headers),
        route=route, model=model, unit=unit,
        quantity=estimate if isinstance(estimate, Decimal) else None,
        estimate=None if isinstance(estimate, Decimal) else estimate,
        request_id=request.state.request_id,
        shadow=request.headers.get(SHADOW) == "1",
    )  # fmt: skip
    state = request.scope.setdefault("state", {})
    if auth.rate is not None:
        state["rate_decision"] = auth.rate
    state.setdefault(_OPEN_CHARGES, []).append(auth)
    return auth


async def close_charge(
    request: HTTPConnection, auth: Authorization, quantity: Decimal | Usage
) -> Settlement:
    """Charge the measured usage (exactly once per request id and unit): a quantity of the
    reservation's one unit, or ``{unit: quantity}`` for a reservation of several."""
    billing = _billing(request)
    if isinstance(quantity, Decimal):
        settled = await billing.settle(auth.reservation_id, unit=auth.unit, quantity=quantity)
    else:
        settled = await billing.settle(auth.reservation_id, usage=quantity)
    _closed(request.scope, auth)
    return settled


async def abandon_charge(request: HTTPConnection, auth: Authorization) -> None:
    await _billing(request).release(auth.reservation_id)
    _closed(request.scope, auth)


def _closed(scope: Scope, auth: Authorization) -> None:
    still_open: list[Authorization] = scope.get("state", {}).get(_OPEN_CHARGES, [])
    if auth in still_open:
        still_open.remove(auth)


async def _refuse(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CommerceError)
    status = exc.status
    code: ErrorCode | None = None
    if isinstance(exc, InvalidApiKey):
        code = "invalid_api_key_error"  # whatever the status, the SDKs key off this code
        if request.url.path.startswith(_OPENAI_STYLE):
            status = 401
    headers = rate_limit_headers(exc.decision) if isinstance(exc, RateLimited) else None
    return error_response(request, status, str(exc), code=code, headers=headers)


class RateLimitHeaders:
    """Adds X-RateLimit-* to a response whose request was rate-checked (pure ASGI)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_limits(message: Message) -> None:
            if message["type"] == "http.response.start":
                decision: RateDecision | None = scope.get("state", {}).get("rate_decision")
                if decision is not None:
                    headers = MutableHeaders(scope=message)
                    for name, value in rate_limit_headers(decision).items():
                        headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_limits)


class ReleaseHoldsOnFailure:
    """Gives back the holds of a request that fails with an unexpected error (pure ASGI).

    A handler that raises past its own ``abandon_charge`` (a bug: a KeyError on a model's
    answer, a library's overflow) is answered 500 by the error handler, and its hold would
    otherwise stay reserved until the reservation expires, keeping the customer's credits
    from other requests meanwhile. Only the exception path: a request that ends normally
    has closed its charges itself (a stream settles what it delivered)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        except Exception:
            await self._release_open(scope)
            raise

    @staticmethod
    async def _release_open(scope: Scope) -> None:
        still_open: list[Authorization] = scope.get("state", {}).pop(_OPEN_CHARGES, [])
        billing = cast(Billing, scope["app"].state.billing)
        for auth in still_open:
            try:
                await billing.release(auth.reservation_id)
            except Exception as exc:  # the request's own error is the one to report
                _log.warning("could not release the hold of a failed request",
                             reservation_id=str(auth.reservation_id), error=repr(exc))  # fmt: skip


def install_commerce(app: FastAPI) -> None:
    app.add_exception_handler(CommerceError, _refuse)
    app.add_middleware(RateLimitHeaders)
    app.add_middleware(ReleaseHoldsOnFailure)

"""The internal billing API: how other implementations bill through legacy's ledger.

    POST /internal/v1/authorize   X-Request-ID, [X-Banyan-Shadow: 1]
         {"api_key", "route", "estimate": {"unit", "quantity"}, ["model"]}
         -> 200 {"tenant_id", "reservation_id", "held", "ledger"} | 401/402/429 envelope
    POST /internal/v1/extend      {"reservation_id", "quantity"} -> {"held"} | 402
    POST /internal/v1/settle      {"reservation_id", "unit", "quantity"}
         -> 200 {"credits", "ledger": "live" | "shadow", "replayed"}
    POST /internal/v1/release     {"reservation_id"} -> 204

Protected by the internal token (``Authorization: Bearer <internal token>``), never exposed
through the proxy's routes. Amounts travel as decimal strings, never floats.
"""

from __future__ import annotations

import hmac
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from banyan.contract import SHADOW
from legacy.commerce.billing import Billing
from legacy.commerce.errors import CommerceError, InvalidApiKey, RateLimited
from legacy.commerce.ratelimit import rate_limit_headers
from legacy.errors import error_response

__all__ = ["internal_router"]


class Estimate(BaseModel):
    unit: str
    quantity: Decimal = Field(ge=0)


class AuthorizeBody(BaseModel):
    api_key: str
    route: str
    estimate: Estimate
    model: str = "*"


class ExtendBody(BaseModel):
    reservation_id: UUID
    quantity: Decimal = Field(ge=0)


class SettleBody(BaseModel):
    reservation_id: UUID
    unit: str
    quantity: Decimal = Field(ge=0)


class ReleaseBody(BaseModel):
    reservation_id: UUID


def internal_router(token: str) -> APIRouter:
    def authorized(authorization: Annotated[str | None, Header()] = None) -> None:
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip(), token):
            raise HTTPException(
                401, "the internal API needs Authorization: Bearer <internal token>"
            )

    router = APIRouter(prefix="/internal/v1", dependencies=[Depends(authorized)])

    @router.post("/authorize")
    async def authorize(request: Request, body: AuthorizeBody) -> Response:
        request_id = request.headers.get("x-request-id")
        if not request_id:
            return error_response(request, 400, "X-Request-ID is required: it keys the ledger row")
        shadow = request.headers.get(SHADOW) == "1"
        try:
            auth = await _billing(request).authorize(
                api_key=body.api_key, route=body.route, unit=body.estimate.unit,
                quantity=body.estimate.quantity, request_id=request_id, shadow=shadow,
                model=body.model,
            )  # fmt: skip
        except CommerceError as exc:
            return _refusal(request, exc)
        headers = rate_limit_headers(auth.rate) if auth.rate is not None else None
        return JSONResponse(
            {"tenant_id": str(auth.tenant.id), "reservation_id": str(auth.reservation_id),
             "held": str(auth.held), "ledger": "shadow" if auth.shadow else "live"},
            headers=headers,
        )  # fmt: skip

    @router.post("/extend")
    async def extend(request: Request, body: ExtendBody) -> Response:
        try:
            held = await _billing(request).extend(body.reservation_id, body.quantity)
        except CommerceError as exc:
            return _refusal(request, exc)
        return JSONResponse({"held": str(held)})

    @router.post("/settle")
    async def settle(request: Request, body: SettleBody) -> Response:
        try:
            done = await _billing(request).settle(
                body.reservation_id, unit=body.unit, quantity=body.quantity
            )
        except CommerceError as exc:
            return _refusal(request, exc)
        return JSONResponse(
            {"credits": str(done.credits), "ledger": done.ledger, "replayed": done.replayed}
        )

    @router.post("/release", status_code=204)
    async def release(request: Request, body: ReleaseBody) -> Response:
        try:
            await _billing(request).release(body.reservation_id)
        except CommerceError as exc:
            return _refusal(request, exc)
        return Response(status_code=204)

    return router


def _billing(request: Request) -> Billing:
    billing: Billing = request.app.state.billing
    return billing


def _refusal(request: Request, exc: CommerceError) -> JSONResponse:
    # The internal API speaks for every route, so a bad key is a plain 401 here.
    status = 401 if isinstance(exc, InvalidApiKey) else exc.status
    headers = rate_limit_headers(exc.decision) if isinstance(exc, RateLimited) else None
    return error_response(request, status, str(exc), headers=headers)

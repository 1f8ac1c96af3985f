"""The internal billing API: how other implementations bill through legacy's ledger.

    POST /internal/v1/authorize   X-Request-ID, [X-Banyan-Shadow: 1]
         {"api_key", "route", "estimate": LINE | [LINE, ...], ["model"]}
         -> 200 {"tenant_id", "reservation_id", "held", "ledger"} | 401/402/429 envelope
    POST /internal/v1/extend      {"reservation_id", "quantity", ["unit"]} -> {"held"} | 402
    POST /internal/v1/settle      {"reservation_id", "unit", "quantity"}
         -> 200 {"credits", "ledger": "live" | "shadow", "replayed"}
    POST /internal/v1/settle      {"reservation_id", "usage": [LINE, ...]}
         -> 200 {"credits", "ledger", "replayed",
                 "lines": [{"unit", "quantity", "credits", "replayed"}, ...]}
    POST /internal/v1/release     {"reservation_id"} -> 204
    GET  /internal/v1/ledger?request_id=a&request_id=b   (1..100 ids)
         -> 200 {"requests": [{"request_id", "tenant_id", "route",
                               "live": [LEDGER_LINE, ...], "shadow": [LEDGER_LINE, ...]}, ...]}

    LEDGER_LINE = {"unit", "quantity", "credits"}

    LINE = {"unit", "quantity"}

The ledger lookup is how the shadow engine's billing joiner reads the billing delta (what the
candidate recorded in the shadow ledger against what legacy recorded in the live ledger, per
request id; rfcs/0005 §7) without reading legacy's tables: one batch of ids per call, every
id asked listed (with empty lists and a null tenant when no ledger has a row of it).

A request metering several units (a chat completion: ``tokens_in`` and ``tokens_out``) holds
and settles them as line items of one reservation (rfcs/0004 §8): one hold, one ledger row per
unit, exactly once per (request id, unit); ``credits`` and ``replayed`` sum up the lines.

Protected by the internal token (``Authorization: Bearer <internal token>``), never exposed
through the proxy's routes. Amounts travel as decimal strings, never floats.
"""

from __future__ import annotations

import hmac
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, field_validator, model_validator

from banyan.contract import SHADOW
from legacy.commerce.billing import Billing
from legacy.commerce.errors import CommerceError, InvalidApiKey, RateLimited
from legacy.commerce.ledger_lookup import LedgerLine, RequestLedgers, lookup_ledgers
from legacy.commerce.ratelimit import rate_limit_headers
from legacy.errors import error_response

__all__ = ["MAX_LEDGER_IDS", "internal_router"]

MAX_LEDGER_IDS = 100  # request ids per ledger lookup: one bounded statement, one bounded answer


class Line(BaseModel):
    unit: str
    quantity: Decimal = Field(ge=0)


def _usage(lines: list[Line]) -> dict[str, Decimal]:
    usage = {line.unit: line.quantity for line in lines}
    if len(usage) != len(lines):
        raise ValueError("each unit may appear once")
    if not usage:
        raise ValueError("at least one line is needed")
    return usage


class AuthorizeBody(BaseModel):
    api_key: str
    route: str
    estimate: Line | list[Line]
    model: str = "*"

    @field_validator("estimate")
    @classmethod
    def _one_line_per_unit(cls, value: Line | list[Line]) -> Line | list[Line]:
        if isinstance(value, list):
            _usage(value)
        return value

    def usage(self) -> dict[str, Decimal]:
        lines = self.estimate if isinstance(self.estimate, list) else [self.estimate]
        return _usage(lines)


class ExtendBody(BaseModel):
    reservation_id: UUID
    quantity: Decimal = Field(ge=0)
    unit: str | None = None  # needed when the reservation meters several units


class SettleBody(BaseModel):
    """The single-line form (``unit``, ``quantity``) or the line-item form (``usage``)."""

    reservation_id: UUID
    unit: str | None = None
    quantity: Decimal | None = Field(default=None, ge=0)
    usage: list[Line] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> SettleBody:
        single = self.unit is not None and self.quantity is not None
        if self.usage is None and not single:
            raise ValueError("send unit and quantity, or usage: [{unit, quantity}, ...]")
        if self.usage is not None:
            if self.unit is not None or self.quantity is not None:
                raise ValueError("send unit and quantity, or usage, not both")
            _usage(self.usage)
        return self


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
                api_key=body.api_key, route=body.route, estimate=body.usage(),
                request_id=request_id, shadow=shadow, model=body.model,
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
            held = await _billing(request).extend(
                body.reservation_id, body.quantity, unit=body.unit
            )
        except CommerceError as exc:
            return _refusal(request, exc)
        return JSONResponse({"held": str(held)})

    @router.post("/settle")
    async def settle(request: Request, body: SettleBody) -> Response:
        billing = _billing(request)
        try:
            if body.usage is None:
                done = await billing.settle(
                    body.reservation_id, unit=body.unit, quantity=body.quantity
                )
            else:
                done = await billing.settle(body.reservation_id, usage=_usage(body.usage))
        except CommerceError as exc:
            return _refusal(request, exc)
        answer: dict[str, object] = {
            "credits": str(done.credits), "ledger": done.ledger, "replayed": done.replayed
        }  # fmt: skip
        if body.usage is not None:  # the line-item form answers line by line
            answer["lines"] = [
                {"unit": line.unit, "quantity": str(line.quantity), "credits": str(line.credits),
                 "replayed": line.replayed}
                for line in done.lines
            ]  # fmt: skip
        return JSONResponse(answer)

    @router.post("/release", status_code=204)
    async def release(request: Request, body: ReleaseBody) -> Response:
        try:
            await _billing(request).release(body.reservation_id)
        except CommerceError as exc:
            return _refusal(request, exc)
        return Response(status_code=204)

    @router.get("/ledger")
    async def ledger(
        request: Request, request_id: Annotated[list[str] | None, Query()] = None
    ) -> Response:
        ids = list(dict.fromkeys(request_id or ()))  # each id once, in the order asked
        if not ids or len(ids) > MAX_LEDGER_IDS:
            return error_response(
                request, 422,
                f"send 1 to {MAX_LEDGER_IDS} request_id query parameters, not {len(ids)}",
            )  # fmt: skip
        if any(not rid for rid in ids):
            return error_response(request, 422, "a request_id may not be empty")
        async with _billing(request).pool.acquire() as conn:
            found = await lookup_ledgers(conn, ids)
        return JSONResponse({"requests": [_ledger_view(entry) for entry in found]})

    return router


def _lines(lines: list[LedgerLine]) -> list[dict[str, str]]:
    return [
        {"unit": line.unit, "quantity": str(line.quantity), "credits": str(line.credits)}
        for line in lines
    ]


def _ledger_view(entry: RequestLedgers) -> dict[str, object]:
    return {
        "request_id": entry.request_id,
        "tenant_id": str(entry.tenant_id) if entry.tenant_id is not None else None,
        "route": entry.route,
        "live": _lines(entry.live),
        "shadow": _lines(entry.shadow),
    }


def _billing(request: Request) -> Billing:
    billing: Billing = request.app.state.billing
    return billing


def _refusal(request: Request, exc: CommerceError) -> JSONResponse:
    # The internal API speaks for every route, so a bad key is a plain 401 here.
    status = 401 if isinstance(exc, InvalidApiKey) else exc.status
    headers = rate_limit_headers(exc.decision) if isinstance(exc, RateLimited) else None
    return error_response(request, status, str(exc), headers=headers)

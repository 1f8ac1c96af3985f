"""The admin listener: health, metrics, the route table and live route control.

It runs in the proxy process on its own port (loopback by default), on the same event loop as
the forwarding core, and reads the core's state directly. ``/healthz`` is open so probes need
no secret; everything else needs ``Authorization: Bearer <admin token>``. Changes go through
:class:`~proxy.control.RouteControl` (validated, audited, broadcast); errors use the
platform's envelope with a status from one table (``_STATUS``).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Annotated

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, Field

from proxy._types import Mode
from proxy.config import RouteConfig
from proxy.control import LiveControlUnavailable, RouteControl, UnknownRoute
from proxy.core import ProxyCore
from proxy.metrics import render_prometheus
from proxy.route_state import ChangeRefused, InvalidState, RouteState

__all__ = ["create_admin_app", "route_view"]


def route_view(route: RouteConfig) -> dict[str, object]:
    """A route as the admin API and CLI show it."""
    return {
        "name": route.name,
        "match": {
            "path": route.path,
            "methods": sorted(route.methods) if route.methods is not None else None,
            "websocket": route.websocket,
        },
        "mode": route.mode,
        "canary": {"percent": route.canary_percent},
        "shadow": {
            "sample": route.shadow.sample,
            "timeout_ms": route.shadow.timeout_ms,
            "max_body_bytes": route.shadow.max_body_bytes,
            "reverse": route.shadow.reverse,
        },
        "legacy": route.legacy,
        "candidate": route.candidate,
    }


Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


class SetRequest(BaseModel):
    mode: Mode
    percent: float | None = Field(default=None, description="canary percent, 0-100")
    sample: float | None = Field(default=None, description="shadow sample, 0-1")
    reason: str
    actor: str | None = None


class StepRequest(BaseModel):
    reason: str
    actor: str | None = None
    to: Mode | None = Field(default=None, description="rollback only: the mode to go back to")


_STATUS: dict[type[Exception], int] = {
    InvalidState: 400,
    ChangeRefused: 409,
    UnknownRoute: 404,
    LiveControlUnavailable: 503,
}


def _error(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    code = "not_found_error" if status == 404 else "invalid_request_error"
    if status >= 500:
        code = "internal_server_error"
    return JSONResponse({"error": {"message": message, "code": code}}, status, headers=headers)


def create_admin_app(
    core: ProxyCore,
    *,
    token: str,
    control: RouteControl | None = None,
    lifespan: Lifespan | None = None,
) -> FastAPI:
    if not token:
        raise ValueError("the admin listener needs a token (BANYAN_ADMIN_TOKEN)")

    def authorized(authorization: Annotated[str | None, Header()] = None) -> None:
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip(), token):
            raise HTTPException(
                401,
                "send Authorization: Bearer <admin token> (lab.json: admin_token)",
                headers={"WWW-Authenticate": "Bearer"},
            )

    app = FastAPI(title="Banyan proxy admin", docs_url=None, redoc_url=None, lifespan=lifespan)
    guarded = [Depends(authorized)]

    routes_control = control or RouteControl(core, core.table, "default")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail), exc.headers)

    @app.exception_handler(RequestValidationError)
    async def bad_body(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors()
        )
        return _error(400, problems or "invalid request body")

    for error_type, status in _STATUS.items():

        async def mapped(request: Request, exc: Exception, status: int = status) -> JSONResponse:
            message = (
                f"no route named {exc.args[0]!r}; GET /routes lists them"
                if isinstance(exc, UnknownRoute)
                else str(exc)
            )
            return _error(status, message)

        app.add_exception_handler(error_type, mapped)

    def view(route: RouteConfig) -> dict[str, object]:
        return {**route_view(route), "source": routes_control.source(route.name)}

    @app.get("/healthz")
    async def healthz() -> dict[str, object]:
        return {
            "status": "ok",
            "routes": len(core.table.routes),
            "open_connections": len(core.connections),
        }

    @app.get("/metrics", dependencies=guarded, response_class=PlainTextResponse)
    async def metrics() -> str:
        return render_prometheus(core.counters)

    @app.get("/routes", dependencies=guarded)
    async def routes() -> dict[str, object]:
        return {
            "fleet": routes_control.fleet,
            "version": routes_control.version,
            "live_control": routes_control.is_live,
            "connected": routes_control.connected,
            "routes": [view(r) for r in core.table.routes],
        }

    @app.get("/routes/{name}", dependencies=guarded)
    async def route(name: str) -> dict[str, object]:
        found = core.table.get(name)
        if found is None:
            raise UnknownRoute(name)
        return view(found)

    @app.put("/routes/{name}", dependencies=guarded)
    async def set_route(name: str, body: SetRequest) -> dict[str, object]:
        current = routes_control.state(name)
        target = RouteState(
            mode=body.mode,
            canary_percent=body.percent if body.percent is not None else 0.0,
            shadow_sample=body.sample if body.sample is not None else current.shadow_sample,
        )
        change = await routes_control.change(
            name, "set", actor=body.actor or "admin-api", reason=body.reason, target=target
        )
        return {"change": change.view(), "route": view(_get(name))}

    @app.post("/routes/{name}/promote", dependencies=guarded)
    async def promote(name: str, body: StepRequest) -> dict[str, object]:
        change = await routes_control.change(
            name, "promote", actor=body.actor or "admin-api", reason=body.reason
        )
        return {"change": change.view(), "route": view(_get(name))}

    @app.post("/routes/{name}/rollback", dependencies=guarded)
    async def rollback(name: str, body: StepRequest) -> dict[str, object]:
        change = await routes_control.change(
            name, "rollback", actor=body.actor or "admin-api", reason=body.reason, to=body.to
        )
        return {"change": change.view(), "route": view(_get(name))}

    @app.get("/routes/{name}/history", dependencies=guarded)
    async def history(
        name: str, limit: Annotated[int, Query(ge=1, le=1000)] = 50
    ) -> dict[str, object]:
        changes = await routes_control.history(name, limit)
        return {"route": name, "changes": [c.view() for c in changes]}

    def _get(name: str) -> RouteConfig:
        found = core.table.get(name)
        if found is None:
            raise UnknownRoute(name)
        return found

    return app

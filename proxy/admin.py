"""The admin listener: health, metrics and the route table, behind a bearer token.

It runs in the proxy process on its own port (loopback by default), on the same event loop as
the forwarding core, and reads the core's state directly. ``/healthz`` is open so probes need
no secret; everything else needs ``Authorization: Bearer <admin token>``. Live route control
(PUT, promote, rollback, history) arrives with the Redis route store and the PostgreSQL audit
log; this module stays read-only until then.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Annotated

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from proxy.config import RouteConfig
from proxy.core import ProxyCore
from proxy.metrics import render_prometheus

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


def create_admin_app(core: ProxyCore, *, token: str, lifespan: Lifespan | None = None) -> FastAPI:
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

    @app.exception_handler(HTTPException)
    async def envelope(request: Request, exc: HTTPException) -> JSONResponse:
        body = {"error": {"message": str(exc.detail), "code": "invalid_request_error"}}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

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
        return {"routes": [route_view(r) for r in core.table.routes]}

    @app.get("/routes/{name}", dependencies=guarded)
    async def route(name: str) -> dict[str, object]:
        found = core.table.get(name)
        if found is None:
            raise HTTPException(404, f"no route named {name!r}; GET /routes lists them")
        return route_view(found)

    return app

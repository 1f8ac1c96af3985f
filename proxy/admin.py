"""The admin listener: health, metrics, the route table and live route control.

It runs in the proxy process on its own port (loopback by default), on the same event loop as
the forwarding core, and reads the core's state directly. ``/healthz`` is open so probes need
no secret; everything else needs ``Authorization: Bearer <admin token>``. Changes go through
:class:`~proxy.control.RouteControl` (validated, audited, broadcast); errors use the
platform's envelope with a status from one table (``_STATUS``).

Promotions out of shadow or canary are gated on shadow evidence when an ``Evidence`` is
injected (``proxy/evidence.py``): failing gates refuse with 409 and ``"gates"`` in the body;
``force`` with a reason overrides, and the audit row keeps the judgement either way.

``/dashboard`` is for browsers: open ``/dashboard?token=<admin token>`` once, which sets the
token as an HttpOnly, SameSite=Strict cookie and redirects; the cookie then authenticates every
admin route. A change authenticated by the cookie alone must also carry
``X-Banyan-Dashboard: 1`` (the dashboard's script sends it): a custom header cannot be sent
cross-origin without a CORS preflight this listener never grants, so another page on the same
host cannot ride the cookie.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse
from pydantic import BaseModel, Field

from banyan.logs import get_logger
from proxy._types import Mode
from proxy.audit import Action, Change
from proxy.config import RouteConfig
from proxy.control import LiveControlUnavailable, RouteControl, UnknownRoute
from proxy.core import ProxyCore
from proxy.dashboard import DashboardRoute, csp, render_live, render_page
from proxy.evidence import Evidence, ReportSource, gate_failures
from proxy.metrics import render_prometheus
from proxy.route_state import ChangeRefused, InvalidState, RouteState, needs_evidence

__all__ = ["COOKIE", "GatesFailed", "create_admin_app", "route_view"]

_log = get_logger(__name__)

COOKIE = "banyan_admin"
_DASHBOARD_HEADER = "x-banyan-dashboard"
_JUDGE_TIMEOUT_S = 10.0
_MAX_EXAMPLES = 5


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
    force: bool = Field(default=False, description="go past failing promotion gates (audited)")


class StepRequest(BaseModel):
    reason: str
    actor: str | None = None
    to: Mode | None = Field(default=None, description="rollback only: the mode to go back to")
    force: bool = Field(default=False, description="promote only: go past failing gates")


class GatesFailed(ChangeRefused):
    """A promotion the evidence does not support; ``gates`` lists each failed gate."""

    def __init__(self, message: str, gates: list[dict[str, str]]) -> None:
        super().__init__(message)
        self.gates = gates


class EvidenceUnavailable(LiveControlUnavailable):
    """The gates could not be judged (the shadow store is down): refused unless forced."""


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
    evidence: Evidence | None = None,
    reports: ReportSource | None = None,
    report_window_s: float = 3600.0,
) -> FastAPI:
    """``evidence`` gates promotions; ``reports`` feeds the dashboard. Either may be None
    (no shadow store): promotions are then allowed and audited as ungated, and the dashboard
    shows the routes without numbers."""
    if not token:
        raise ValueError("the admin listener needs a token (BANYAN_ADMIN_TOKEN)")
    secret = token.encode()

    def valid(given: str | None) -> bool:
        # Bytes: compare_digest refuses non-ASCII str, and a header may carry any latin-1.
        return given is not None and hmac.compare_digest(given.encode("utf-8", "replace"), secret)

    def authorized(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() == "bearer" and valid(given.strip()):
            return
        if valid(request.cookies.get(COOKIE)):
            if (
                request.method not in ("GET", "HEAD")
                and request.headers.get(_DASHBOARD_HEADER) != "1"
            ):
                raise HTTPException(
                    403,
                    "a change authenticated by the dashboard cookie must come from the dashboard"
                    f" ({_DASHBOARD_HEADER}: 1); scripts send Authorization: Bearer <admin token>",
                )
            return
        raise HTTPException(
            401,
            "send Authorization: Bearer <admin token> (lab.json: admin_token);"
            " a browser opens /dashboard?token=<admin token> once",
            headers={"WWW-Authenticate": "Bearer"},
        )

    app = FastAPI(title="Banyan proxy admin", docs_url=None, redoc_url=None, lifespan=lifespan)
    guarded = [Depends(authorized)]

    routes_control = control or RouteControl(core, core.table, "default")

    @app.exception_handler(GatesFailed)
    async def gates_failed(request: Request, exc: GatesFailed) -> JSONResponse:
        body = {"error": {"message": str(exc), "code": "invalid_request_error"}, "gates": exc.gates}
        return JSONResponse(body, 409)

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
        change = await gated_change(
            name, "set", actor=body.actor or "admin-api", reason=body.reason, force=body.force,
            target=target,
        )  # fmt: skip
        return {"change": change.view(), "route": view(_get(name))}

    @app.post("/routes/{name}/promote", dependencies=guarded)
    async def promote(name: str, body: StepRequest) -> dict[str, object]:
        change = await gated_change(
            name, "promote", actor=body.actor or "admin-api", reason=body.reason, force=body.force
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

    async def gated_change(
        name: str, action: Action, *, actor: str, reason: str, force: bool,
        target: RouteState | None = None,
    ) -> Change:  # fmt: skip
        """A set or promote, judged first when it moves a route up out of shadow or canary."""
        if not reason.strip():
            raise ChangeRefused("a reason is required: say why, it goes into the audit log")
        before, after = routes_control.next_state(name, action, target)
        if not needs_evidence(before, after):
            return await routes_control.change(
                name, action, actor=actor, reason=reason, target=target, expected=before
            )
        record, forced = await judged(name, before, after, force)
        return await routes_control.change(
            name, action, actor=actor, reason=reason, target=target, expected=before,
            forced=forced, evidence=record,
        )  # fmt: skip

    async def judged(
        name: str, before: RouteState, after: RouteState, force: bool
    ) -> tuple[dict[str, Any], bool]:
        """(the audit row's evidence, whether the gates were overridden); raises the refusal."""
        move = f"{before.describe()} → {after.describe()}"
        if evidence is None:
            return {"gates": "not configured", "move": move}, False
        try:
            async with asyncio.timeout(_JUDGE_TIMEOUT_S):
                judgement = await evidence.judge(name, after.mode)
        except Exception as exc:  # the shadow store's failure, whatever it is
            _log.warning("promotion gates unavailable", route=name, error=repr(exc))
            if not force:
                raise EvidenceUnavailable(
                    f"route {name} unchanged: the promotion gates could not be judged ({exc!r});"
                    " force with a reason to promote without evidence (audited)"
                ) from exc
            return {"gates": "unavailable", "error": repr(exc), "move": move,
                    "forced": True}, True  # fmt: skip
        gates = gate_failures(judgement)
        record = {
            **judgement.evidence,
            "gates": "passed" if judgement.passed else "failed",
            "passed": judgement.passed,
            "failures": gates,
            "forced": force and not judgement.passed,
            "move": move,
        }
        if not judgement.passed and not force:
            listed = "; ".join(f"{g['gate']}: {g['message']}" for g in gates)
            raise GatesFailed(
                f"promotion of {name} ({move}) refused by the gates: {listed}."
                " Force with a reason to override (audited).",
                gates,
            )
        return record, bool(record["forced"])

    @app.get("/dashboard", response_class=HTMLResponse, response_model=None)
    async def dashboard(
        request: Request,
        route: str | None = None,
        token: Annotated[str | None, Query(description="once, from a browser")] = None,
    ) -> HTMLResponse | RedirectResponse:
        if token is not None:
            if not valid(token):
                raise HTTPException(401, "wrong admin token (lab.json: admin_token)")
            query = f"?{urlencode({'route': route})}" if route is not None else ""
            response = RedirectResponse(f"/dashboard{query}", 303)
            response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/")
            return response
        authorized(request, request.headers.get("authorization"))
        nonce = secrets.token_urlsafe(16)
        page = render_page(await live_html(route), nonce=nonce)
        return HTMLResponse(page, headers=_page_headers(csp(nonce)))

    @app.get("/dashboard/live", dependencies=guarded, response_class=HTMLResponse)
    async def dashboard_live(route: str | None = None) -> HTMLResponse:
        return HTMLResponse(await live_html(route), headers=_page_headers(csp("none")))

    async def live_html(selected: str | None) -> str:
        routes = [DashboardRoute(r.name, state_describe(r)) for r in core.table.routes]
        if selected is not None and core.table.get(selected) is None:
            selected = None
        window = _describe_window(report_window_s)
        if reports is None:
            return render_live(routes, None, window=window, selected=selected,
                               problem="no shadow report configured: modes only")  # fmt: skip
        try:
            report = await reports.report(report_window_s)
        except Exception as exc:  # the shadow store's failure: show the routes anyway
            return render_live(routes, None, window=window, selected=selected,
                               problem=f"shadow report unavailable: {exc!r}")  # fmt: skip
        examples: dict[str, Mapping[str, Any] | None] = {}
        if selected is not None:
            for entry in report.get("routes") or ():
                if entry.get("route") != selected:
                    continue
                for diff in (entry.get("top_diffs") or ())[:_MAX_EXAMPLES]:
                    path = str(diff.get("path"))
                    examples[path] = await reports.example(selected, path)
        return render_live(routes, report, window=window, selected=selected, examples=examples)

    def _get(name: str) -> RouteConfig:
        found = core.table.get(name)
        if found is None:
            raise UnknownRoute(name)
        return found

    return app


def state_describe(route: RouteConfig) -> str:
    return f"canary {route.canary_percent:g}%" if route.mode == "canary" else route.mode


def _describe_window(seconds: float) -> str:
    for unit, size in (("h", 3600.0), ("m", 60.0)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def _page_headers(policy: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": policy,
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }

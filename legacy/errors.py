"""The platform's error envelope, used by every response that is not a success.

Shape (sdk-contract §1.4; it parses as both a sarvamai ``ErrorMessage`` and an OpenAI error)::

    {"error": {"message": str, "code": ErrorCode, "request_id": str}}

One table maps HTTP status to code; internal details go to the log, never to the client.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import HTTPConnection

from banyan.logs import get_logger

__all__ = ["ErrorCode", "error_response", "install_error_handlers"]

ErrorCode = Literal[
    "invalid_request_error",
    "internal_server_error",
    "unprocessable_entity_error",
    "insufficient_quota_error",
    "invalid_api_key_error",
    "authentication_error",
    "not_found_error",
    "rate_limit_exceeded_error",
    "model_call_error",
    "gateway_timeout_error",
    "billing_service_unavailable_error",
]

_CODE_BY_STATUS: dict[int, ErrorCode] = {
    400: "invalid_request_error",
    401: "invalid_api_key_error",
    402: "insufficient_quota_error",
    403: "authentication_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    422: "unprocessable_entity_error",
    429: "rate_limit_exceeded_error",
    502: "model_call_error",
    503: "internal_server_error",
    504: "gateway_timeout_error",
}

_log = get_logger(__name__)


def _code_for(status: int) -> ErrorCode:
    if status in _CODE_BY_STATUS:
        return _CODE_BY_STATUS[status]
    return "invalid_request_error" if status < 500 else "internal_server_error"


def error_response(
    request: HTTPConnection,
    status: int,
    message: str,
    *,
    code: ErrorCode | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    request_id: str = getattr(request.state, "request_id", "")
    body = {
        "error": {"message": message, "code": code or _code_for(status), "request_id": request_id}
    }
    # Set here too: a 500 is sent by Starlette's outermost middleware, past our request-id one.
    all_headers = {**(headers or {}), "x-request-id": request_id} if request_id else headers
    return JSONResponse(body, status_code=status, headers=all_headers)


def _describe_validation(exc: RequestValidationError) -> str:
    """One line per problem, naming the field: "body.text: Field required"."""
    parts = []
    for error in exc.errors():
        location = ".".join(str(p) for p in error.get("loc", ()))
        parts.append(f"{location}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message = exc.detail if isinstance(exc.detail, str) else "request failed"
    if exc.status_code == 404 and message == "Not Found":
        message = f"no route {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"method {request.method} is not allowed on {request.url.path}"
    return error_response(request, exc.status_code, message, headers=exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(request, 422, _describe_validation(exc))


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    request_id: str = getattr(request.state, "request_id", "")
    _log.error("unhandled error", path=request.url.path, request_id=request_id, exc_info=exc)
    return error_response(request, 500, "internal error; quote the request_id when reporting it")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected_error)

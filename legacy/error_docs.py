"""The error envelope as OpenAPI sees it, so every route documents the failures it can answer.

``legacy/errors.py`` renders the envelope; this module only describes it (pydantic models and
the ``responses=`` table of a route), so that schema-driven clients and the parity suites can
validate error bodies as strictly as successes.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel

from legacy.errors import ErrorCode

__all__ = ["ErrorEnvelope", "error_responses"]


class ErrorDetail(BaseModel):
    message: str
    code: ErrorCode
    request_id: str | None = None


class ErrorEnvelope(BaseModel):
    error: ErrorDetail


_WHY: Final[dict[int, str]] = {
    400: "The body is not JSON (or the upload is not decodable audio), or is valid but "
    "cannot be served as asked (a combination the schema cannot express, e.g. a language the "
    "chosen model lacks); the message says what to fix.",
    401: "The API key is missing or not valid (OpenAI-style routes: /v1/..., /v2/...).",
    402: "The wallet has too few credits for this request.",
    403: "The API key is missing or not valid (an object URL: its signature is missing, "
    "altered, expired, or for another object or method).",
    404: "No such object (the message says where to list them).",
    409: "The job is not finished: its results do not exist yet.",
    413: "The request body is too large.",
    422: "A field is missing or invalid; the message names it.",
    429: "Rate limit reached; retry after Retry-After seconds.",
    502: "The model behind the route failed.",
    503: "The model behind the route is not configured, or the job queue is full (retry "
    "after Retry-After seconds).",
}
# Every JSON route: 400 for a body that is not JSON, the commerce refusals, 422.
_ALWAYS: Final = (400, 402, 403, 422, 429)


def error_responses(*statuses: int, openai_style: bool = False) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a billed JSON route: the ones every such route can answer, and
    ``statuses``. OpenAI-style routes refuse a bad key with 401 instead of 403."""
    if openai_style:
        statuses = (*statuses, 401)
    example = {"error": {"message": "…", "code": "invalid_request_error", "request_id": "…"}}
    return {
        status: {
            "model": ErrorEnvelope,
            "description": _WHY[status],
            "content": {"application/json": {"example": example}},
        }
        for status in sorted({*_ALWAYS, *statuses} - ({403} if openai_style else set()))
    }

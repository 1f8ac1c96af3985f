"""Legacy's chat routes in process, for the parity generators of the Go candidate.

Runs legacy's own pieces (legacy/chat_api.py's router, legacy/errors.py's handlers,
legacy/metering.py's commerce handlers and middleware, the request-id middleware) with a fake
ledger standing in for PostgreSQL and the real chat model (legacy/inference/llm.py, no
latency) behind an in-process transport. Each request is recorded with legacy's answer
(status, the contract headers, the body), the billing calls it made, and every model call
(the exact bytes legacy sent to ``/v1/generate`` and the model's answer), so the Go tests can
check the candidate sends the same bytes and answers the same way.

The completion id and ``created`` are pinned (``ID``, ``CREATED``): legacy draws a fresh id
per completion, and the Go tests inject the same two values.

The fake ledger keys off the API key as gen_http_cases.py's does: none or "bad" (invalid
key), "broke" (empty wallet), "limited" (rate limited); any other key is accepted, with
X-RateLimit-* headers unless the request is a shadow one. A last user message naming one of
``MODEL_FAILURES`` makes the model fail that way.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[3]))

import httpx  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

import legacy.chat_api  # noqa: E402
from legacy.chat_api import chat_router  # noqa: E402
from legacy.commerce.errors import InsufficientQuota, InvalidApiKey, RateLimited  # noqa: E402
from legacy.commerce.ratelimit import RateDecision  # noqa: E402
from legacy.errors import install_error_handlers  # noqa: E402
from legacy.inference.llm import llm_router  # noqa: E402
from legacy.inference.profiles import StreamProfile  # noqa: E402
from legacy.inference.tokenizer import Tokenizer  # noqa: E402
from legacy.metering import install_commerce  # noqa: E402
from legacy.request_id import RequestIdMiddleware  # noqa: E402

__all__ = ["CREATED", "ID", "MODEL_FAILURES", "TOKENIZER", "Recorder"]

ID = "chatcmpl-0123456789abcdef01234567"
CREATED = 1767225600
ALLOWED = RateDecision(True, 60, 59, 1767225600, 0, None)
REFUSED = RateDecision(False, 2, 0, 1767225660, 42, "requests")
TOKENIZER = Tokenizer()
# A last user message with one of these words makes the model fail so.
MODEL_FAILURES = ("MODEL-500", "MODEL-CUT", "MODEL-NOSTART", "MODEL-EMPTY")
HEADERS = ("content-type", "x-request-id", "cache-control", "x-ratelimit-limit",
           "x-ratelimit-remaining", "x-ratelimit-reset", "retry-after")  # fmt: skip


class _Clock:
    @staticmethod
    def time() -> float:
        return CREATED + 0.75


class _Reservation:
    def __init__(self, rate: RateDecision | None) -> None:
        self.reservation_id = "00000000-0000-0000-0000-000000000001"
        self.request_id = "r"
        self.unit = None
        self.rate = rate


class _FakeBilling:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def authorize(self, **kw: Any) -> _Reservation:
        key = kw["api_key"]
        estimate = [[unit, int(q)] for unit, q in kw["estimate"].items()]
        self.calls.append({"call": "authorize", "api_key": key or "", "route": kw["route"],
                           "model": kw["model"], "estimate": estimate,
                           "shadow": kw["shadow"]})  # fmt: skip
        if not key:
            raise InvalidApiKey(
                "send your API key in api-subscription-key or Authorization: Bearer"
            )
        if key == "bad":
            raise InvalidApiKey("the API key is not valid")
        if key == "broke":
            raise InsufficientQuota("the wallet cannot cover this request; top it up")
        if key == "limited":
            raise RateLimited("rate limit of your plan reached (requests); retry later", REFUSED)
        return _Reservation(None if kw["shadow"] else ALLOWED)

    async def settle(self, reservation_id: str, **kw: Any) -> None:
        usage = [[unit, int(q)] for unit, q in kw["usage"].items()]
        self.calls.append({"call": "settle", "usage": usage})

    async def release(self, reservation_id: str) -> None:
        self.calls.append({"call": "release"})


def _last_user_text(payload: dict[str, Any]) -> str:
    for message in reversed(payload.get("messages", [])):
        if isinstance(message, dict) and message.get("role") == "user":
            return str(message.get("content"))
    return ""


class Recorder:
    """Legacy's chat app with the fakes; ``run`` sends one request and records it all."""

    def __init__(self) -> None:
        legacy.chat_api._completion_id = lambda: ID  # type: ignore[attr-defined]
        legacy.chat_api.time = _Clock  # type: ignore[attr-defined,assignment]
        model = FastAPI()
        model.include_router(llm_router(StreamProfile(), TOKENIZER))
        self.model_calls: list[dict[str, Any]] = []
        inner = httpx.ASGITransport(app=model)
        recorder = self

        class Transport(httpx.AsyncBaseTransport):
            async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
                content = request.content
                call: dict[str, Any] = {"path": request.url.path, "payload": content.decode()}
                recorder.model_calls.append(call)
                said = _last_user_text(json.loads(content))
                failure = next((f for f in MODEL_FAILURES if f in said), None)
                if failure == "MODEL-500":
                    status, body = 500, b'{"error": {"message": "the GPU caught fire"}}'
                else:
                    response = await inner.handle_async_request(request)
                    status, body = response.status_code, await response.aread()
                    if failure == "MODEL-CUT":  # no end event
                        body = b"".join(body.splitlines(keepends=True)[:4])
                    elif failure == "MODEL-NOSTART":
                        body = b"".join(body.splitlines(keepends=True)[1:])
                    elif failure == "MODEL-EMPTY":
                        body = b""
                call.update(status=status, answer=body.decode())
                return httpx.Response(status, content=body)

        self.app = FastAPI()
        install_error_handlers(self.app)
        install_commerce(self.app)
        self.app.add_middleware(RequestIdMiddleware)
        self.app.include_router(chat_router(TOKENIZER))
        self.app.state.billing = _FakeBilling()
        self.app.state.inference_url = "http://inference"
        self.app.state.inference = httpx.AsyncClient(transport=Transport())
        self.client = TestClient(self.app, raise_server_exceptions=False)

    def run(self, case: dict[str, Any]) -> dict[str, Any]:
        """Send ``case`` (name, path, headers, body bytes) and return it with legacy's
        answer, billing calls and model calls."""
        self.app.state.billing.calls = []
        self.model_calls.clear()
        response = self.client.request(
            "POST", case["path"], content=case["body"], headers=case["headers"]
        )
        headers = {k: response.headers[k] for k in HEADERS if k in response.headers}
        return {
            "name": case["name"],
            "path": case["path"],
            "headers": case["headers"],
            "body": case["body"].decode("utf-8", errors="surrogateescape"),
            "status": response.status_code,
            "response_headers": headers,
            "response": response.text,
            "billing": list(self.app.state.billing.calls),
            "model_calls": list(self.model_calls),
        }

"""Write ../testdata/http_cases.json: legacy's HTTP answers on the ported routes, for replay.

Runs legacy's own FastAPI pieces (legacy/text_api.py's router, legacy/errors.py's handlers,
legacy/metering.py's commerce handlers and middleware, the request-id middleware) in process,
with a fake ledger standing in for PostgreSQL, and records for each request the status, the
contract headers and the body, and the billing calls made. The Go test replays every request
against the candidate's handler with a fake ledger that answers the same way through the
internal API's conventions (a bad key is a 401 there), and compares.

The fake ledger keys off the API key: "bad" (invalid key), "broke" (empty wallet), "limited"
(rate limited), "noprice" (no price for the route); any other key is accepted, with
X-RateLimit-* headers unless the request is a shadow one.

    .venv/bin/python candidate/internal/httpapi/gen/gen_http_cases.py
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[3]))

import httpx  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from legacy.commerce.errors import (  # noqa: E402
    InsufficientQuota,
    InvalidApiKey,
    InvalidUsage,
    RateLimited,
)
from legacy.commerce.ratelimit import RateDecision  # noqa: E402
from legacy.errors import install_error_handlers  # noqa: E402
from legacy.inference.lid_route import detect  # noqa: E402
from legacy.metering import install_commerce  # noqa: E402
from legacy.request_id import RequestIdMiddleware  # noqa: E402
from legacy.text.lid import LanguageIdentifier  # noqa: E402
from legacy.text_api import text_router  # noqa: E402

ALLOWED = RateDecision(True, 60, 59, 1767225600, 0, None)
REFUSED = RateDecision(False, 2, 0, 1767225660, 42, "requests")


class Reservation:
    def __init__(self, unit: str, rate: RateDecision | None) -> None:
        self.reservation_id = "00000000-0000-0000-0000-000000000001"
        self.unit = unit
        self.rate = rate


class FakeBilling:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def authorize(self, **kw: Any) -> Reservation:
        key, unit = kw["api_key"], kw["unit"]
        self.calls.append({"call": "authorize", "api_key": key or "", "route": kw["route"],
                           "unit": unit, "quantity": int(kw["quantity"]),
                           "shadow": kw["shadow"]})  # fmt: skip
        if not key:
            raise InvalidApiKey(
                "send your API key in api-subscription-key or Authorization: Bearer"
            )
        if key == "bad":
            raise InvalidApiKey("the API key is not valid")
        if key == "broke":
            raise InsufficientQuota(
                f"the wallet cannot cover this request ({kw['quantity']} credits needed); top it up"
            )
        if key == "limited":
            raise RateLimited("rate limit of your plan reached (requests); retry later", REFUSED)
        if key == "noprice":
            raise InvalidUsage(f"no price for route {kw['route']!r} in unit {unit}")
        return Reservation(unit, None if kw["shadow"] else ALLOWED)

    async def settle(self, reservation_id: str, **kw: Any) -> None:
        self.calls.append({"call": "settle", "unit": kw["unit"], "quantity": int(kw["quantity"])})

    async def release(self, reservation_id: str) -> None:
        self.calls.append({"call": "release"})


def make_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    install_commerce(app)
    app.add_middleware(RequestIdMiddleware)
    app.include_router(text_router)
    app.state.billing = FakeBilling()
    app.state.model_calls = []

    def model(request: httpx.Request) -> httpx.Response:
        """The inference server's /v1/lid, answered by its own model function (or refusing
        the text MODEL_REFUSES, for the 502)."""
        call = json.loads(request.content)
        if call["text"] == MODEL_REFUSES:
            app.state.model_calls.append({**call, "status": 500})
            return httpx.Response(500, json={"error": {"message": "boom"}})
        answer = detect(call["text"], call["candidates"])
        app.state.model_calls.append({**call, "answer": answer})
        return httpx.Response(200, json={"language_code": answer})

    client = httpx.AsyncClient(transport=httpx.MockTransport(model))
    app.state.lid = LanguageIdentifier(client, "http://inference")
    return app


MODEL_REFUSES = "मॉडल बंद है"


JSON = "application/json"
KEY = {"api-subscription-key": "ok"}


def req(name: str, path: str, body: Any = None, *, raw: bytes | None = None,
        content_type: str | None = JSON, method: str = "POST",
        headers: dict[str, str] | None = None, header_list: list[tuple[str, str]] | None = None,
        ) -> dict[str, Any]:  # fmt: skip
    data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    hs: list[tuple[str, str]] = [("x-request-id", f"case-{name}")]
    if content_type is not None:
        hs.append(("content-type", content_type))
    hs += list((headers if headers is not None else KEY).items()) + (header_list or [])
    return {"name": name, "method": method, "path": path, "headers": hs, "body": data}


def tl(input_: Any = "नमस्ते", source: Any = "hi-IN", target: Any = "ta-IN", **more: Any) -> dict:
    return {"input": input_, "source_language_code": source, "target_language_code": target, **more}


LONG = "क" * 1000
REQUESTS = [
    # text-lid: answers, billing, validation.
    req("lid-ok", "/text-lid", {"input": "माझे नाव राहुल आहे"}),
    req("lid-hindi", "/text-lid", {"input": "मेरा नाम राहुल है"}),
    req("lid-model-refuses", "/text-lid", {"input": MODEL_REFUSES}),
    req("lid-latin", "/text-lid", {"input": "Good morning"}),
    req("lid-null-fields", "/text-lid", {"input": "12345 !!!"}),
    req("lid-olck", "/text-lid", {"input": "ᱥᱟᱱᱛᱟᱲᱤ"}),
    req("lid-emoji-count", "/text-lid", {"input": "😀😀 ok"}),
    req("lid-max", "/text-lid", {"input": LONG}),
    req("lid-too-long", "/text-lid", {"input": LONG + "क"}),
    req("lid-empty", "/text-lid", {"input": ""}),
    req("lid-number", "/text-lid", {"input": 1}),
    req("lid-null", "/text-lid", {"input": None}),
    req("lid-list", "/text-lid", {"input": ["a"]}),
    req("lid-missing", "/text-lid", {}),
    req("lid-extra-field", "/text-lid", {"input": "a", "model": "x"}),
    req("lid-array-body", "/text-lid", ["a"]),
    req("lid-string-body", "/text-lid", "a"),
    req("lid-null-body", "/text-lid", raw=b"null"),
    req("lid-empty-body", "/text-lid", raw=b""),
    req("lid-bad-json", "/text-lid", raw=b'{"input": "a",}'),
    req("lid-bad-json-2", "/text-lid", raw='{"input": "नमस्ते" x}'.encode()),
    req("lid-bad-utf8", "/text-lid", raw=b'{"input": "\xff"}'),
    req("lid-surrogate", "/text-lid", raw=b'{"input": "\\ud800"}'),
    req("lid-utf16", "/text-lid", raw='{"input": "मेरा नाम राहुल है"}'.encode("utf-16")),
    req("lid-no-content-type", "/text-lid", {"input": "a"}, content_type=None),
    req("lid-text-plain", "/text-lid", {"input": "a"}, content_type="text/plain"),
    req(
        "lid-json-charset",
        "/text-lid",
        {"input": "a"},
        content_type="application/json; charset=utf-8",
    ),
    req("lid-json-suffix", "/text-lid", {"input": "a"}, content_type="application/vnd.api+json"),
    req("lid-json-upper", "/text-lid", {"input": "a"}, content_type="APPLICATION/JSON"),
    req("lid-json-bad-type", "/text-lid", {"input": "a"}, content_type="application/json/x"),
    req("lid-json-space", "/text-lid", {"input": "a"}, content_type=" application/json ;x=1"),
    req("lid-huge-int", "/text-lid", raw=b'{"input": ' + b"1" * 4400 + b"}"),
    # Billing refusals and keys.
    req("lid-no-key", "/text-lid", {"input": "hello"}, headers={}),
    req("lid-bad-key", "/text-lid", {"input": "hello"}, headers={"api-subscription-key": "bad"}),
    req("lid-broke", "/text-lid", {"input": "hello"}, headers={"api-subscription-key": "broke"}),
    req(
        "lid-limited", "/text-lid", {"input": "hello"}, headers={"api-subscription-key": "limited"}
    ),
    req(
        "lid-noprice", "/text-lid", {"input": "hello"}, headers={"api-subscription-key": "noprice"}
    ),
    req("lid-bearer", "/text-lid", {"input": "hello"}, headers={"authorization": "Bearer  ok "}),
    req(
        "lid-bearer-lower", "/text-lid", {"input": "hello"}, headers={"authorization": "bearer bad"}
    ),
    req("lid-basic", "/text-lid", {"input": "hello"}, headers={"authorization": "Basic ok"}),
    req("lid-bearer-empty", "/text-lid", {"input": "hello"}, headers={"authorization": "Bearer "}),
    req(
        "lid-both-keys",
        "/text-lid",
        {"input": "hello"},
        headers={"api-subscription-key": "ok", "authorization": "Bearer bad"},
    ),
    req("lid-shadow", "/text-lid", {"input": "hello"}, headers={**KEY, "x-banyan-shadow": "1"}),
    req("lid-shadow-0", "/text-lid", {"input": "hello"}, headers={**KEY, "x-banyan-shadow": "0"}),
    # transliterate: answers, billing, validation.
    req("tl-ok", "/transliterate", tl()),
    req("tl-auto-en", "/transliterate", tl("नमस्ते दुनिया 2024", "auto", "en-IN")),
    req(
        "tl-spoken",
        "/transliterate",
        tl("mere paas 250 rupaye", "en-IN", "hi-IN", spoken_form=True),
    ),
    req(
        "tl-spoken-native",
        "/transliterate",
        tl(
            "mere paas 250 rupaye",
            "en-IN",
            "hi-IN",
            spoken_form=True,
            spoken_form_numerals_language="native",
            numerals_format="native",
        ),
    ),
    req(
        "tl-nulls",
        "/transliterate",
        tl(numerals_format=None, spoken_form=None, spoken_form_numerals_language=None),
    ),
    req("tl-same", "/transliterate", tl("hello", "en-IN", "en-IN")),
    req(
        "tl-same-limited",
        "/transliterate",
        tl("hello", "en-IN", "en-IN"),
        headers={"api-subscription-key": "limited"},
    ),
    req("tl-auto-same-script", "/transliterate", tl("नमस्ते", "auto", "mr-IN")),
    req("tl-no-script", "/transliterate", tl("12345", "auto", "hi-IN")),
    req(
        "tl-native-unavailable",
        "/transliterate",
        tl("250", "en-IN", "ta-IN", spoken_form=True, spoken_form_numerals_language="native"),
    ),
    req(
        "tl-too-large",
        "/transliterate",
        tl("9" * 400, "en-IN", "bn-IN", spoken_form=True, spoken_form_numerals_language="native"),
    ),
    req("tl-bad-target", "/transliterate", tl("hi", "auto", "fr-FR")),
    req("tl-bad-source", "/transliterate", tl("hi", "xx", "hi-IN")),
    req("tl-auto-target", "/transliterate", tl("hi", "auto", "auto")),
    req(
        "tl-all-wrong",
        "/transliterate",
        tl(
            ["a"],
            5,
            True,
            numerals_format=True,
            spoken_form="true",
            spoken_form_numerals_language=1,
        ),
    ),
    req("tl-spoken-int", "/transliterate", tl(spoken_form=1)),
    req("tl-spoken-float", "/transliterate", tl(spoken_form=1.0)),
    req("tl-null-required", "/transliterate", tl(None, None, None)),
    req("tl-missing", "/transliterate", {}),
    req(
        "tl-surrogates",
        "/transliterate",
        raw=b'{"input":"\\ud800","source_language_code":"hi-IN\\ud800","target_language_code":'
        b'"\\udc00","numerals_format":"\\ud800","spoken_form":0}',
    ),
    req("tl-empty-input", "/transliterate", tl("")),
    req("tl-long-input", "/transliterate", tl(LONG + "x")),
    req("tl-no-key", "/transliterate", tl(), headers={}),
    req("tl-bad-key", "/transliterate", tl(), headers={"api-subscription-key": "bad"}),
    req("tl-broke", "/transliterate", tl(), headers={"api-subscription-key": "broke"}),
    req("tl-limited", "/transliterate", tl(), headers={"api-subscription-key": "limited"}),
    req("tl-shadow", "/transliterate", tl(), headers={**KEY, "x-banyan-shadow": "1"}),
    req(
        "tl-shadow-no-script",
        "/transliterate",
        tl("!!!", "auto", "hi-IN"),
        headers={**KEY, "x-banyan-shadow": "1"},
    ),
    # Routing: 404, 405, trailing-slash redirects, request ids.
    req("unknown-path", "/nope", {"input": "a"}),
    req("unknown-get", "/", method="GET", content_type=None),
    req("lid-get", "/text-lid", method="GET", content_type=None),
    req("lid-head", "/text-lid", method="HEAD", content_type=None),
    req("lid-options", "/text-lid", method="OPTIONS", content_type=None),
    req("tl-put", "/transliterate", tl(), method="PUT"),
    req("lid-slash", "/text-lid/", {"input": "a"}),
    req("lid-slash-get", "/text-lid/?q=1&r=a%20b", method="GET", content_type=None),
    req("lid-case", "/Text-Lid", {"input": "a"}),
    req("rid-invalid", "/nope", header_list=[("x-request-id", "has space")]),
    req("rid-too-long", "/nope", header_list=[("x-request-id", "a" * 129)]),
    req("rid-max", "/nope", header_list=[("x-request-id", "a" * 128)]),
    req("rid-empty", "/nope", header_list=[("x-request-id", "")]),
    req("rid-punct", "/text-lid", {"input": "a"}, header_list=[("x-request-id", "A.b_c:d-9")]),
]


def record(app: FastAPI, client: TestClient, case: dict[str, Any]) -> dict[str, Any]:
    """Send one case to the app and record legacy's answer, its billing calls and its
    language-identification model calls (then forgotten, for the next case)."""
    headers = case["headers"]
    # A later x-request-id (header_list) is a repeat of the header: legacy takes the last.
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        # (legacy logs the 500's traceback; it is expected here)
        response = client.request(case["method"], case["path"], content=case["body"],
                                  headers=headers)  # fmt: skip
    keep = {k: v for k, v in response.headers.items()
            if k in ("content-type", "allow", "location", "x-request-id", "retry-after")
            or k.startswith("x-ratelimit-")}  # fmt: skip
    recorded = {
        "name": case["name"], "method": case["method"], "path": case["path"],
        "headers": headers, "body": base64.b64encode(case["body"]).decode(),
        "want": {"status": response.status_code, "headers": keep,
                 "body": response.content.decode("utf-8")},
        "billing": app.state.billing.calls,
        "model_calls": app.state.model_calls,
    }  # fmt: skip
    app.state.billing.calls = []
    app.state.model_calls = []
    return recorded


def main() -> None:
    app = make_app()
    client = TestClient(app, raise_server_exceptions=False, follow_redirects=False)
    out = [record(app, client, case) for case in REQUESTS]
    target = HERE.parent / "testdata" / "http_cases.json"
    target.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {target}: {len(out)} cases")


if __name__ == "__main__":
    main()

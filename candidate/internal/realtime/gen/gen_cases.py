"""Write ../testdata/*.json: legacy/realtime.py's answers, for the Go tests to replay.

    .venv/bin/python candidate/internal/realtime/gen/gen_cases.py

Every expected value comes from running legacy's own code on a corpus written here:

* ``query_cases.json``: ``parse_query(websocket, TtsWsQuery)`` on raw query strings, through
  Starlette's real ``WebSocket`` (so its query-string decoding too); a refusal is the denial
  response legacy sends (status, headers, body bytes).
* ``handshake_cases.json``: ``open_session`` on handshake headers and offered subprotocols:
  the key legacy authorizes with and the subprotocol it echoes on accept.
* ``refusal_cases.json``: each commerce error, as the internal API reports it to the
  candidate (``internal_api._refusal``) and as the WebSocket handshake refuses it
  (``open_session``'s denial response).
* ``session_cases.json``: ``MeteredSession`` (estimate, a wallet that stops extending past a
  limit, a sequence of uses): every billing call and the outcome of every use.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from uuid import UUID

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[3]))

from starlette.requests import Request  # noqa: E402
from starlette.websockets import WebSocket  # noqa: E402

from legacy.commerce.billing import Authorization, Tenant  # noqa: E402
from legacy.commerce.errors import (  # noqa: E402
    CommerceError,
    InsufficientQuota,
    InvalidApiKey,
    InvalidUsage,
    RateLimited,
    ReservationClosed,
    UnknownReservation,
)
from legacy.commerce.ratelimit import RateDecision  # noqa: E402
from legacy.internal_api import _refusal  # noqa: E402
from legacy.realtime import MeteredSession, open_session, parse_query  # noqa: E402
from legacy.tts_ws_api import TtsWsQuery  # noqa: E402

OUT = HERE.parent / "testdata"
REQUEST_ID = "rid-realtime-1"
RESERVATION = UUID("00000000-0000-0000-0000-000000000001")
TENANT = Tenant(RESERVATION, "t", "ab", 60, 1000)

QUERIES = [
    "", "model=bulbul:v2", "model=bulbul:v3", "model=bulbul:v4-flash", "model=bulbul%3Av3",
    "model=bulbul:v9", "model=", "model", "model=Bulbul:v2", "model=bulbul:v2&model=bulbul:v9",
    "model=bulbul:v9&model=bulbul:v3", "mo%64el=bulbul:v3", "model=bulbul:v2+", "model=%62ulbul:v2",
    "model=bulbul:v2%", "model=bulbul%3av2", "model=bulbul%ZZv2", "&&model=bulbul:v3&&",
    "model=bulbul:v2;send_completion_event=true", "model=%E0%A4%A", "model=%FF",
    "send_completion_event=true", "send_completion_event=True", "send_completion_event=TRUE",
    "send_completion_event=1", "send_completion_event=0", "send_completion_event=yes",
    "send_completion_event=YeS", "send_completion_event=no", "send_completion_event=on",
    "send_completion_event=off", "send_completion_event=t", "send_completion_event=F",
    "send_completion_event=y", "send_completion_event=N", "send_completion_event=false",
    "send_completion_event=", "send_completion_event", "send_completion_event=2",
    "send_completion_event=+true", "send_completion_event=true+", "send_completion_event=%20true",
    "send_completion_event=1.0", "send_completion_event=truee", "send_completion_event=null",
    "send_completion_event=%74rue", "send_completion_event=false&send_completion_event=maybe",
    "model=bulbul:v9&send_completion_event=maybe", "send_completion_event=maybe&model=x",
    "model=bulbul:v3&send_completion_event=true&extra=1", "Model=bulbul:v9",
    "model=bulbul:v2&send_completion_event=%E2%9C%93", "language-code=en-IN",
]  # fmt: skip


@dataclass
class Capture:
    """The ASGI side of one handshake: what the app sent."""

    sent: list[dict[str, Any]] = field(default_factory=list)

    async def receive(self) -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(self, message: MutableMapping[str, Any]) -> None:
        self.sent.append(dict(message))

    def denial(self) -> dict[str, Any] | None:
        start = next((m for m in self.sent if m["type"] == "websocket.http.response.start"), None)
        if start is None:
            return None
        body = b"".join(
            m.get("body", b"") for m in self.sent if m["type"] == "websocket.http.response.body"
        )
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in start["headers"]}
        return {"status": start["status"], "headers": headers, "body": body.decode()}


def websocket(
    capture: Capture, *, query: bytes = b"", headers: list[tuple[str, str]] | None = None,
    subprotocols: list[str] | None = None, app: Any = None,
) -> WebSocket:  # fmt: skip
    scope = {
        "type": "websocket", "path": "/text-to-speech/ws", "raw_path": b"/text-to-speech/ws",
        "query_string": query,
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers or []],
        "subprotocols": subprotocols or [], "state": {"request_id": REQUEST_ID},
        "extensions": {"websocket.http.response": {}}, "app": app,
    }  # fmt: skip
    return WebSocket(scope, capture.receive, capture.send)


async def query_case(raw: str) -> dict[str, Any]:
    capture = Capture()
    parsed = await parse_query(websocket(capture, query=raw.encode("latin-1")), TtsWsQuery)
    case: dict[str, Any] = {"query": raw}
    if parsed is None:
        case["refusal"] = capture.denial()
    else:
        case["model"] = parsed.model
        case["send_completion_event"] = parsed.send_completion_event
    return case


class FakeBilling:
    """legacy's Billing as far as a session uses it, over a wallet of ``limit`` (None: any)."""

    def __init__(self, *, refuse: CommerceError | None = None, limit: Decimal | None = None,
                 fail_settle: bool = False) -> None:  # fmt: skip
        self.refuse, self.limit, self.fail_settle = refuse, limit, fail_settle
        self.calls: list[list[str]] = []
        self.held = Decimal(0)

    async def authorize(self, *, api_key: str | None, quantity: Decimal | None, **_: Any) -> Any:
        self.calls.append(["authorize", str(api_key), str(quantity)])
        if self.refuse is not None:
            raise self.refuse
        self.held = quantity or Decimal(0)
        return Authorization(
            TENANT, RESERVATION, REQUEST_ID, {"characters": self.held}, False, self.held, None
        )

    async def extend(self, reservation_id: UUID, quantity: Decimal) -> Decimal:
        self.calls.append(["extend", str(quantity)])
        if self.limit is not None and self.held + quantity > self.limit:
            raise InsufficientQuota("the wallet cannot cover more of this stream; top it up")
        self.held += quantity
        return self.held

    async def settle(self, reservation_id: UUID, *, unit: str, quantity: Decimal) -> None:
        self.calls.append(["settle", unit, str(quantity)])
        if self.fail_settle:
            raise ReservationClosed(f"reservation {reservation_id} was expired; authorize again")

    async def release(self, reservation_id: UUID) -> None:
        self.calls.append(["release"])


HANDSHAKES: list[tuple[str, list[tuple[str, str]], list[str]]] = [
    ("header", [("api-subscription-key", "sk_a")], []),
    ("bearer", [("authorization", "Bearer sk_b")], []),
    ("bearer-lowercase", [("authorization", "bearer sk_b")], []),
    ("bearer-padded", [("authorization", "BEARER   sk_b  ")], []),
    ("bearer-empty", [("authorization", "Bearer ")], ["api-subscription-key.sk_p"]),
    ("basic", [("authorization", "Basic abc")], []),
    ("basic-then-subprotocol", [("authorization", "Basic abc")], ["api-subscription-key.sk_p"]),
    ("empty-header-then-bearer", [("api-subscription-key", ""), ("authorization", "Bearer sk_b")],
     []),
    ("header-wins", [("api-subscription-key", "sk_a"), ("authorization", "Bearer sk_b")], []),
    ("subprotocol", [], ["api-subscription-key.sk_p"]),
    ("subprotocol-echoed-with-header", [("api-subscription-key", "sk_a")],
     ["api-subscription-key.sk_p"]),
    ("subprotocol-empty-key", [], ["api-subscription-key."]),
    ("subprotocol-first-of-two", [],
     ["chat", "api-subscription-key.k1", "api-subscription-key.k2"]),
    ("subprotocol-other", [], ["chat.v1"]),
    ("subprotocol-case", [], ["API-Subscription-Key.k1"]),
    ("nothing", [], []),
]  # fmt: skip


async def handshake_case(name: str, headers: list[tuple[str, str]], protos: list[str]) -> Any:
    billing = FakeBilling()
    capture = Capture()
    app = SimpleNamespace(state=SimpleNamespace(billing=billing))
    ws = websocket(capture, headers=headers, subprotocols=protos, app=app)
    session = await open_session(ws, route="text-to-speech-ws", unit="characters",
                                 estimate=Decimal(250))  # fmt: skip
    assert session is not None
    accept = next(m for m in capture.sent if m["type"] == "websocket.accept")
    return {
        "name": name, "headers": headers, "subprotocols": protos,
        "api_key": billing.calls[0][1] if billing.calls[0][1] != "None" else None,
        "estimate": billing.calls[0][2], "echoed": accept.get("subprotocol"),
    }  # fmt: skip


def refusals() -> list[tuple[str, CommerceError]]:
    denied = RateDecision(False, 60, 0, 1767225600, 42, "requests")
    return [
        ("bad-key", InvalidApiKey("the API key is not valid")),
        ("no-key", InvalidApiKey(
            "send your API key in api-subscription-key or Authorization: Bearer")),
        ("empty-wallet", InsufficientQuota(
            "the wallet cannot cover this request (0.7500 credits needed); top it up")),
        ("rate-limited", RateLimited("rate limit of your plan reached (requests); retry later",
                                     denied)),
        ("no-price", InvalidUsage("no price for route 'text-to-speech-ws' in unit 'characters'")),
        ("unknown-reservation", UnknownReservation("no reservation x")),
        ("closed-reservation", ReservationClosed("reservation x was expired")),
        ("quote-and-unicode", InsufficientQuota('the "wallet" is empty — top it up\n')),
    ]  # fmt: skip


async def refusal_case(name: str, exc: CommerceError) -> dict[str, Any]:
    scope = {"type": "http", "method": "POST", "path": "/internal/v1/authorize", "headers": [],
             "query_string": b"", "state": {"request_id": REQUEST_ID}}  # fmt: skip
    internal = _refusal(Request(scope), exc)
    billing = FakeBilling(refuse=exc)
    capture = Capture()
    app = SimpleNamespace(state=SimpleNamespace(billing=billing))
    ws = websocket(capture, headers=[("api-subscription-key", "sk_x")], app=app)
    assert await open_session(ws, route="text-to-speech-ws", unit="characters",
                              estimate=Decimal(250)) is None  # fmt: skip
    message = json.loads(bytes(internal.body))["error"]["message"]
    return {
        "name": name,
        "internal": {"status": internal.status_code, "message": message,
                     "headers": {k: v for k, v in internal.headers.items()
                                 if k.lower().startswith(("x-ratelimit", "retry-after"))}},
        "refusal": capture.denial(),
    }  # fmt: skip


SESSIONS: list[dict[str, Any]] = [
    {"name": "within-the-hold", "estimate": "250", "uses": ["100", "150"]},
    {"name": "unused", "estimate": "250", "uses": []},
    {"name": "zero-and-negative-uses", "estimate": "250", "uses": ["0", "-5"]},
    {"name": "extends-by-the-estimate", "estimate": "10", "uses": ["8", "8", "30"]},
    {"name": "one-big-use", "estimate": "250", "uses": ["1000"]},
    {"name": "exactly-the-hold", "estimate": "250", "uses": ["250", "1"]},
    {"name": "seconds", "estimate": "10", "uses": ["2.5", "7.5", "0.001", "12.345"]},
    {"name": "small-estimate-steps-by-one", "estimate": "0.5", "uses": ["0.4", "0.2", "0.3"]},
    {"name": "wallet-runs-out", "estimate": "250", "limit": "500",
     "uses": ["200", "200", "200", "50"]},
    {"name": "wallet-refuses-first-extend", "estimate": "10", "limit": "10",
     "uses": ["15", "5", "6"]},
    {"name": "settle-fails", "estimate": "10", "uses": ["3"], "fail_settle": True},
]  # fmt: skip


async def session_case(spec: dict[str, Any]) -> dict[str, Any]:
    limit = Decimal(spec["limit"]) if "limit" in spec else None
    billing = FakeBilling(limit=limit, fail_settle=spec.get("fail_settle", False))
    estimate = Decimal(spec["estimate"])
    billing.held = estimate
    auth = Authorization(TENANT, RESERVATION, REQUEST_ID, {"characters": estimate}, False,
                         estimate, None)  # fmt: skip
    outcomes = []
    async with MeteredSession(billing, auth, estimate) as session:  # type: ignore[arg-type]
        for use in spec["uses"]:
            try:
                await session.use(Decimal(use))
                outcomes.append("ok")
            except InsufficientQuota:
                outcomes.append("insufficient_quota")
        used = str(session.used)
    return {**spec, "outcomes": outcomes, "used": used, "calls": billing.calls}


async def main() -> None:
    OUT.mkdir(exist_ok=True)
    tables: dict[str, list[Any]] = {
        "query_cases.json": [await query_case(q) for q in QUERIES],
        "handshake_cases.json": [await handshake_case(*h) for h in HANDSHAKES],
        "refusal_cases.json": [await refusal_case(n, e) for n, e in refusals()],
        "session_cases.json": [await session_case(s) for s in SESSIONS],
    }
    for name, cases in tables.items():
        text = json.dumps(cases, ensure_ascii=False, indent=1)
        (OUT / name).write_text(text + "\n", encoding="utf-8")
        print(f"{name}: {len(cases)} cases")


if __name__ == "__main__":
    asyncio.run(main())

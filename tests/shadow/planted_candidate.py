"""A test candidate with planted divergences: legacy's answers, each route wrong in one known way.

The shadow engine's acceptance test (issue 6) needs a candidate whose every difference from
legacy is known in advance, so that "caught in the right category and field path" can be
checked exactly. This app stands where the Go service will: it forwards each request to legacy
(so everything not planted is legacy's own answer, natural noise included) and then plants:

- ``POST /text-lid``: ``script_code`` lower-cased → changed ``script_code``;
- ``POST /translate``: an extra ``engine`` field → added ``engine``;
- ``POST /speech-to-text``: the first word's end time off by 1e-9 → changed
  ``timestamps.end_time_seconds[0]``;
- ``POST /text-to-speech``: audio at 16 kHz whatever was asked (a lost parameter) → changed
  ``audios[0].$audio.sample_rate``;
- ``POST /v1/chat/completions``: the stream's usage chunk dropped → removed ``$sse.usage``;
- ``POST /transliterate``: bills 2 % more characters (through the internal API) → a billing
  delta of 0.02;
- ``GET /v1/models``: every 20th request (by request id) 250 ms slow → the candidate's p99;
- ``WS /text-to-speech/ws``: the final ``event`` message never sent → removed ``$ws[i]``.

Faults on demand, for the "a broken candidate changes nothing" tests: a request carrying
``X-Planted-Fault`` gets ``hang`` (no answer for a minute), ``crash`` (a 500 with a traceback,
what an unhandled exception gives), ``garbage`` (200, JSON content type, random bytes) or
``reset`` (the connection cut after the status line). Legacy ignores the header.

Billing: a forwarded request keeps ``X-Banyan-Shadow`` and the request id, so legacy records the
candidate's shadow-ledger row itself, exactly as it would bill legacy's. The overcharging route
forwards under ``<id>.fwd`` instead and bills ``<id>`` through the internal authorize/settle
API, as the Go candidate does, with 2 % more characters.

Run: ``python tests/shadow/planted_candidate.py --port P --legacy-url URL --internal-token T``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import sys
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import uvicorn
import websockets
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect
from websockets.typing import Subprotocol

_HOP = {"host", "content-length", "connection", "transfer-encoding", "keep-alive"}
SLOW_EVERY = 20
SLOW_S = 0.25
OVERCHARGE = Decimal("1.02")


def _is_slow(request_id: str) -> bool:
    digest = hashlib.blake2b(request_id.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") % SLOW_EVERY == 0


def build_app(legacy_url: str, internal_token: str) -> Starlette:
    client = httpx.AsyncClient(base_url=legacy_url, timeout=60)

    def forward_headers(request: Request, **override: str) -> dict[str, str]:
        headers = {k: v for k, v in request.headers.items() if k not in _HOP}
        headers.update(override)
        return headers

    async def passthrough(
        request: Request, body: bytes | None = None, **override: str
    ) -> httpx.Response:
        content = await request.body() if body is None else body
        return await client.request(
            request.method, request.url.path, params=request.url.query or None, content=content,
            headers=forward_headers(request, **override),
        )  # fmt: skip

    def answer(upstream: httpx.Response, content: bytes | None = None) -> Response:
        headers = {
            k: v for k, v in upstream.headers.items() if k not in _HOP | {"content-encoding"}
        }
        return Response(
            upstream.content if content is None else content, upstream.status_code, headers
        )

    def json_edit(upstream: httpx.Response, edit: Any) -> Response:
        if upstream.status_code != 200:
            return answer(upstream)
        document = upstream.json()
        edit(document)
        return answer(upstream, json.dumps(document).encode())

    async def text_lid(request: Request) -> Response:
        def lower(doc: dict[str, Any]) -> None:
            if doc.get("script_code"):
                doc["script_code"] = doc["script_code"].lower()

        return json_edit(await passthrough(request), lower)

    async def translate(request: Request) -> Response:
        return json_edit(await passthrough(request), lambda doc: doc.update(engine="go"))

    async def speech_to_text(request: Request) -> Response:
        def nudge(doc: dict[str, Any]) -> None:
            ends = (doc.get("timestamps") or {}).get("end_time_seconds") or []
            if ends:
                ends[0] = ends[0] + 1e-9

        return json_edit(await passthrough(request), nudge)

    async def text_to_speech(request: Request) -> Response:
        body = json.loads(await request.body() or b"{}")
        if isinstance(body, dict):
            body["speech_sample_rate"] = 16000  # the planted bug: the asked rate is lost
        return answer(await passthrough(request, json.dumps(body).encode()))

    async def chat(request: Request) -> Response:
        raw = await request.body()
        try:
            streaming = bool(json.loads(raw).get("stream"))
        except (ValueError, AttributeError):
            streaming = False
        if not streaming:
            return answer(await passthrough(request, raw))
        upstream_request = client.build_request(
            "POST", request.url.path, content=raw, headers=forward_headers(request)
        )
        upstream = await client.send(upstream_request, stream=True)

        async def events() -> AsyncIterator[bytes]:
            buffer = b""
            try:
                async for chunk in upstream.aiter_bytes():
                    buffer += chunk
                    while b"\n\n" in buffer:
                        event, buffer = buffer.split(b"\n\n", 1)
                        if b'"usage":{' in event.replace(
                            b" ", b""
                        ) and b'"choices":[]' in event.replace(b" ", b""):
                            continue  # the planted bug: no usage chunk
                        yield event + b"\n\n"
                if buffer:
                    yield buffer
            finally:
                await upstream.aclose()

        headers = {k: v for k, v in upstream.headers.items() if k not in _HOP}
        return StreamingResponse(events(), upstream.status_code, headers)

    async def transliterate(request: Request) -> Response:
        raw = await request.body()
        request_id = request.headers.get("x-request-id", "")
        upstream = await passthrough(request, raw, **{"x-request-id": f"{request_id}.fwd"})
        if upstream.status_code == 200:
            await _bill_more(request, raw, request_id)
        # the answer as if legacy had been asked under the request's own id
        fwd, own = f"{request_id}.fwd".encode(), request_id.encode()
        upstream.headers["x-request-id"] = request_id
        return answer(upstream, upstream.content.replace(fwd, own))

    async def _bill_more(request: Request, raw: bytes, request_id: str) -> None:
        characters = Decimal(len(json.loads(raw)["input"])) * OVERCHARGE
        key = request.headers.get("api-subscription-key") or request.headers.get(
            "authorization", ""
        ).removeprefix("Bearer ")
        headers = {"Authorization": f"Bearer {internal_token}", "X-Request-ID": request_id,
                   "X-Banyan-Shadow": request.headers.get("x-banyan-shadow", "0")}  # fmt: skip
        line = {"unit": "characters", "quantity": str(characters)}
        held = await client.post(
            "/internal/v1/authorize", headers=headers,
            json={"api_key": key, "route": "transliterate", "estimate": line},
        )  # fmt: skip
        held.raise_for_status()
        settle = {"reservation_id": held.json()["reservation_id"], **line}
        (await client.post("/internal/v1/settle", headers=headers, json=settle)).raise_for_status()

    async def models(request: Request) -> Response:
        if _is_slow(request.headers.get("x-request-id", "")):
            await asyncio.sleep(SLOW_S)
        return answer(await passthrough(request))

    async def anything(request: Request) -> Response:
        return answer(await passthrough(request))

    async def tts_socket(socket: WebSocket) -> None:
        await _relay_socket(socket, legacy_url, drop_final=True)

    async def healthz(request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/text-lid", text_lid, methods=["POST"]),
        Route("/translate", translate, methods=["POST"]),
        Route("/speech-to-text", speech_to_text, methods=["POST"]),
        Route("/text-to-speech", text_to_speech, methods=["POST"]),
        Route("/v1/chat/completions", chat, methods=["POST"]),
        Route("/transliterate", transliterate, methods=["POST"]),
        Route("/v1/models", models, methods=["GET"]),
        WebSocketRoute("/text-to-speech/ws", tts_socket),
        Route("/{path:path}", anything, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
    ]
    return _Faults(Starlette(routes=routes))


class _Faults:
    """ASGI middleware planting the fault named by ``X-Planted-Fault`` (see the docstring)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        fault = None
        if scope["type"] == "http":
            fault = dict(scope["headers"]).get(b"x-planted-fault")
        if fault == b"hang":
            await asyncio.sleep(60)
        elif fault == b"crash":
            body = b"Traceback (most recent call last):\n  ...\nZeroDivisionError: division by zero"
            await _send(send, 500, b"text/plain", body)
        elif fault == b"garbage":
            await _send(send, 200, b"application/json", os.urandom(512))
        elif fault == b"reset":
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", b"100")]})  # fmt: skip
            await send({"type": "http.response.body", "body": b'{"partial', "more_body": True})
            raise ConnectionResetError("planted reset")  # uvicorn cuts the connection
        else:
            await self.app(scope, receive, send)


async def _send(send: Any, status: int, content_type: bytes, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type)]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})


async def _relay_socket(socket: WebSocket, legacy_url: str, *, drop_final: bool) -> None:
    """Relay a socket to legacy's, message for message, minus the final event when asked."""
    url = legacy_url.replace("http://", "ws://") + socket.url.path
    if socket.url.query:
        url += "?" + socket.url.query
    keep = {
        "api-subscription-key",
        "authorization",
        "x-request-id",
        "traceparent",
        "x-banyan-shadow",
    }
    headers = [(k, v) for k, v in socket.headers.items() if k in keep]
    protocols = [
        p.strip() for p in socket.headers.get("sec-websocket-protocol", "").split(",") if p.strip()
    ]
    try:
        upstream = await websockets.connect(
            url,
            additional_headers=headers,
            subprotocols=[Subprotocol(p) for p in protocols] or None,
        )
    except websockets.InvalidStatus as exc:
        await socket.close(code=1008)
        del exc
        return
    await socket.accept(subprotocol=upstream.subprotocol)

    async def client_to_legacy() -> None:
        try:
            while True:
                message = await socket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                payload = message.get("text") or message.get("bytes")
                if payload is not None:
                    await upstream.send(payload)
        finally:
            await upstream.close()

    async def legacy_to_client() -> None:
        async for message in upstream:
            if (
                drop_final
                and isinstance(message, str)
                and '"final"' in message
                and '"event"' in message
            ):
                continue  # the planted bug: the completion event is lost
            if isinstance(message, str):
                await socket.send_text(message)
            else:
                await socket.send_bytes(message)
        await socket.close()

    tasks = [asyncio.create_task(client_to_legacy()), asyncio.create_task(legacy_to_client())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    except WebSocketDisconnect:
        pass
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--legacy-url", required=True)
    parser.add_argument("--internal-token", required=True)
    args = parser.parse_args(argv)
    app = build_app(args.legacy_url, args.internal_token)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", ws="websockets-sansio")


if __name__ == "__main__":
    main(sys.argv[1:])

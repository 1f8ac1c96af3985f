"""One WebSocket session replayed against the other side: the client's messages sent again,
with their original pacing, and the server's answer collected (rfcs/0005 §3 "WebSockets").

The live session is over by the time this runs (the proxy's tunnel only copied its bytes, and
``shadow/compare/ws.py`` parsed them into messages). :func:`replay_session` opens a session of
its own with the original handshake headers (hop-by-hop and handshake-specific ones removed;
the caller adds ``X-Banyan-Shadow: 1`` and the request id), sends each client message at its
``at`` seconds after the session opened, and records every server message with its own
``at``. The session ends when the server closes it, when nothing arrived for ``settle_s``
after the last client message was sent, or at ``timeout_s`` (error ``timeout``).

Outcomes as an :class:`shadow.model.Observation`:

- opened: ``status`` 101, the 101's headers, ``messages``; ``latency_s`` from the connect to
  the end, ``ttfb_s`` from the connect to the first server message (``at`` values are
  relative to the open, like the captured ones, so the two sides' timings line up);
- handshake refused with an HTTP status: that status, its headers and body;
- not reachable: error ``connect_error``; a connection dropped without a close frame (or
  during the handshake): ``reset``, with the messages so far; a handshake answer that is not
  HTTP/WebSocket, or a message over ``max_message_bytes``: ``garbage``. With an error set,
  ``status`` is 0 (model.py's rule), ``messages`` still holds what arrived.

Bounded: messages over ``max_message_bytes`` fail the session (the SDK's limit, 1 MiB);
collection stops after ``max_total_bytes`` (the session is ended there, what came is kept:
the proxy's copy of legacy's side is capped at 1 MB anyway). No keep-alive pings are added:
the client's own pings were control frames the capture dropped, and an application ``ping``
message is replayed like any other. Not here: comparing (``compare/ws.py``), scheduling and
concurrency limits (the replayer), parsing captures.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Final

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import (
    ConnectionClosed,
    ConnectionClosedError,
    InvalidHandshake,
    InvalidMessage,
    InvalidStatus,
)
from websockets.typing import Subprotocol

from shadow.model import CandidateErrorKind, Observation, WsMessage

__all__ = ["DROPPED_HEADERS", "replay_session"]

# Headers that belong to one hop or to one handshake: the client library makes its own.
DROPPED_HEADERS: Final = frozenset(
    {
        "host", "connection", "upgrade", "keep-alive", "proxy-connection", "te", "trailer",
        "transfer-encoding", "content-length", "proxy-authorization", "proxy-authenticate",
        "sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions",
        "sec-websocket-protocol", "sec-websocket-accept",
    }
)  # fmt: skip
_CLOSE_TIMEOUT_S: Final = 1.0  # our closing handshake at the end: a stuck peer is cut off
_MESSAGE_TOO_BIG: Final = 1009


async def replay_session(
    url: str,
    headers: Sequence[tuple[str, str]],
    subprotocols: Sequence[str],
    messages: Sequence[WsMessage],
    *,
    timeout_s: float,
    settle_s: float = 1.0,
    max_message_bytes: int = 1 << 20,
    max_total_bytes: int = 8 << 20,
) -> Observation:
    """Replay ``messages`` (the client's, in order) on a new session to ``url``; never raises
    for anything the other side does. The caller owns the concurrency limit; this owns and
    closes its connection, and takes at most ``timeout_s`` plus a 1 s closing handshake."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = started + timeout_s
    opened_after = 0.0  # connect to open, once open

    def failed(error: CandidateErrorKind, received: Sequence[WsMessage] = ()) -> Observation:
        return Observation(
            0, (), b"", loop.time() - started, _ttfb(received, opened_after), error, tuple(received)
        )

    try:
        async with asyncio.timeout_at(deadline):
            websocket = await connect(
                url,
                additional_headers=[(k, v) for k, v in headers if k.lower() not in DROPPED_HEADERS],
                subprotocols=[Subprotocol(name) for name in subprotocols] or None,
                user_agent_header=None,  # the client's own User-Agent, if any, is in headers
                proxy=None,  # loopback to the service, never an environment proxy
                open_timeout=None,  # the deadline above covers it
                ping_interval=None,
                ping_timeout=None,
                close_timeout=_CLOSE_TIMEOUT_S,
                max_size=max_message_bytes,
            )
    except TimeoutError:
        return failed("timeout")
    except InvalidStatus as exc:
        response = exc.response
        return Observation(
            response.status_code,
            _raw_headers(response.headers.raw_items()),
            bytes(response.body or b""),
            loop.time() - started,
        )
    except InvalidMessage:
        return failed("reset")  # the peer hung up (or talked nonsense) before answering
    except InvalidHandshake:
        return failed("garbage")
    except OSError:
        return failed("connect_error")
    opened_after = loop.time() - started
    received: list[WsMessage] = []
    try:
        async with asyncio.timeout_at(deadline):
            error = await _converse(websocket, messages, received, settle_s, max_total_bytes)
    except TimeoutError:
        error = "timeout"
    finished = loop.time()
    await websocket.close()
    if error is not None:
        return failed(error, received)
    return Observation(
        101,
        _raw_headers(websocket.response.headers.raw_items()) if websocket.response else (),
        b"",
        finished - started,
        _ttfb(received, opened_after),
        None,
        tuple(received),
    )


async def _converse(
    websocket: ClientConnection,
    messages: Sequence[WsMessage],
    received: list[WsMessage],
    settle_s: float,
    max_total_bytes: int,
) -> CandidateErrorKind | None:
    """Send on schedule while receiving; return when the session is over (module docstring)."""
    loop = asyncio.get_running_loop()
    opened = loop.time()
    arrived = asyncio.Event()

    async def receive() -> CandidateErrorKind | None:
        total = 0
        try:
            async for message in websocket:
                at = loop.time() - opened
                if isinstance(message, str):
                    received.append(WsMessage(at=at, text=message))
                    total += len(message)
                else:
                    received.append(WsMessage(at=at, data=message))
                    total += len(message)
                arrived.set()
                if total >= max_total_bytes:
                    return None  # enough to compare: the caller's close ends the session
        except ConnectionClosedError as exc:
            if exc.sent is not None and exc.sent.code == _MESSAGE_TOO_BIG:
                return "garbage"
            if exc.rcvd is None:
                return "reset"
        return None

    async def send() -> None:
        for message in messages:
            delay = opened + message.at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            await websocket.send(message.text if message.text is not None else message.data or b"")

    receiver = asyncio.create_task(receive())
    sender = asyncio.create_task(send())
    try:
        await asyncio.wait({receiver, sender}, return_when=asyncio.FIRST_COMPLETED)
        if sender.done() and not sender.cancelled() and sender.exception() is None:
            while not receiver.done():  # wait for a quiet settle_s
                arrived.clear()
                waiter = asyncio.create_task(arrived.wait())
                done, _ = await asyncio.wait(
                    {receiver, waiter}, timeout=settle_s, return_when=asyncio.FIRST_COMPLETED
                )
                waiter.cancel()
                if not done:
                    return None
        elif sender.done():  # sending failed: the connection is going; the receiver says how
            exception = sender.exception()
            if exception is not None and not isinstance(exception, ConnectionClosed):
                raise exception
        return await receiver
    finally:
        for task in (sender, receiver):
            task.cancel()
        await asyncio.gather(sender, receiver, return_exceptions=True)


def _ttfb(received: Sequence[WsMessage], opened_after: float) -> float | None:
    return opened_after + received[0].at if received else None


def _raw_headers(items: Iterable[tuple[str, str]]) -> tuple[tuple[bytes, bytes], ...]:
    return tuple(
        (name.lower().encode("latin-1", "replace"), value.encode("latin-1", "replace"))
        for name, value in items
    )

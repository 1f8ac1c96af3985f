"""The replayer: one mirror record in, one :class:`~shadow.model.Trial` out (rfcs/0005 §3, §5).

The side that served the customer is described by the proxy's record (status, headers, body;
latency and time to first body byte from the proxy's timestamps). The *other* side (the
candidate in shadow/canary mode, legacy in reverse shadow) is called now, with the record's
end-to-end request headers and its body byte for byte, marked ``X-Banyan-Shadow: 1`` and
carrying the same ``X-Request-ID`` and ``traceparent``. The response is read whole, raw (no
content decoding: the record's body is raw too), timing the first body byte and the last.

Bounds: a per-route semaphore (``shadow.concurrency``) and one deadline for the whole exchange
(``shadow.timeout_ms``). A side that hangs, refuses connections or cuts its answer gives an
:class:`Observation` with ``error`` (``timeout``, ``connect_error``, ``reset``): evidence, not
silence; ``timeout`` and ``connect_error`` are also counted in
``banyan_shadow_dropped_total``. A request this process could not send at all (an unknown
upstream, an upstream URL that is not plain ``http://host:port``) is a drop, ``replay_error``,
and :meth:`Replayer.run` returns None; such drops are also handed to ``on_drop`` (the engine
records them as skipped). For a ``shadow.noise_sample`` share of records legacy is also called
again under ``<id>.noise`` (the noise learner's control-vs-control pair); a failed noise call
is dropped, ``noise_failed``.

WebSocket records are handed to an injected :class:`WsReplay` (the frame parser and session
client live elsewhere); without one they are dropped, ``ws_unsupported``. What this module
deliberately doesn't do: compare, store, or decide anything from the answers.
"""

from __future__ import annotations

import asyncio
import hashlib
import random as random_module
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Final, Protocol

from banyan.contract import MAX_REQUEST_ID, REQUEST_ID_B, SHADOW_B, TRACEPARENT_B
from banyan.logs import get_logger
from proxy._types import Side
from proxy.config import RouteConfig
from proxy.headers import Headers, end_to_end
from proxy.mirror import MirrorRecord
from shadow.metrics import Counters
from shadow.model import Observation, Trial
from shadow.replay_client import ReplayClient, ReplayFailure

__all__ = ["Replayer", "WsReplay", "noise_request_id", "replay_headers", "served_observation"]

_log = get_logger(__name__)
NOISE_SUFFIX: Final = b".noise"


def noise_request_id(request_id: bytes) -> bytes:
    """The id of the noise sampler's second legacy call: ``<id>.noise``, kept apart from the
    request's own in every ledger (rfcs/0005 §5). A service replaces an id over
    ``MAX_REQUEST_ID`` characters with a random one, which would lose the call's ledger row
    and make an echoed id look like noise; so a long id is shortened to its SHA-256 first."""
    derived = request_id + NOISE_SUFFIX
    if len(derived) <= MAX_REQUEST_ID:
        return derived
    return hashlib.sha256(request_id).hexdigest().encode() + NOISE_SUFFIX


# A replayed answer is read up to the route's body cap (the served one fit in it, or it would
# not have been mirrored), but never less than this.
_MIN_BODY_CAP: Final = 1024 * 1024
# How long past its own deadline a WebSocket replayer may take before the session is abandoned
# (a replayer that reports its own timeout gives evidence; one that does not is a drop).
_WS_GUARD_S: Final = 5.0
# Handshake fields a WebSocket client makes itself for its own session.
_WS_OWN_FIELDS: Final = frozenset(
    {
        b"host",
        b"sec-websocket-key",
        b"sec-websocket-version",
        b"sec-websocket-extensions",
        b"sec-websocket-protocol",
    }
)


class WsReplay(Protocol):
    """Replays a mirrored WebSocket session: parse the record's two byte streams, open a session
    to ``url`` with ``headers`` (shadow-marked; the client adds its own Host, key, version and
    extensions) offering ``subprotocols``, send the client's messages with their original
    pacing, and return ``(served side's observation, replayed side's observation)``. Faults of
    the replayed side, a session still unfinished after ``timeout_s`` among them, are its
    observation's ``error``; the caller also guards the whole call, a little later."""

    async def __call__(
        self, url: str, headers: Sequence[tuple[bytes, bytes]], subprotocols: Sequence[str],
        record: MirrorRecord, *, timeout_s: float,
    ) -> tuple[Observation, Observation]: ...  # fmt: skip


def served_observation(record: MirrorRecord) -> Observation:
    """The served side's answer as the proxy relayed it; times from the proxy's clock."""
    return Observation(
        status=record.status,
        headers=tuple(record.response_headers),
        body=record.response_body,
        latency_s=record.finished_at - record.started_at,
        ttfb_s=record.first_body_at - record.started_at,
    )


def replay_headers(record: MirrorRecord, request_id: bytes) -> Headers:
    """The record's end-to-end request fields (hop-by-hop, Content-Length and the contract
    fields removed), plus the shadow mark, ``request_id`` and the record's ``traceparent``."""
    fields = end_to_end(list(record.request_headers))
    fields += [(SHADOW_B, b"1"), (REQUEST_ID_B, request_id), (TRACEPARENT_B, record.traceparent)]
    return fields


class _Unsendable(Exception):
    """This process could not make the request at all (not the other side's fault)."""


class Replayer:
    """Replays records to the side that did not serve them, over its own
    :class:`~shadow.replay_client.ReplayClient` (keep-alive pools per upstream); close with
    :meth:`aclose` (or use as an async context manager).

    ``upstream_urls`` maps upstream names (``route.candidate``/``route.legacy``) to base URLs.
    ``random`` draws the noise sample."""

    def __init__(
        self,
        upstream_urls: Mapping[str, str],
        counters: Counters,
        *,
        random: Callable[[], float] = random_module.random,
        ws_replay: WsReplay | None = None,
        on_drop: Callable[[MirrorRecord, str], None] | None = None,
    ) -> None:
        self._urls = {name: url.rstrip("/") for name, url in upstream_urls.items()}
        self._counters = counters
        self._random = random
        self._ws_replay = ws_replay
        self._on_drop = on_drop
        self._client = ReplayClient()
        self._semaphores: dict[str, tuple[int, asyncio.Semaphore]] = {}

    async def aclose(self) -> None:
        self._client.close()

    async def __aenter__(self) -> Replayer:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:  # fmt: skip
        await self.aclose()

    async def run(self, record: MirrorRecord, route: RouteConfig) -> Trial | None:
        """Replay ``record`` to ``route``'s other side; None when it was dropped (counted)."""
        other = route.candidate if record.mirror_to == "candidate" else route.legacy
        base = self._urls.get(other)
        if base is None:
            _log.error("no URL for upstream; cannot replay", upstream=other, route=route.name)
            self._drop(record, "replay_error")
            return None
        async with self._semaphore(route):
            if record.is_websocket:
                return await self._run_ws(record, route, base)
            return await self._run_http(record, route, base)

    async def _run_http(self, record: MirrorRecord, route: RouteConfig, base: str) -> Trial | None:
        timeout = route.shadow.timeout_ms / 1000
        cap = max(route.shadow.max_body_bytes, _MIN_BODY_CAP)
        replay = self._call(base, record, record.request_id, timeout, cap)
        legacy_base = self._urls.get(route.legacy)
        noise_task: asyncio.Task[Observation] | None = None
        if legacy_base is not None and self._random() < route.shadow.noise_sample:
            noise_id = noise_request_id(record.request_id)
            noise_task = asyncio.create_task(
                self._call(legacy_base, record, noise_id, timeout, cap)
            )
        try:
            replayed = await replay
            noise = await self._noise(record, noise_task)
        except _Unsendable:
            self._drop(record, "replay_error")
            return None
        finally:
            if noise_task is not None:
                noise_task.cancel()  # a no-op once it is done; else nobody will await it
        if replayed.error in ("timeout", "connect_error"):
            self._count(record, replayed.error)
        return self._trial(record, replayed, noise)

    async def _noise(
        self, record: MirrorRecord, task: asyncio.Task[Observation] | None
    ) -> Observation | None:
        if task is None:
            return None
        try:
            noise = await task
        except _Unsendable:
            noise = None
        if noise is None or noise.error is not None:
            self._count(record, "noise_failed")
            return None
        return noise

    async def _call(
        self, base: str, record: MirrorRecord, request_id: bytes, deadline_s: float, cap: int
    ) -> Observation:
        loop = asyncio.get_running_loop()
        headers = replay_headers(record, request_id)
        started = loop.time()
        try:
            async with asyncio.timeout(deadline_s):
                answer = await self._client.send(
                    base, record.method, record.target, headers, record.request_body, cap=cap
                )
        except TimeoutError:
            return Observation(0, (), b"", loop.time() - started, None, error="timeout")
        except ReplayFailure as failure:
            got = failure.partial
            return Observation(
                0, got.headers if got else (), got.body if got else b"",
                loop.time() - started, _since(started, got.first_body_at if got else None),
                error=failure.kind,
            )  # fmt: skip
        except ValueError as exc:  # an upstream URL this client cannot use
            raise _Unsendable(str(exc)) from exc
        latency = loop.time() - started
        ttfb = _since(started, answer.first_body_at)
        return Observation(answer.status, answer.headers, answer.body, latency,
                           latency if ttfb is None else ttfb)  # fmt: skip

    async def _run_ws(self, record: MirrorRecord, route: RouteConfig, base: str) -> Trial | None:
        if self._ws_replay is None:
            self._drop(record, "ws_unsupported")
            return None
        url = "ws" + base[4:] if base.startswith("http") else base
        headers = [(k, v) for k, v in replay_headers(record, record.request_id)
                   if k not in _WS_OWN_FIELDS]  # fmt: skip
        subprotocols = [
            token.strip().decode("latin-1")
            for name, value in record.request_headers
            if name == b"sec-websocket-protocol"
            for token in value.split(b",")
            if token.strip()
        ]
        # The replay keeps the session's pacing, so the deadline grows with the session.
        pacing = max((at for at, _ in record.ws_client or ()), default=0.0)
        deadline = route.shadow.timeout_ms / 1000 + pacing
        try:
            async with asyncio.timeout(deadline + _WS_GUARD_S):
                served, replayed = await self._ws_replay(
                    url + record.target.decode("latin-1"),
                    headers,
                    subprotocols,
                    record,
                    timeout_s=deadline,
                )
        except TimeoutError:
            self._drop(record, "timeout")
            return None
        except Exception:  # the boundary to a pluggable replayer: log, count, carry on
            _log.exception("websocket replay failed", route=route.name)
            self._drop(record, "replay_error")
            return None
        if replayed.error in ("timeout", "connect_error"):
            self._count(record, replayed.error)
        return self._trial(record, replayed, None, served=served)

    def _trial(
        self,
        record: MirrorRecord,
        replayed: Observation,
        noise: Observation | None,
        *,
        served: Observation | None = None,
    ) -> Trial:
        served = served or served_observation(record)
        by_side: dict[Side, Observation] = {record.served_by: served, record.mirror_to: replayed}
        return Trial(
            request_id=record.request_id.decode("latin-1"),
            route=record.route,
            method=record.method.decode("latin-1"),
            target=record.target.decode("latin-1"),
            served_by=record.served_by,
            request_headers=tuple(record.request_headers),
            request_body=record.request_body,
            legacy=by_side["legacy"],
            candidate=by_side["candidate"],
            noise=noise,
        )

    def _semaphore(self, route: RouteConfig) -> asyncio.Semaphore:
        """The route's concurrency limit; a live change of ``shadow.concurrency`` gets a fresh
        semaphore (replays holding the old one finish under it)."""
        limit = route.shadow.concurrency
        held = self._semaphores.get(route.name)
        if held is None or held[0] != limit:
            held = (limit, asyncio.Semaphore(limit))
            self._semaphores[route.name] = held
        return held[1]

    def _count(self, record: MirrorRecord, reason: str) -> None:
        self._counters.inc("banyan_shadow_dropped_total", record.route, reason)

    def _drop(self, record: MirrorRecord, reason: str) -> None:
        """Counted, and reported to ``on_drop`` (the engine stores it as skipped)."""
        self._count(record, reason)
        if self._on_drop is not None:
            self._on_drop(record, reason)


def _since(started: float, at: float | None) -> float | None:
    return None if at is None else at - started

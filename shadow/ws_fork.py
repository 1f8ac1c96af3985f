"""A mirrored WebSocket session, forked: the live session's bytes read back into messages, and
the client's messages replayed, with their pacing, on a session of the other side's own.

This is the :class:`~shadow.replay.WsReplay` the engine plugs into the replayer. The live
session was never touched: the proxy copied its bytes (rfcs/0005 §3); here they are parsed
(:func:`~shadow.compare.ws.parse_frames`) and the client's half is sent again
(:func:`~shadow.ws_replay.replay_session`).
"""

from __future__ import annotations

from collections.abc import Sequence

from proxy.headers import first
from proxy.mirror import MirrorRecord
from shadow.compare.ws import parse_frames
from shadow.model import Observation
from shadow.ws_replay import replay_session

__all__ = ["fork_session"]


async def fork_session(
    url: str, headers: Sequence[tuple[bytes, bytes]], subprotocols: Sequence[str],
    record: MirrorRecord, *, timeout_s: float,
) -> tuple[Observation, Observation]:  # fmt: skip
    extensions = first(record.response_headers, b"sec-websocket-extensions")
    ext = extensions.decode("latin-1") if extensions else None
    client = parse_frames(record.ws_client or (), from_client=True, extensions=ext)
    server = parse_frames(record.ws_server or (), from_client=False, extensions=ext)
    served = Observation(
        status=record.status,
        headers=tuple(record.response_headers),
        body=b"",
        latency_s=record.finished_at - record.started_at,
        ttfb_s=server.messages[0].at if server.messages else None,
        messages=server.messages,
    )
    replayed = await replay_session(
        url,
        [(name.decode("latin-1"), value.decode("latin-1")) for name, value in headers],
        subprotocols,
        client.messages,
        timeout_s=timeout_s,
    )
    return served, replayed

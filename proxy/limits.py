"""The bounds of the forwarding core: sizes and timeouts, one frozen object.

Every buffer has a bound and every wait a timeout (STYLE house rule 6); they are all here so
a reader can see at a glance what the proxy will tolerate.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Limits"]


@dataclass(frozen=True, slots=True)
class Limits:
    # Request line plus headers; beyond it the client gets 431.
    max_header_bytes: int = 32 * 1024
    # A request body beyond it gets 413 (uploads are streamed, this guards the upstreams).
    max_request_body: int = 64 * 1024 * 1024
    # Buffered bytes at which reading from the other side pauses.
    high_water: int = 64 * 1024
    # A request body up to this size is kept so a request on a stale pooled connection can be
    # retried once on a fresh one.
    replay_bytes: int = 64 * 1024
    connect_timeout: float = 5.0
    # From the request being sent to the response head arriving (model calls can be slow).
    response_timeout: float = 120.0
    # Longest silence inside a response body (an SSE stream between events).
    idle_timeout: float = 120.0
    # An idle client keep-alive connection is closed after this.
    keepalive_timeout: float = 15.0
    # Once a request's first byte has arrived, its whole head must within this, or the client
    # gets 408 and the connection closes (Go's ReadHeaderTimeout: a client that starts a head
    # and stops would otherwise hold the connection forever).
    head_timeout: float = 10.0

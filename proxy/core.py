"""What every connection of one proxy process shares, passed in rather than global.

The route table is swapped whole on a live flip (house rule 14): readers take
``core.table`` once per request, so a request sees one table from start to finish.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Mapping
from typing import Protocol

from proxy.limits import Limits
from proxy.metrics import Counters
from proxy.mirror import MirrorQueue
from proxy.routing import RouteTable
from proxy.upstream import UpstreamPool

__all__ = ["ClientConnection", "ProxyCore"]


class ClientConnection(Protocol):
    """What shutdown needs of an open client connection (``inbound.InboundProtocol``)."""

    def close_if_idle(self) -> None: ...
    def abort(self) -> None: ...


class ProxyCore:
    def __init__(
        self,
        *,
        table: RouteTable,
        pools: Mapping[str, UpstreamPool],
        limits: Limits | None = None,
        mirror_queue_size: int = 1024,
        counters: Counters | None = None,
        random_source: Callable[[], float] = random.random,
    ) -> None:
        self.table = table
        self.pools = pools
        self.limits = limits or Limits()
        self.counters = counters or Counters()
        self.mirror = MirrorQueue(mirror_queue_size, self.counters)
        self.random = random_source
        self.tasks: set[asyncio.Task[None]] = set()
        # Open client connections (InboundProtocol), so shutdown can close the idle ones.
        self.connections: set[ClientConnection] = set()

    def swap_table(self, table: RouteTable) -> None:
        self.table = table

    def track(self, task: asyncio.Task[None]) -> None:
        """Keep a reference until the task ends, so shutdown can wait for every exchange."""
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def aclose(self, grace: float = 10.0) -> None:
        if self.tasks:
            _, pending = await asyncio.wait(self.tasks, timeout=grace)
            for task in pending:
                task.cancel()
        for pool in self.pools.values():
            pool.close()

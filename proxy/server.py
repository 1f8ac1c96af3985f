"""Running the forwarding core: build the shared state from a config, listen, shut down.

A proxy process is one uvloop event loop with one listening socket (``SO_REUSEPORT`` lets
several processes share a port; ``--workers`` uses that). Shutdown stops accepting, lets
in-flight exchanges finish within a grace period, then cancels what is left (house rule 14).
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass

from proxy.config import ProxyConfig
from proxy.core import ProxyCore
from proxy.inbound import InboundProtocol
from proxy.limits import Limits
from proxy.routing import RouteTable
from proxy.upstream import UpstreamPool

__all__ = ["ProxyServer", "build_core"]


def build_core(config: ProxyConfig, *, limits: Limits | None = None) -> ProxyCore:
    limits = limits or Limits()
    pools = {
        name: UpstreamPool(upstream, connect_timeout=limits.connect_timeout)
        for name, upstream in config.upstreams.items()
    }
    return ProxyCore(table=RouteTable.from_config(config), pools=pools, limits=limits)


@dataclass
class ProxyServer:
    """A listening proxy. ``port`` is the bound port (useful when 0 was asked for)."""

    core: ProxyCore
    server: asyncio.Server
    port: int

    @classmethod
    async def start(
        cls, core: ProxyCore, host: str = "127.0.0.1", port: int = 0, *, reuse_port: bool = False
    ) -> ProxyServer:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: InboundProtocol(core), host, port, reuse_port=reuse_port, backlog=2048
        )
        sock: socket.socket = server.sockets[0]
        return cls(core=core, server=server, port=sock.getsockname()[1])

    async def aclose(self, grace: float = 10.0) -> None:
        """Stop accepting, close idle connections, let exchanges finish, then cut the rest."""
        self.server.close()
        for connection in list(self.core.connections):
            connection.close_if_idle()
        await self.core.aclose(grace)
        for connection in list(self.core.connections):
            connection.abort()

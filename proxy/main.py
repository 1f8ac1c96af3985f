"""One proxy process: the forwarding core on the public port, the admin API on its own.

uvicorn serves the admin app and owns the process lifecycle (signals, graceful shutdown); the
public listener is started in the admin app's lifespan and drained in its shutdown, so one
SIGTERM stops both in the right order: stop accepting, finish in-flight exchanges, close.
Both run on the same uvloop event loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI

from banyan.logs import get_logger
from proxy.admin import create_admin_app
from proxy.config import ProxyConfig
from proxy.limits import Limits
from proxy.server import ProxyServer, build_core

__all__ = ["run_proxy"]

_log = get_logger(__name__)


def run_proxy(
    config: ProxyConfig,
    *,
    host: str,
    port: int,
    admin_host: str,
    admin_port: int,
    admin_token: str,
    limits: Limits | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM. Blocks."""
    core = build_core(config, limits=limits)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        server = await ProxyServer.start(core, host, port)
        _log.info(
            "proxy listening",
            url=f"http://{host}:{server.port}",
            fleet=config.fleet,
            routes=len(config.routes),
        )
        try:
            yield
        finally:
            await server.aclose(grace=10.0)
            _log.info("proxy stopped")

    app = create_admin_app(core, token=admin_token, lifespan=lifespan)
    uvicorn.run(
        app, host=admin_host, port=admin_port, loop="uvloop", log_config=None, access_log=False
    )

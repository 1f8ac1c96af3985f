"""A real uvicorn for an app built in the test (WebSockets need a listening port, and such
tests reach into the app: test routes, state)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import uvicorn
from fastapi import FastAPI

from banyan.launcher import claim_port


@contextlib.asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[int]:
    """Serve ``app`` in this event loop until the block ends; yields the port."""
    port = claim_port("test", "127.0.0.1", 0, hint="")
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, ws="websockets-sansio", log_config=None, lifespan="on",
        timeout_graceful_shutdown=5,  # a socket a failed test left open must not hang teardown
    )  # fmt: skip
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
        await asyncio.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        await task

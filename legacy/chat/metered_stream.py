"""An SSE response that bills what it delivered, however the stream ends.

Starlette's ``StreamingResponse`` stops a body iterator on disconnect by cancelling it where it
happens to be, and leaves an unfinished generator to the garbage collector — too loose for
money. This response sends each frame, counts a frame's tokens once ``send`` returned, watches
for ``http.disconnect`` meanwhile, and in every case (finished, client gone, cancelled) closes
the frame source and then calls ``finish(delivered_tokens)`` exactly once, shielded from
cancellation, so the settlement always runs to the end (rfcs/0004 §8; issue 5: "a stream cut
short still bills exactly what was produced").
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping

import anyio
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from legacy.chat.chunks import Frame

__all__ = ["MeteredEventStream"]


class MeteredEventStream(Response):
    media_type = "text/event-stream"

    def __init__(
        self,
        frames: AsyncGenerator[Frame, None],
        finish: Callable[[int], Awaitable[None]],
        headers: Mapping[str, str] | None = None,
    ) -> None:
        # Not Response.__init__: it would declare a Content-Length of the (empty) body.
        self.status_code = 200
        self.background = None
        self.init_headers({"cache-control": "no-cache", **(headers or {})})
        self.frames = frames
        self.finish = finish

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        delivered = 0
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            async with anyio.create_task_group() as group:
                group.start_soon(_cancel_on_disconnect, receive, group.cancel_scope)
                async for frame in self.frames:
                    await send({"type": "http.response.body", "body": frame.data,
                                "more_body": True})  # fmt: skip
                    delivered += frame.tokens
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                group.cancel_scope.cancel()
        except OSError:
            pass  # the client's socket broke while we wrote: it got what it got
        finally:
            with anyio.CancelScope(shield=True):
                try:
                    await self.frames.aclose()
                finally:
                    await self.finish(delivered)


async def _cancel_on_disconnect(receive: Receive, scope: anyio.CancelScope) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            scope.cancel()
            return

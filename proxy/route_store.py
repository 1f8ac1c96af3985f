"""Live route states in Redis, shared by every proxy instance of a fleet.

Keys are namespaced by fleet, so a staging and a production fleet can share one Redis::

    banyan:{fleet}:routes    HASH  route name -> RouteState JSON
    banyan:{fleet}:version   INT   bumped by every change
    banyan:{fleet}:changes   pub/sub channel; the message is the new version

A change is one MULTI (HSET, INCR) followed by PUBLISH. Readers reload the whole hash on a
message or a reconnect — a few dozen small fields — so a message lost while disconnected can
never leave an instance behind. This module only moves bytes; whoever calls it decides what a
change may be (``route_state.py``) and records it (``audit.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from redis.asyncio import Redis

from proxy.route_state import RouteState

__all__ = ["RouteStore"]


class RouteStore:
    def __init__(self, redis: Redis, fleet: str) -> None:
        self.redis = redis
        self.fleet = fleet
        prefix = f"banyan:{fleet}"
        self.routes_key = f"{prefix}:routes"
        self.version_key = f"{prefix}:version"
        self.channel = f"{prefix}:changes"

    async def load(self) -> tuple[int, dict[str, RouteState]]:
        """The current version and every stored state (unreadable entries are skipped)."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.get(self.version_key)
            pipe.hgetall(self.routes_key)
            version, raw = await pipe.execute()
        states: dict[str, RouteState] = {}
        for name, value in raw.items():
            try:
                states[name.decode()] = RouteState.from_json(value)
            except (ValueError, KeyError, TypeError):
                continue  # written by a newer or broken writer; the baseline stands
        return int(version or 0), states

    async def get(self, name: str) -> RouteState | None:
        raw = await self.redis.hget(self.routes_key, name)
        return RouteState.from_json(raw) if raw is not None else None

    async def put(self, name: str, state: RouteState) -> int:
        """Store a state, bump the version, tell every instance. Returns the new version."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.routes_key, name, state.to_json())
            pipe.incr(self.version_key)
            _, version = await pipe.execute()
        await self.redis.publish(self.channel, str(version))
        return int(version)

    async def changes(self) -> AsyncIterator[int]:
        """Versions announced on the channel, from subscription on. Raises on disconnect;
        the caller reconnects and reloads."""
        pubsub = self.redis.pubsub()
        try:
            await pubsub.subscribe(self.channel)
            yield 0  # subscribed: the caller reloads now, so nothing between is missed
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    yield int(message["data"])
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call,unused-ignore]  # untyped before redis 8.2

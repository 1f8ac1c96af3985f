from __future__ import annotations

import pytest
from redis.asyncio import Redis

from banyan.launcher import EmbeddedRedis

pytestmark = pytest.mark.anyio


async def test_ephemeral_server_starts_and_stops_cleanly(tmp_path) -> None:
    server = EmbeddedRedis(data_dir=None, log_path=tmp_path / "redis.log")
    await server.start()
    try:
        client = Redis.from_url(server.url())
        assert await client.set("k", "v")
        assert (await client.info("server"))["valkey_version"].startswith("9.")
        await client.aclose()
    finally:
        await server.stop()
    assert server.child.returncode() == 0
    assert not server.data_dir.exists()


async def test_persistent_server_keeps_keys_across_restarts(tmp_path) -> None:
    for expected in (None, b"kept"):
        server = EmbeddedRedis(data_dir=tmp_path / "redis", log_path=tmp_path / "redis.log")
        await server.start()
        try:
            client = Redis.from_url(server.url())
            assert await client.get("route:translate") == expected
            await client.set("route:translate", "kept")
            await client.aclose()
        finally:
            await server.stop()

"""`banyan proxy --workers 2`: one port, several processes, one admin listener."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import httpx
import psutil
import pytest

from banyan.launcher import ChildProcess, ProcessSpec, claim_port, http_probe, wait_until_ready
from proxy.workers import sum_prometheus

pytestmark = pytest.mark.anyio
TOKEN = "workers-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_counters_are_summed_series_by_series() -> None:
    one = '# HELP c things\n# TYPE c counter\nc{a="x"} 2\nc{a="y"} 1\n'
    two = '# HELP c things\n# TYPE c counter\nc{a="x"} 3\nc{a="z"} 5\n'
    assert sum_prometheus([one, two]) == (
        '# HELP c things\n# TYPE c counter\nc{a="x"} 5\nc{a="y"} 1\nc{a="z"} 5\n'
    )
    assert sum_prometheus([]) == "\n"


async def test_workers_share_the_port_survive_a_crash_and_stop_together(tmp_path, make_lab) -> None:
    lab = await make_lab()
    config = tmp_path / "banyan.yaml"
    config.write_text(
        f"upstreams:\n  legacy: {{url: {lab.legacy.url}}}\n"
        f"  candidate: {{url: {lab.candidate.url}}}\n"
        "routes:\n  - {name: r, match: {path: /echo}, mode: legacy}\n"
    )
    port, admin = (claim_port("t", "127.0.0.1", 0, hint="") for _ in range(2))
    argv = [
        sys.executable, "-m", "banyan", "proxy", "--workers", "2", "--config", str(config),
        "--port", str(port), "--admin-port", str(admin), "--state-dir", str(tmp_path),
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    supervisor = ChildProcess(
        ProcessSpec("proxy", argv, tmp_path / "proxy.log", env={**env, "BANYAN_ADMIN_TOKEN": TOKEN})
    )
    supervisor.start()
    admin_url = f"http://127.0.0.1:{admin}"
    try:
        await wait_until_ready(supervisor, http_probe(f"{admin_url}/healthz"), within=60)
        async with httpx.AsyncClient(timeout=10) as client:
            workers = (await client.get(f"{admin_url}/workers", headers=AUTH)).json()["workers"]
            assert [w["alive"] for w in workers] == [True, True]
            for i in range(40):  # a new connection each time: the kernel spreads them
                async with httpx.AsyncClient() as fresh:
                    assert (
                        await fresh.get(f"http://127.0.0.1:{port}/echo?i={i}")
                    ).status_code == 200
            metrics = (await client.get(f"{admin_url}/metrics", headers=AUTH)).text
            assert (
                'banyan_proxy_requests_total{route="r",served_by="legacy",status="200"} 40'
                in metrics
            )
            routes = await client.get(f"{admin_url}/routes", headers=AUTH)
            assert routes.json()["routes"][0]["name"] == "r"
            assert (await client.get(f"{admin_url}/routes")).status_code == 401

            os.kill(workers[0]["pid"], signal.SIGKILL)
            for _ in range(100):
                listing = (await client.get(f"{admin_url}/workers", headers=AUTH)).json()["workers"]
                if listing[0]["alive"] and listing[0]["pid"] != workers[0]["pid"]:
                    break
                await asyncio.sleep(0.05)
            assert listing[0]["restarts"] == 1
            await wait_until_ready(supervisor, http_probe(f"{admin_url}/healthz"), within=30)
            for _ in range(10):
                async with httpx.AsyncClient() as fresh:
                    assert (await fresh.get(f"http://127.0.0.1:{port}/echo")).status_code == 200
        pids = [w["pid"] for w in listing]
    finally:
        await supervisor.stop(grace=20)
    for pid in pids:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE

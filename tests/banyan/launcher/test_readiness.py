from __future__ import annotations

import socket
import sys

import pytest

from banyan.launcher import ChildProcess, PortInUseError, ProcessSpec, ServerStartError, claim_port
from banyan.launcher.readiness import wait_until_ready

pytestmark = pytest.mark.anyio


def child(tmp_path, code: str) -> ChildProcess:
    c = ChildProcess(
        ProcessSpec(name="svc", argv=[sys.executable, "-c", code], log_path=tmp_path / "svc.log")
    )
    c.start()
    return c


async def test_a_child_that_exits_fails_fast_with_its_log_tail(tmp_path) -> None:
    c = child(tmp_path, "import sys; print('cannot bind: address in use', flush=True); sys.exit(2)")

    async def never() -> bool:
        return False

    with pytest.raises(ServerStartError, match="exited with code 2") as info:
        await wait_until_ready(c, never, within=30)
    assert "cannot bind" in str(info.value)


async def test_not_ready_in_time_says_so(tmp_path) -> None:
    c = child(tmp_path, "import time; time.sleep(30)")

    async def never() -> bool:
        raise ConnectionRefusedError

    try:
        with pytest.raises(ServerStartError, match="not ready after"):
            await wait_until_ready(c, never, within=0.3)
    finally:
        await c.stop(grace=1)


async def test_ready_when_the_probe_succeeds(tmp_path) -> None:
    c = child(tmp_path, "import time; time.sleep(30)")
    calls = []

    async def third_time() -> bool:
        calls.append(1)
        return len(calls) >= 3

    try:
        await wait_until_ready(c, third_time, within=10, interval=0.01)
    finally:
        await c.stop(grace=1)
    assert len(calls) == 3


def test_claim_port_zero_picks_a_free_port() -> None:
    port = claim_port("svc", "127.0.0.1", 0, hint="")
    assert 0 < port < 65536


def test_claim_busy_port_names_it_and_says_what_to_do() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(
            PortInUseError, match=rf"svc: 127\.0\.0\.1:{port} is already in use; set X"
        ):
            claim_port("svc", "127.0.0.1", port, hint="set X")

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil
import pytest

from banyan.launcher import ChildProcess, ProcessSpec

pytestmark = pytest.mark.anyio

IGNORES_SIGTERM = textwrap.dedent("""
    import signal, sys, time
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print("ready", flush=True)
    time.sleep(60)
""")


def python_child(tmp_path, code: str, **kwargs) -> ChildProcess:
    return ChildProcess(
        ProcessSpec(
            name="child",
            argv=[sys.executable, "-c", code],
            log_path=tmp_path / "child.log",
            **kwargs,
        )
    )


def wait_for(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def is_gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


AS_ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="switching user needs root")


@pytest.mark.parametrize("user", [None, pytest.param("nobody", marks=AS_ROOT_ONLY)])
def test_child_dies_when_its_parent_is_killed(tmp_path, user) -> None:
    # PDEATHSIG is cleared by a credential change, so the run-as-nobody case is the one that
    # proves the setting is made after the switch.
    parent_code = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from banyan.launcher import ChildProcess, ProcessSpec
        child = ChildProcess(ProcessSpec(name="sleeper", argv=["sleep", "60"], user={user!r},
                                         log_path=Path({str(tmp_path)!r}) / "s.log"))
        child.start()
        print(child.pid, flush=True)
        time.sleep(60)
    """)
    parent = subprocess.Popen(
        [sys.executable, "-c", parent_code], stdout=subprocess.PIPE, text=True
    )
    try:
        child_pid = int(parent.stdout.readline())
        assert not is_gone(child_pid)
        parent.kill()
        parent.wait()
        assert wait_for(lambda: is_gone(child_pid)), "child outlived its SIGKILLed parent"
    finally:
        parent.kill()
        parent.stdout.close()


async def test_stop_escalates_to_sigkill_when_the_child_ignores_its_signal(tmp_path) -> None:
    child = python_child(tmp_path, IGNORES_SIGTERM)
    child.start()
    assert wait_for(lambda: "ready" in child.log_tail())
    started = time.monotonic()
    code = await child.stop(grace=0.3)
    assert code == -signal.SIGKILL
    assert time.monotonic() - started < 5
    assert await child.stop() == -signal.SIGKILL  # idempotent


async def test_graceful_stop_uses_the_spec_signal(tmp_path) -> None:
    child = python_child(
        tmp_path,
        "import signal, sys, time\n"
        "signal.signal(signal.SIGINT, lambda *a: sys.exit(7))\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n",
        stop_signal=signal.SIGINT,
    )
    child.start()
    assert wait_for(lambda: "ready" in child.log_tail())
    assert await child.stop(grace=5) == 7


async def test_unstarted_child_stops_as_none(tmp_path) -> None:
    child = python_child(tmp_path, "pass")
    assert await child.stop() is None
    with pytest.raises(RuntimeError, match="never started"):
        _ = child.pid


def test_child_has_its_own_process_group_so_ctrl_c_skips_it(tmp_path) -> None:
    child = python_child(tmp_path, "import time; time.sleep(60)")
    child.start()
    try:
        assert os.getpgid(child.pid) == child.pid != os.getpgid(0)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        assert wait_for(lambda: child.returncode() is not None)


def test_output_goes_to_the_log_and_its_tail_is_readable(tmp_path) -> None:
    child = python_child(tmp_path, "import sys\nfor i in range(100): print('line', i)\nsys.exit(3)")
    child.start()
    assert wait_for(lambda: child.returncode() is not None)
    assert child.returncode() == 3
    tail = child.log_tail(lines=2)
    assert tail.splitlines() == ["line 98", "line 99"]


@AS_ROOT_ONLY
def test_child_runs_as_the_given_user(tmp_path) -> None:
    child = ChildProcess(
        ProcessSpec(name="c", argv=["sleep", "60"], log_path=tmp_path / "c.log", user="nobody")
    )
    child.start()
    try:
        assert psutil.Process(child.pid).uids().real == 65534
        assert psutil.Process(child.pid).gids().real == 65534
    finally:
        os.kill(child.pid, signal.SIGKILL)
        assert wait_for(lambda: child.returncode() is not None)

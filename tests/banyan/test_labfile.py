from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from banyan.labfile import (
    LabNotReadyError,
    live_lab_pid,
    load_or_create_secrets,
    read_lab_file,
    wait_for_lab,
    write_lab_file,
)


def test_write_then_read_round_trips(tmp_path) -> None:
    write_lab_file(tmp_path, {"pid": os.getpid(), "legacy_url": "http://x"})
    assert read_lab_file(tmp_path) == {"pid": os.getpid(), "legacy_url": "http://x"}
    assert not list(tmp_path.glob("*.tmp"))


def test_missing_or_corrupt_file_reads_as_none(tmp_path) -> None:
    assert read_lab_file(tmp_path) is None
    (tmp_path / "lab.json").write_text("{not json")
    assert read_lab_file(tmp_path) is None


def test_a_dead_owner_is_not_a_live_lab(tmp_path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    write_lab_file(tmp_path, {"pid": int(done.stdout)})
    assert live_lab_pid(tmp_path) is None
    write_lab_file(tmp_path, {"pid": os.getpid()})
    assert live_lab_pid(tmp_path) == os.getpid()


def test_secrets_are_generated_once_and_private(tmp_path) -> None:
    first = load_or_create_secrets(tmp_path)
    assert set(first) == {"admin_token", "internal_token", "demo_api_key", "storage_secret"}
    assert first["demo_api_key"].startswith("sk_")
    assert first["admin_token"] != first["internal_token"]
    assert len(first["admin_token"]) >= 32
    assert load_or_create_secrets(tmp_path) == first
    mode = stat.S_IMODE((tmp_path / "secrets.json").stat().st_mode)
    assert mode == 0o600


def test_wait_for_lab_returns_the_file_its_process_wrote(tmp_path) -> None:
    writer = (
        "import json, os, sys, time\n"
        "time.sleep(0.2)\n"
        f"open({str(tmp_path / 'lab.json')!r}, 'w').write(json.dumps({{'pid': os.getpid()}}))\n"
        "time.sleep(30)\n"
    )
    write_lab_file(tmp_path, {"pid": 1, "stale": True})  # an earlier lab's file is ignored
    process = subprocess.Popen([sys.executable, "-c", writer])
    try:
        assert wait_for_lab(tmp_path, process, within=10) == {"pid": process.pid}
    finally:
        process.kill()
        process.wait()


def test_wait_for_lab_fails_fast_when_the_lab_exits(tmp_path) -> None:
    process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    with pytest.raises(LabNotReadyError, match="exited with 3"):
        wait_for_lab(tmp_path, process, within=30)


def test_wait_for_lab_gives_up_after_its_budget(tmp_path) -> None:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with pytest.raises(LabNotReadyError, match="within"):
            wait_for_lab(tmp_path, process, within=0.3)
    finally:
        process.kill()
        process.wait()

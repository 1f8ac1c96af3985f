from __future__ import annotations

import os
import stat
import subprocess
import sys

from banyan.labfile import live_lab_pid, load_or_create_secrets, read_lab_file, write_lab_file


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
    assert set(first) == {"admin_token", "internal_token"}
    assert first["admin_token"] != first["internal_token"]
    assert len(first["admin_token"]) >= 32
    assert load_or_create_secrets(tmp_path) == first
    mode = stat.S_IMODE((tmp_path / "secrets.json").stat().st_mode)
    assert mode == 0o600

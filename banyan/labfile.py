"""``.banyan/lab.json``: the machine-readable description of a running lab, and lab secrets.

Tools and tests read lab.json to find every URL and token instead of guessing ports. It is
written atomically once the whole lab is ready and removed when the lab stops cleanly; it
names the owning ``pid`` so a file left by a killed lab is recognisably stale.

Secrets (admin and internal tokens) are generated once per state directory and kept in
``secrets.json`` (mode 0600), so tokens stay stable across restarts of ``make run``.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from pathlib import Path
from typing import Any

__all__ = [
    "LAB_FILE",
    "LabNotReadyError",
    "live_lab_pid",
    "load_or_create_secrets",
    "read_lab_file",
    "wait_for_lab",
    "write_lab_file",
]

LAB_FILE = "lab.json"
_SECRETS_FILE = "secrets.json"
_SECRET_NAMES = ("admin_token", "internal_token", "demo_api_key", "storage_secret")


def write_lab_file(state_dir: Path, data: dict[str, Any]) -> Path:
    path = state_dir / LAB_FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", "utf-8")
    os.replace(tmp, path)
    return path


def read_lab_file(state_dir: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads((state_dir / LAB_FILE).read_text("utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return data


class LabNotReadyError(Exception):
    """The lab process exited, or wrote no lab.json in time."""


def wait_for_lab(
    state_dir: Path, process: subprocess.Popen[bytes], within: float
) -> dict[str, Any]:
    """Block until ``process`` (a ``banyan up``) has written *its* lab.json; return it.

    For tools that start a lab and then use it (tests, benchmarks, parity runs). A lab.json
    left by an earlier lab is ignored: only one naming ``process.pid`` counts."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LabNotReadyError(f"banyan up exited with {process.returncode}")
        info = read_lab_file(state_dir)
        if info is not None and info.get("pid") == process.pid:
            return info
        time.sleep(0.01)
    raise LabNotReadyError(f"no lab.json in {state_dir} within {within:.0f}s")


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def live_lab_pid(state_dir: Path) -> int | None:
    """The pid of the lab that owns ``state_dir``, or None if there is none (or it died)."""
    data = read_lab_file(state_dir)
    pid = data.get("pid") if data else None
    return pid if isinstance(pid, int) and _is_alive(pid) else None


def load_or_create_secrets(state_dir: Path) -> dict[str, str]:
    path = state_dir / _SECRETS_FILE
    try:
        stored: dict[str, str] = json.loads(path.read_text("utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        stored = {}
    missing = [name for name in _SECRET_NAMES if not stored.get(name)]
    if missing:
        for name in missing:
            # API keys carry the platform's sk_ prefix (legacy/commerce/keys.py).
            stored[name] = ("sk_" if name.endswith("_api_key") else "") + secrets.token_urlsafe(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(stored, out, indent=2)
    return stored

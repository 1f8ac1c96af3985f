"""The Go candidate's third-party modules, taken from Debian's packages, offline for Go.

Go runs with ``GOPROXY=off`` (brief §8), so a module the candidate imports cannot come from a
module proxy. Debian packages Go libraries as source (``golang-*-dev``, under
``/usr/share/gocode/src/<module>``); this fetches the pinned ``.deb`` (``apt-get download``,
else Debian's pool over HTTP), checks its SHA-256 against the pin, and unpacks it with
``dpkg-deb -x`` into ``.cache/debian-go/<package>_<version>/`` at the repository root.
``candidate/go.mod`` points each module there with a ``replace`` directive, so nothing of the
package's source is committed and nothing is installed into the system.

It is an install step (``make go-deps``, run by ``go-check`` and by the lab's build): the
tests never reach the network. ``python -m banyan.godeps`` fetches what is missing and prints
where each module is.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = ["CACHE_DIR", "MODULES", "POOL", "DebianModule", "GoDepsError", "ensure_modules"]

CACHE_DIR: Final = Path(__file__).resolve().parent.parent / ".cache" / "debian-go"
POOL: Final = "http://deb.debian.org/debian/pool/main"
_TIMEOUT_S: Final = 120


class GoDepsError(RuntimeError):
    """A pinned package could not be fetched, verified or unpacked; the message says why."""


@dataclass(frozen=True, slots=True)
class DebianModule:
    module: str  # the Go import path, as go.mod names it
    package: str  # the Debian binary package that ships its source
    version: str  # Debian's version, pinned
    source: str  # the Debian source package (its pool directory)
    sha256: str  # of the .deb

    @property
    def deb_name(self) -> str:
        return f"{self.package}_{self.version}_all.deb"

    def pool_url(self, pool: str = POOL) -> str:
        prefix = self.source[:4] if self.source.startswith("lib") else self.source[0]
        return f"{pool}/{prefix}/{self.source}/{self.deb_name}"

    def unpacked(self, cache: Path) -> Path:
        """Where go.mod's ``replace`` finds the module once unpacked."""
        return cache / f"{self.package}_{self.version}" / "usr/share/gocode/src" / self.module


MODULES: Final[tuple[DebianModule, ...]] = (
    DebianModule(
        module="github.com/gorilla/websocket",
        package="golang-github-gorilla-websocket-dev",
        version="1.5.0-2",
        source="golang-github-gorilla-websocket",
        sha256="c43a1b15cf1446303e8683b3c877c04c88ea813c6b201876eac9388d60240ff1",
    ),
)


def ensure_modules(
    modules: tuple[DebianModule, ...] = MODULES, cache: Path = CACHE_DIR, *,
    pool: str = POOL, use_apt: bool = True,
) -> dict[str, Path]:  # fmt: skip
    """Each module's unpacked directory, fetching and unpacking only what is missing."""
    return {m.module: _ensure(m, cache, pool, use_apt) for m in modules}


def _ensure(module: DebianModule, cache: Path, pool: str, use_apt: bool) -> Path:
    target = module.unpacked(cache)
    if (target / "go.mod").is_file():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as scratch:
        deb = _fetch(module, Path(scratch), pool, use_apt)
        unpack = Path(scratch) / "unpacked"
        _run(["dpkg-deb", "-x", str(deb), str(unpack)], f"unpacking {deb.name}")
        inner = unpack / "usr/share/gocode/src" / module.module
        if not any(inner.glob("*.go")):
            raise GoDepsError(f"{deb.name} has no Go source for {module.module}")
        if not (inner / "go.mod").is_file():
            # Older Debian packages predate modules; a replace target needs a go.mod.
            (inner / "go.mod").write_text(f"module {module.module}\n")
        final = cache / f"{module.package}_{module.version}"
        shutil.rmtree(final, ignore_errors=True)
        unpack.rename(final)
    return target


def _fetch(module: DebianModule, into: Path, pool: str, use_apt: bool) -> Path:
    """The verified .deb in ``into``: apt's configured mirror first, Debian's pool second."""
    deb = into / module.deb_name
    problems: list[str] = []
    if use_apt and shutil.which("apt-get"):
        try:
            _run(["apt-get", "download", "-q", f"{module.package}={module.version}"],
                 f"apt-get download {module.package}", cwd=into)  # fmt: skip
        except GoDepsError as exc:
            problems.append(str(exc))
    if not deb.is_file():
        url = module.pool_url(pool)
        try:
            with urllib.request.urlopen(url, timeout=_TIMEOUT_S) as answer:
                deb.write_bytes(answer.read())
        except OSError as exc:
            problems.append(f"GET {url}: {exc}")
    if not deb.is_file():
        raise GoDepsError(f"could not fetch {module.deb_name}: " + "; ".join(problems))
    digest = hashlib.sha256(deb.read_bytes()).hexdigest()
    if digest != module.sha256:
        raise GoDepsError(
            f"{module.deb_name} has SHA-256 {digest}, pinned {module.sha256}: "
            "refusing it (a different build than the one go.mod was written against)"
        )
    return deb


def _run(argv: list[str], what: str, cwd: Path | None = None) -> None:
    try:
        done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GoDepsError(f"{what}: {exc}") from exc
    if done.returncode != 0:
        raise GoDepsError(f"{what} failed: {done.stderr.strip() or done.stdout.strip()}")


def main() -> int:
    try:
        found = ensure_modules()
    except GoDepsError as exc:
        print(f"banyan.godeps: {exc}", file=sys.stderr)
        return 1
    for module, path in found.items():
        print(f"{module} => {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

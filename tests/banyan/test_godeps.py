"""Debian's Go packages as the candidate's modules: fetched once, verified, unpacked in place.

The pool is a loopback HTTP server holding .debs built here with dpkg-deb, so these tests
never reach the network; `make go-deps` does that once, as an install step.
"""

from __future__ import annotations

import hashlib
import http.server
import re
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from banyan.gobuild import CANDIDATE_DIR
from banyan.godeps import CACHE_DIR, MODULES, DebianModule, GoDepsError, ensure_modules


def build_deb(root: Path, module: str, files: dict[str, str]) -> bytes:
    """A minimal Debian binary package shipping ``files`` as the module's source."""
    tree = root / "tree"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN" / "control").write_text(
        "Package: golang-example-dev\nVersion: 1.0-1\nArchitecture: all\n"
        "Maintainer: Banyan <banyan@example.invalid>\nDescription: test package\n"
    )
    source = tree / "usr/share/gocode/src" / module
    source.mkdir(parents=True)
    for name, text in files.items():
        (source / name).write_text(text)
    out = root / "out.deb"
    subprocess.run(["dpkg-deb", "--build", "--root-owner-group", str(tree), str(out)],
                   check=True, capture_output=True)  # fmt: skip
    return out.read_bytes()


class Pool:
    """Debian's pool on loopback: serves the .debs it is given and counts the fetches."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.fetches = 0
        pool = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                pool.fetches += 1
                body = pool.files.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/pool"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add(self, module: DebianModule, body: bytes) -> None:
        self.files[module.pool_url("/pool")] = body


@pytest.fixture
def pool() -> Iterator[Pool]:
    served = Pool()
    yield served
    served.server.shutdown()
    served.server.server_close()


def example(body: bytes, sha256: str | None = None) -> DebianModule:
    return DebianModule(
        module="example.com/greet", package="golang-example-dev", version="1.0-1",
        source="golang-example", sha256=sha256 or hashlib.sha256(body).hexdigest(),
    )  # fmt: skip


GO_MOD = "module example.com/greet\n\ngo 1.20\n"
GREET = 'package greet\n\nfunc Hello() string { return "hello" }\n'


def test_fetched_once_verified_and_unpacked_where_go_mod_points(tmp_path: Path, pool: Pool) -> None:
    body = build_deb(tmp_path, "example.com/greet", {"go.mod": GO_MOD, "greet.go": GREET})
    module = example(body)
    pool.add(module, body)
    cache = tmp_path / "cache"
    found = ensure_modules((module,), cache, pool=pool.url, use_apt=False)
    where = found["example.com/greet"]
    assert where == cache / "golang-example-dev_1.0-1/usr/share/gocode/src/example.com/greet"
    assert (where / "greet.go").read_text() == GREET
    assert ensure_modules((module,), cache, pool=pool.url, use_apt=False) == found
    assert pool.fetches == 1
    assert [p.name for p in cache.iterdir()] == ["golang-example-dev_1.0-1"]  # no scratch left


def test_a_package_that_is_not_the_pinned_build_is_refused(tmp_path: Path, pool: Pool) -> None:
    body = build_deb(tmp_path, "example.com/greet", {"go.mod": GO_MOD, "greet.go": GREET})
    module = example(body, sha256="0" * 64)
    pool.add(module, body)
    cache = tmp_path / "cache"
    with pytest.raises(GoDepsError, match="pinned 0000"):
        ensure_modules((module,), cache, pool=pool.url, use_apt=False)
    assert list(cache.iterdir()) == []


def test_a_package_before_go_modules_gets_a_go_mod(tmp_path: Path, pool: Pool) -> None:
    body = build_deb(tmp_path, "example.com/greet", {"greet.go": GREET})
    module = example(body)
    pool.add(module, body)
    where = ensure_modules((module,), tmp_path / "c", pool=pool.url, use_apt=False)
    assert (where["example.com/greet"] / "go.mod").read_text() == "module example.com/greet\n"


def test_an_unreachable_pool_says_what_it_tried(tmp_path: Path, pool: Pool) -> None:
    module = example(b"missing")
    with pytest.raises(GoDepsError, match=r"could not fetch golang-example-dev_1.0-1_all.deb.*404"):
        ensure_modules((module,), tmp_path / "c", pool=pool.url, use_apt=False)


def test_the_pool_path_follows_debians_layout() -> None:
    lib = DebianModule("m", "libfoo-dev", "1", "libfoo", "x")
    assert lib.pool_url("P") == "P/libf/libfoo/libfoo-dev_1_all.deb"
    assert (
        MODULES[0]
        .pool_url()
        .startswith("http://deb.debian.org/debian/pool/main/g/golang-github-gorilla-websocket/")
    )


def test_go_mod_replaces_each_pinned_module_with_its_unpacked_directory() -> None:
    """go.mod and the pins must agree, or the build would look for a directory never made."""
    text = (CANDIDATE_DIR / "go.mod").read_text()
    replaced = dict(re.findall(r"^replace (\S+) => (\S+)$", text, re.MULTILINE))
    for module in MODULES:
        target = (CANDIDATE_DIR / replaced[module.module]).resolve()
        assert target == module.unpacked(CACHE_DIR)
        assert re.search(rf"^require {re.escape(module.module)} v", text, re.MULTILINE)

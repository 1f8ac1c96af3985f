"""The repository's shape and its dependency rule (rfcs/0001 §2), checked rather than hoped."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HTTP_ONLY_PARTS = ("proxy", "shadow", "parity", "loadtest")


@pytest.mark.parametrize(
    "entry",
    [
        "legacy",
        "candidate",
        "proxy",
        "shadow",
        "parity",
        "loadtest",
        "rfcs",
        "tests",
        "Makefile",
        "pyproject.toml",
        "README.md",
        ".ci/run",
        "rfcs/0001-architecture.md",
    ],
)
def test_layout_matches_the_brief(entry: str) -> None:
    assert (ROOT / entry).exists(), entry


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("part", HTTP_ONLY_PARTS)
def test_http_only_parts_never_import_legacy(part: str) -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / part).rglob("*.py")
        if any(name == "legacy" or name.startswith("legacy.") for name in imported_modules(path))
    ]
    assert offenders == []


def test_the_rule_checker_sees_imports(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text("import legacy.app\nfrom legacy import errors\nfrom .legacy import y\n")
    assert imported_modules(sample) == {"legacy.app", "legacy"}


@pytest.mark.parametrize(
    ("module", "exported"),
    [
        (
            "banyan.launcher",
            {
                "ChildProcess",
                "EmbeddedPostgres",
                "EmbeddedRedis",
                "LabAlreadyRunningError",
                "LauncherError",
                "PortInUseError",
                "ProcessSpec",
                "ServerStartError",
                "claim_port",
                "http_probe",
                "wait_until_ready",
            },
        ),
        (
            "banyan.migrations",
            {
                "COMPONENTS",
                "Migration",
                "MigrationError",
                "apply_migrations",
                "discover_migrations",
                "load_migrations",
            },
        ),
        ("banyan.settings", {"Environment", "LogFormat", "Settings", "load_settings"}),
        ("banyan.lab", {"LAB_DATABASE", "Lab", "ServiceSpec"}),
    ],
)
def test_public_surface_is_pinned(module: str, exported: set[str]) -> None:
    mod = importlib.import_module(module)
    assert set(mod.__all__) == exported
    for name in mod.__all__:
        assert hasattr(mod, name), name

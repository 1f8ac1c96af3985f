from __future__ import annotations

import os
import subprocess
import sys


def banyan(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    return subprocess.run(
        [sys.executable, "-m", "banyan", *args],
        capture_output=True,
        text=True,
        env={**clean, **(env or {})},
        timeout=60,
    )


def test_help_lists_the_commands() -> None:
    done = banyan("--help")
    assert done.returncode == 0
    for command in ("up", "legacy", "migrate"):
        assert command in done.stdout


def test_legacy_without_stores_says_what_to_pass() -> None:
    done = banyan("legacy")
    assert done.returncode == 1
    assert "--database-url" in done.stderr
    assert "Traceback" not in done.stderr


def test_migrate_reports_an_up_to_date_database(database_url) -> None:
    done = banyan("migrate", "--database-url", database_url)
    assert done.returncode == 0, done.stderr
    assert "up to date" in done.stdout


def test_migrate_against_an_unreachable_server_is_a_clear_error() -> None:
    done = banyan("migrate", env={"DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none"})
    assert done.returncode == 1
    assert "error:" in done.stderr
    assert "Traceback" not in done.stderr


def test_proxy_with_a_missing_config_names_the_path(tmp_path) -> None:
    done = banyan("proxy", "--config", str(tmp_path / "nope.yaml"), "--state-dir", str(tmp_path))
    assert done.returncode == 1
    assert "nope.yaml" in done.stderr
    assert "Traceback" not in done.stderr


def test_proxy_with_a_bad_config_names_the_line(tmp_path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(
        "upstreams:\n  legacy: {url: http://127.0.0.1:1}\n  candidate: {url: http://127.0.0.1:2}\n"
        "routes:\n  - name: r\n    match: {path: /x}\n    mode: shadw\n"
    )
    done = banyan("proxy", "--config", str(config), "--state-dir", str(tmp_path))
    assert done.returncode == 1
    assert "bad.yaml:7" in done.stderr
    assert "shadw" in done.stderr


def test_proxy_upstream_override_is_validated(tmp_path) -> None:
    done = banyan("proxy", "--upstream", "legacy", "--state-dir", str(tmp_path))
    assert done.returncode == 1
    assert "NAME=URL" in done.stderr
    done = banyan("proxy", "--upstream", "nosuch=http://127.0.0.1:1", "--state-dir", str(tmp_path))
    assert done.returncode == 1
    assert "no upstream named 'nosuch'" in done.stderr

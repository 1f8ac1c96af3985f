"""`banyan routes` against a real proxy process with live control."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


@pytest.fixture
def routes(platform):
    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith("BANYAN_ADMIN")}
        return subprocess.run(
            [sys.executable, "-m", "banyan", "routes", *args,
             "--admin-url", platform.admin_url, "--token", platform.admin_token],
            capture_output=True, text=True, timeout=60, env={**base, **(env or {})},
        )  # fmt: skip

    return run


def test_list_promote_rollback_and_history(routes) -> None:
    listed = json.loads(routes("list", "--json").stdout)
    assert listed["live_control"] is True
    assert [(r["name"], r["mode"], r["source"]) for r in listed["routes"]] == [
        ("health", "legacy", "baseline")
    ]

    promoted = routes("promote", "health", "--reason", "ready for shadow", "--json")
    assert promoted.returncode == 0, promoted.stderr
    change = json.loads(promoted.stdout)["change"]
    assert (change["from"]["mode"], change["to"]["mode"]) == ("legacy", "shadow")
    assert "@" in change["actor"]

    # nothing was compared: the promotion gates refuse, naming each failed gate
    refused = routes("set", "health", "--mode", "canary", "--percent", "5", "--reason", "5% first")
    assert refused.returncode == 1
    assert "✗ compared: compared 0 <" in refused.stderr
    assert "--force" in refused.stderr
    text = routes(
        "set", "health", "--mode", "canary", "--percent", "5", "--reason", "5% first", "--force"
    )
    assert text.returncode == 0, text.stderr
    assert "shadow → canary 5%" in text.stdout

    back = routes("rollback", "health", "--reason", "errors up", "--to", "legacy", "--json")
    assert json.loads(back.stdout)["route"]["mode"] == "legacy"

    history = json.loads(routes("history", "health", "--json").stdout)["changes"]
    assert [c["action"] for c in history] == ["rollback", "set", "promote"]
    assert history[0]["reason"] == "errors up"
    assert history[1]["forced"] is True


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("set", "health", "--mode", "canary", "--reason", "no percent"),
            "400: a canary needs a percent",
        ),
        (
            ("set", "health", "--mode", "sideways", "--reason", "x"),
            "400: body.mode: Input should be 'legacy'",
        ),
        (("promote", "nope", "--reason", "x"), "404: no route named 'nope'"),
        (("promote", "health", "--reason", " "), "409: a reason is required"),
    ],
)
def test_refusals_are_one_clear_line(routes, args, message: str) -> None:
    done = routes(*args)
    assert done.returncode == 1
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_without_a_lab_or_flags_it_says_what_to_do(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANYAN_ADMIN")}
    done = subprocess.run(
        [sys.executable, "-m", "banyan", "routes", "list", "--state-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert done.returncode == 1
    assert "make run" in done.stderr


def test_a_wrong_token_is_refused(platform) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "banyan", "routes", "list",
         "--admin-url", platform.admin_url, "--token", "wrong"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert "401" in done.stderr

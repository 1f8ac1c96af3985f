from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from banyan.settings import Settings, load_settings


def test_defaults_follow_the_port_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "REDIS_URL", "BANYAN_LEGACY_PORT", "BANYAN_STATE_DIR"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.legacy_port == 8100
    assert settings.database_url is None
    assert settings.redis_url is None
    assert settings.state_dir == Path(".banyan")


def test_store_urls_are_read_without_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db:5432/x")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/0")
    settings = load_settings()
    assert settings.database_url == "postgresql://u@db:5432/x"
    assert settings.redis_url == "redis://cache:6379/0"


def test_flags_win_over_env_and_none_means_not_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANYAN_LEGACY_PORT", "9100")
    monkeypatch.setenv("DATABASE_URL", "postgresql://from-env/x")
    assert load_settings(legacy_port=None).legacy_port == 9100
    assert load_settings(legacy_port=7100).legacy_port == 7100
    assert load_settings(database_url="postgresql://flag/x").database_url == "postgresql://flag/x"


def test_settings_are_frozen() -> None:
    settings = load_settings()
    with pytest.raises(ValidationError):
        settings.legacy_port = 1  # type: ignore[misc]


def test_bad_port_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANYAN_LEGACY_PORT", "70000")
    with pytest.raises(ValidationError, match="legacy_port"):
        Settings()


@pytest.mark.parametrize(
    ("env", "log_format", "expected"),
    [
        ("dev", "auto", False),
        ("production", "auto", True),
        ("dev", "json", True),
        ("production", "console", False),
    ],
)
def test_json_logging_in_production(env: str, log_format: str, expected: bool) -> None:
    assert load_settings(env=env, log_format=log_format).is_json_logging is expected

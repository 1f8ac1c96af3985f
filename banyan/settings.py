"""The one settings object, read from the environment once and passed down.

Why one object: every process of the lab (``banyan up``, each service run alone, the tests) must
agree on ports, store URLs and secrets, and a hidden module-level config would make that
impossible to test (STYLE house rule 9). Build it with :func:`load_settings` at the edge
(the CLI, a test fixture) and hand it to whatever needs it.

``DATABASE_URL`` and ``REDIS_URL`` are read without the ``BANYAN_`` prefix because that is how
every hosting platform spells them; when set, the lab uses those servers and starts none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Environment", "LogFormat", "Settings", "load_settings"]

Environment = Literal["dev", "production"]
LogFormat = Literal["auto", "console", "json"]


class Settings(BaseSettings):
    """Typed, frozen configuration for every Banyan process (see README "Configuration")."""

    model_config = SettingsConfigDict(
        env_prefix="BANYAN_", frozen=True, extra="ignore", populate_by_name=True
    )

    env: Environment = "dev"
    log_level: str = "INFO"
    # "auto": JSON in production, human-readable in dev.
    log_format: LogFormat = "auto"

    state_dir: Path = Path(".banyan")
    host: str = "127.0.0.1"

    # External stores; None means "the lab starts embedded ones".
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "BANYAN_DATABASE_URL")
    )
    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("REDIS_URL", "BANYAN_REDIS_URL")
    )

    # Embedded stores (used only when the URLs above are unset).
    postgres_port: int = Field(default=5433, ge=0, le=65535)
    redis_port: int = Field(default=6380, ge=0, le=65535)

    # Services (rfcs/0001 §3 lists the whole port plan).
    legacy_port: int = Field(default=8100, ge=0, le=65535)
    inference_port: int = Field(default=8300, ge=0, le=65535)
    # The Go candidate (candidate/, built by banyan.gobuild when its sources changed).
    candidate_port: int = Field(default=8200, ge=0, le=65535)
    # Where the inference server is, for legacy's model routes (the lab sets it).
    inference_url: str | None = None
    # The models' context limits and latency profiles (legacy/inference/config.py).
    inference_config: Path | None = None
    inference_latency_scale: float | None = Field(default=None, ge=0)
    # The batch-job worker's health listener (legacy/jobs/worker.py).
    worker_port: int = Field(default=8400, ge=0, le=65535)
    worker_concurrency: int = Field(default=2, ge=1, le=64)
    # Seconds a worker holds a file before another may take it over (renewed while it works).
    job_lease_s: float = Field(default=30.0, gt=0)
    # Files that may wait or run at once, per tenant and in all (rfcs/0007 §6).
    job_queue_tenant_limit: int = Field(default=200, ge=1)
    job_queue_limit: int = Field(default=2000, ge=1)
    # Where job objects (uploads, outputs) live; default: <state_dir>/objects.
    object_root: Path | None = None
    proxy_port: int = Field(default=8000, ge=0, le=65535)
    admin_port: int = Field(default=9000, ge=0, le=65535)
    # The shadow process's health and metrics listener (its records come over a unix socket).
    shadow_port: int = Field(default=9100, ge=0, le=65535)
    # The proxy's route baseline (rfcs/0002, README "Routes").
    config: Path = Path("banyan.yaml")

    # Secrets; when unset, `banyan up` generates them once and keeps them in state_dir.
    admin_token: str | None = None
    internal_token: str | None = None
    # Signs the job APIs' upload and download links (legacy/storage/signing.py).
    storage_secret: str | None = None

    @property
    def objects_dir(self) -> Path:
        return self.object_root or self.state_dir / "objects"

    @property
    def is_json_logging(self) -> bool:
        if self.log_format == "auto":
            return self.env == "production"
        return self.log_format == "json"


def load_settings(**overrides: object) -> Settings:
    """Read the environment, then apply explicit overrides (CLI flags win over env)."""
    given = {key: value for key, value in overrides.items() if value is not None}
    return Settings(**given)  # type: ignore[arg-type]

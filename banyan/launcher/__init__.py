"""The one launcher for servers: embedded PostgreSQL and Redis, and our own services.

Every server is a direct child that dies with its parent (``process.py``), is waited for by a
readiness probe (``readiness.py``) and is stopped cleanly; the exception tree is in
``errors.py``. The lab (``banyan.lab``) composes these; tests use them directly.
"""

from __future__ import annotations

from banyan.launcher.errors import (
    LabAlreadyRunningError,
    LauncherError,
    PortInUseError,
    ServerStartError,
)
from banyan.launcher.postgres import EmbeddedPostgres
from banyan.launcher.process import ChildProcess, ProcessSpec
from banyan.launcher.readiness import claim_port, http_probe, wait_until_ready
from banyan.launcher.redis import EmbeddedRedis

__all__ = [
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
]

"""Launcher exceptions. The tree (every one carries a message a person can act on)::

LauncherError
├── PortInUseError        a port we were told to use is taken
├── ServerStartError      a child exited or never became ready; carries its log tail
└── LabAlreadyRunningError  another `banyan up` owns this state directory
"""

from __future__ import annotations

__all__ = ["LabAlreadyRunningError", "LauncherError", "PortInUseError", "ServerStartError"]


class LauncherError(Exception):
    """Base of every error the launcher raises on purpose."""


class PortInUseError(LauncherError):
    def __init__(self, what: str, host: str, port: int, hint: str) -> None:
        super().__init__(f"{what}: {host}:{port} is already in use; {hint}")
        self.port = port


class ServerStartError(LauncherError):
    def __init__(self, name: str, reason: str, log_tail: str = "") -> None:
        message = f"{name} failed to start: {reason}"
        if log_tail:
            message += f"\n--- last lines of {name}'s log ---\n{log_tail}"
        super().__init__(message)
        self.name = name
        self.log_tail = log_tail


class LabAlreadyRunningError(LauncherError):
    def __init__(self, pid: int, lab_file: str) -> None:
        super().__init__(
            f"a lab is already running from this state directory (pid {pid}, see {lab_file}); "
            "stop it with Ctrl-C or `kill -INT {pid}`, or use another --state-dir".replace(
                "{pid}", str(pid)
            )
        )
        self.pid = pid

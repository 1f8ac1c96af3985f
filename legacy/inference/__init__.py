"""The models the platform calls (inference servers): speech synthesis and others."""

from __future__ import annotations

__all__: list[str] = []

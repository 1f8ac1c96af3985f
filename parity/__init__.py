"""Parity suites: traffic capture, the corpus format, replay against both sides in CI.

Speaks HTTP only, never imports ``legacy`` (rfcs/0001 §2).
"""

from __future__ import annotations

__all__: list[str] = []

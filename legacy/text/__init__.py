"""Text models of the platform: script and language identification, transliteration."""

from __future__ import annotations

__all__: list[str] = []

"""Speech pipelines of the platform: text-to-speech (chunk, synthesize, stitch, encode)."""

from __future__ import annotations

__all__: list[str] = []

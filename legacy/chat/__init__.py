"""Chat completions on legacy: request and response shapes, the model client, SSE streaming."""

from __future__ import annotations

__all__: list[str] = []

"""The strangler proxy: route table, modes, HTTP/SSE/WebSocket forwarding, live route control.

Built in issue 3 (rfcs/0002 will record the hot-path choice). It speaks HTTP to legacy and
candidate and never imports ``legacy`` (rfcs/0001 §2; enforced by ruff's banned-api rule and
tests/test_layout.py).
"""

from __future__ import annotations

__all__: list[str] = []

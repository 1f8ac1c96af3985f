"""The legacy platform: the Python/FastAPI model-API service being migrated (brief §3).

It knows nothing of the proxy except the contract headers (``X-Request-ID``,
``X-Banyan-Shadow``, ``traceparent``). Build the app with :func:`legacy.app.create_app`.
"""

from __future__ import annotations

__all__: list[str] = []

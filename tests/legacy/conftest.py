"""Fixtures for tests of legacy's public API through the real SDKs."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from sarvamai import SarvamAI, SarvamAIEnvironment


@pytest.fixture
def client() -> Iterator[Callable[[str, str], SarvamAI]]:
    """Make sarvamai clients (base URL, API key) on our own httpx clients, closed after the
    test so no socket is left for the garbage collector to warn about."""
    opened: list[httpx.Client] = []

    def make(base_url: str, key: str) -> SarvamAI:
        http = httpx.Client(timeout=60)
        opened.append(http)
        ws = base_url.replace("http://", "ws://")
        environment = SarvamAIEnvironment(
            base=base_url, creative=f"{base_url}/dubbing", production=ws
        )
        return SarvamAI(api_subscription_key=key, environment=environment, httpx_client=http)

    yield make
    for http in opened:
        http.close()

"""The platform's commercial layer: keys, rate limits, metering, prices, wallets, ledgers."""

from __future__ import annotations

__all__: list[str] = []

"""The ledger lines each side wrote for a request id, read through legacy's internal API: what
a parity test compares to find billing deltas (legacy's live ledger, the candidate's shadow
ledger, written because the candidate's requests carry ``X-Banyan-Shadow``)."""

from __future__ import annotations

from typing import Any

import httpx


def ledgers(platform: Any, client: httpx.Client, request_ids: list[str]) -> dict[str, Any]:
    """Each request id's live and shadow ledger lines, by legacy's internal API."""
    found: dict[str, Any] = {}
    for start in range(0, len(request_ids), 100):
        answer = client.get(
            f"{platform.direct_url}/internal/v1/ledger",
            params=[("request_id", rid) for rid in request_ids[start : start + 100]],
            headers={"Authorization": f"Bearer {platform.internal_token}"},
        )
        answer.raise_for_status()
        found |= {entry["request_id"]: entry for entry in answer.json()["requests"]}
    return found

"""The ledger lines each side wrote for a request id, read through legacy's internal API: what
a parity test compares to find billing deltas (legacy's live ledger, the candidate's shadow
ledger, written because the candidate's requests carry ``X-Banyan-Shadow``)."""

from __future__ import annotations

import time
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


def settled(platform: Any, client: httpx.Client, request_ids: list[str]) -> dict[str, Any]:
    """:func:`ledgers` once every request is settled on both sides or on neither (a side
    settles a stream or a session after its last byte): polled for up to five seconds."""
    billed: dict[str, Any] = {}
    for _ in range(50):
        billed = ledgers(platform, client, request_ids)
        if all(bool(entry["live"]) == bool(entry["shadow"]) for entry in billed.values()):
            break
        time.sleep(0.1)
    return billed


def ledger_differences(billed: dict[str, Any], request_ids: dict[str, str]) -> dict[str, str]:
    """Case name -> what differs, for each request whose live lines (legacy's) and shadow lines
    (the candidate's) are not the same units, quantities and credits."""
    out: dict[str, str] = {}
    for name, request_id in request_ids.items():
        entry = billed.get(request_id, {"live": [], "shadow": []})
        if sorted(map(str, entry["live"])) != sorted(map(str, entry["shadow"])):
            out[name] = f"$ledger changed: legacy={entry['live']} candidate={entry['shadow']}"
    return out

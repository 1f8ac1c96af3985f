"""The report from a planted set of rows: exact counts, parity, latencies, billing, diffs, noise."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from shadow.classify import classify, error_verdict
from shadow.model import Diff, Verdict
from shadow.report import build_report, render_table
from shadow.store import ResultStore

from .conftest import observation, trial

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 5, 1, 12, 30, 20, tzinfo=UTC)
T1, T2 = uuid.uuid4(), uuid.uuid4()


async def plant(pool) -> None:
    """Two writers in range (12:10 and 12:29), one writer's minute out of range (10:00)."""

    async def writer(name: str, at: datetime, start: int) -> None:
        store = ResultStore(pool, name, clock=lambda: at)
        for i in range(start, start + 10):  # legacy 10 ms + i; candidate 20 ms + i
            legacy = observation(latency_s=(10 + i) / 1000)
            candidate = observation(latency_s=(20 + i) / 1000)
            if i % 10 < 6:
                verdict = Verdict("matched")
            elif i % 10 == 6:
                verdict = classify([Diff("request_id", "changed")], (), lambda f: True)
            elif i % 10 < 9:
                verdict = Verdict("mismatched", mismatched=(Diff(f"items[{i}].id", "removed"),))
            else:
                verdict, legacy = error_verdict("timeout"), observation(500, latency_s=0.05)
            store.add(trial(f"{name}-{i}", legacy=legacy, candidate=candidate), verdict,
                      noise_diffs=[Diff("request_id", "changed")] if i % 2 else [])  # fmt: skip
        store.skip(f"{name}-skip", "translate", "body_too_large")
        await store.aclose()

    await writer("a", NOW - timedelta(minutes=20), 0)
    await writer("b", NOW - timedelta(minutes=1), 10)
    await writer("a", NOW - timedelta(hours=2, minutes=30), 100)
    rows = [
        ("q1", "translate", T1, "1.0000", "1.1000", "joined", NOW - timedelta(minutes=5)),
        ("q2", "translate", T1, "2.0000", "2.0000", "joined", NOW - timedelta(minutes=5)),
        ("q3", "translate", T2, "4.0000", "3.5000", "joined", NOW - timedelta(minutes=5)),
        ("q4", "translate", T2, "4.0000", None, "candidate_missing", NOW - timedelta(minutes=5)),
        ("q5", "translate", T2, "9.0000", "9.0000", "joined", NOW - timedelta(hours=3)),
        ("q6", "chat", None, "1.0000", "1.0000", "joined", NOW - timedelta(minutes=5)),
    ]
    await pool.executemany(
        "INSERT INTO shadow.billing (request_id, route, tenant_id, legacy_credits,"
        " candidate_credits, state, checked_at) VALUES ($1, $2, $3, $4::numeric, $5::numeric,"
        " $6, $7)",
        rows,
    )


async def test_report_numbers_from_planted_rows(pool) -> None:
    await plant(pool)
    report = await build_report(
        pool, route=None, since=timedelta(hours=1), modes={"translate": "shadow", "tts": "legacy"},
        now=NOW,
    )  # fmt: skip
    assert report["until"] == NOW.isoformat()
    routes = {r["route"]: r for r in report["routes"]}
    assert set(routes) == {"translate", "tts", "chat"}
    t = routes["translate"]
    assert (t["mode"], t["compared"], t["matched"], t["ignored"], t["mismatched"]) == (
        "shadow", 20, 12, 2, 4
    )  # fmt: skip
    assert (t["candidate_errors"], t["candidate_error_kinds"]) == (2, {"timeout": 2})
    assert t["skipped"] == {"body_too_large": 2}
    assert t["parity"] == 0.7
    assert t["error_rate"] == {"legacy": 0.1, "candidate": 0.1}
    assert t["ignored_rules"] == {"noise": 2}
    # legacy: 10..29 ms but the two 50 ms errors (i = 9, 19); candidate: 20..39 ms.
    sides = {
        "legacy": sorted([10 + i for i in range(20) if i % 10 != 9] + [50, 50]),
        "candidate": [20 + i for i in range(20)],
    }
    for side, values in sides.items():
        for label, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
            exact = values[int(q * (len(values) - 1))]  # the sketch's rank rule
            assert abs(t["latency_ms"][side][label] - exact) <= 0.01 * exact, (side, label)
    assert t["ttft_ms"] is None
    assert t["top_diffs"] == [
        {"path": "items[*].id", "kind": "removed", "count": 4, "rate": 0.2,
         "example_request_id": t["top_diffs"][0]["example_request_id"]},
    ]  # fmt: skip
    assert t["top_diffs"][0]["example_request_id"] in {"a-7", "a-8", "b-17", "b-18", "a-107"}
    assert t["noise"] == [
        {"path": "request_id", "rate": 0.5, "samples": 20, "candidate_rate": round(2 / 18, 6)}
    ]
    billing = t["billing"]
    assert billing == {
        "requests": 3,
        "legacy_credits": 7.0,
        "candidate_credits": 6.6,
        "delta_credits": -0.4,
        "delta_ratio": round(-0.4 / 7, 6),
        "missing": 1,
        "states": {"candidate_missing": 1, "joined": 3},
        "tenants": [
            {"tenant_id": str(T2), "legacy_credits": 4.0, "candidate_credits": 3.5,
             "delta_credits": -0.5},
            {"tenant_id": str(T1), "legacy_credits": 3.0, "candidate_credits": 3.1,
             "delta_credits": 0.1},
        ],
    }  # fmt: skip
    tts = routes["tts"]
    assert (tts["mode"], tts["compared"], tts["parity"], tts["latency_ms"]) == (
        "legacy", 0, None, {"legacy": None, "candidate": None}
    )  # fmt: skip
    assert routes["chat"]["billing"]["tenants"] == [
        {"tenant_id": None, "legacy_credits": 1.0, "candidate_credits": 1.0, "delta_credits": 0.0}
    ]
    assert routes["chat"]["mode"] is None

    text = render_table(report)
    assert "translate" in text
    assert "70.00%" in text
    assert "items[*].id" in text


async def test_report_of_one_route_and_a_longer_range(pool) -> None:
    await plant(pool)
    report = await build_report(
        pool, route="translate", since=timedelta(hours=3), modes={"tts": "legacy"}, now=NOW
    )
    (t,) = report["routes"]
    assert (t["route"], t["mode"], t["compared"], t["billing"]["requests"]) == (
        "translate", None, 30, 4
    )  # fmt: skip

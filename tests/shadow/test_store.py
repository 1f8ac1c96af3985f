"""The result store against real PostgreSQL: batches, duplicates, drops, example cap, redaction."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest

from shadow.classify import classify
from shadow.model import Diff, Verdict
from shadow.store import ResultStore
from shadow.windows import Window

from .conftest import observation, trial

pytestmark = pytest.mark.anyio

KEY = "sk_live_0123456789abcdef"
MISMATCH = Verdict("mismatched", mismatched=(Diff("text", "changed", "a", "b"),))


async def test_2000_adds_are_written_in_batches(pool) -> None:
    async with ResultStore(pool, "w1") as store:
        start = time.perf_counter()
        for i in range(2000):
            store.add(trial(f"r{i}"), Verdict("matched") if i % 4 else MISMATCH)
        add_s = time.perf_counter() - start
        while store.stats.written < 2000:
            await asyncio.sleep(0.01)
            assert time.perf_counter() - start < 10, store.stats
        elapsed = time.perf_counter() - start
    per_add_us = add_s / 2000 * 1e6
    print(
        f"\n2000 adds: {per_add_us:.1f} µs each; stored in {elapsed:.3f} s = {2000 / elapsed:.0f}/s"
    )
    assert store.stats.dropped == store.stats.failed == 0
    rows = await pool.fetch("SELECT outcome, count(*) AS n FROM shadow.comparisons GROUP BY 1")
    assert {r["outcome"]: r["n"] for r in rows} == {"matched": 1500, "mismatched": 500}
    row = await pool.fetchrow("SELECT * FROM shadow.comparisons WHERE request_id = 'r0'")
    assert (row["fields"], row["legacy_status"], row["legacy_latency_us"]) == (
        ["text"],
        200,
        10_000,
    )
    window = await pool.fetchrow("SELECT * FROM shadow.windows WHERE writer = 'w1'")
    assert (window["matched"], window["mismatched"]) == (1500, 500)


async def test_rows_arrive_without_closing_within_the_batch_interval(pool) -> None:
    async with ResultStore(pool, "w1", batch_interval_s=0.05) as store:
        store.add(trial("one"), Verdict("matched"))
        store.skip("two", "translate", "body_too_large")
        deadline = time.perf_counter() + 2
        while await pool.fetchval("SELECT count(*) FROM shadow.comparisons") < 2:
            assert time.perf_counter() < deadline
            await asyncio.sleep(0.02)
    row = await pool.fetchrow(
        "SELECT outcome, error FROM shadow.comparisons WHERE request_id='two'"
    )
    assert tuple(row) == ("skipped", "body_too_large")


async def test_a_request_id_seen_twice_keeps_its_first_row(pool) -> None:
    async with ResultStore(pool, "w1") as store:
        store.add(trial("dup"), Verdict("matched"))
        store.add(trial("dup"), MISMATCH)
        await store.flush()
        store.add(trial("dup"), MISMATCH)
        store.add(trial("other"), Verdict("matched"))
    assert store.stats.failed == 0
    rows = await pool.fetch("SELECT request_id, outcome FROM shadow.comparisons ORDER BY 1")
    assert [tuple(r) for r in rows] == [("dup", "matched"), ("other", "matched")]


async def test_a_full_buffer_drops_storage_not_counters(pool) -> None:
    store = ResultStore(pool, "w1", max_queue=10)  # not started: nothing drains
    for i in range(25):
        store.add(trial(f"r{i}"), Verdict("matched"))
    assert (store.stats.queued, store.stats.dropped) == (10, 15)
    window = store.window("translate", datetime.now(UTC))
    assert isinstance(window, Window)
    assert window.matched == 25
    await store.aclose()
    assert await pool.fetchval("SELECT count(*) FROM shadow.comparisons") == 10
    assert await pool.fetchval("SELECT matched FROM shadow.windows") == 25


async def test_examples_are_capped_at_5_per_field_even_with_two_writers(pool) -> None:
    explained: list[str] = []

    def explain(diff: Diff) -> object:
        explained.append(diff.path)
        return {"values_changed": diff.path}

    async with ResultStore(pool, "a") as one, ResultStore(pool, "b") as two:
        for i in range(12):
            for store in (one, two):
                store.add(
                    trial(f"{store.writer_id}{i}"),
                    Verdict("mismatched", mismatched=(
                        Diff(f"items[{i}].id", "changed", 1, 2), Diff("text", "changed", "a", "b"),
                    )),
                    explain=explain,
                )  # fmt: skip
    counts = await pool.fetch("SELECT field, count(*) AS n FROM shadow.examples GROUP BY 1")
    assert {r["field"]: r["n"] for r in counts} == {"items[*].id": 5, "text": 5}
    assert len(explained) == 20  # each writer explained only what it could keep (5 + 5)
    # A restarted writer knows the cap is reached and keeps nothing more.
    async with ResultStore(pool, "a") as again:
        assert not again.wants_example("translate", "text")
        assert again.wants_example("translate", "other")
        again.add(trial("late"), MISMATCH, explain=explain)
    assert await pool.fetchval("SELECT count(*) FROM shadow.examples") == 10
    assert len(explained) == 20
    example = await pool.fetchrow(
        "SELECT diff::text, explanation::text FROM shadow.examples WHERE field = 'text' LIMIT 1"
    )
    assert '"kind": "changed"' in example["diff"]
    assert "values_changed" in example["explanation"]


async def test_no_api_key_reaches_the_database(pool) -> None:
    headers = (
        (b"api-subscription-key", KEY.encode()),
        (b"authorization", f"Bearer {KEY}".encode()),
        (b"sec-websocket-protocol", f"api-subscription-key.{KEY}".encode()),
        (b"content-type", b"application/json"),
    )
    leaky = trial(
        "leak",
        request_headers=headers,
        target=f"/translate?api-subscription-key={KEY}",
        request_body=f'{{"input": "hello", "secret": "{KEY}"}}'.encode(),
        legacy=observation(headers=((b"set-cookie", f"k={KEY}".encode()),),
                           body=f'{{"echo": "{KEY}", "text": "a"}}'.encode()),
        candidate=observation(body=f'{{"echo": "{KEY}", "text": "b"}}'.encode()),
    )  # fmt: skip
    async with ResultStore(pool, "w1") as store:
        store.add(
            leaky,
            Verdict("mismatched", mismatched=(Diff("secret", "changed", KEY, KEY + "x"),
                                              Diff("text", "changed", "a", "b"))),
            redact=frozenset({"secret", "echo"}),
        )  # fmt: skip
    assert await pool.fetchval("SELECT count(*) FROM shadow.examples") == 2
    dump = await pool.fetchval(
        "SELECT string_agg(t::text, '\n') FROM (SELECT * FROM shadow.examples) t"
    )
    dump += await pool.fetchval(
        "SELECT string_agg(t::text, '\n') FROM (SELECT * FROM shadow.comparisons) t"
    )
    assert KEY not in dump
    assert "<redacted>" in dump
    assert "hello" in dump


async def test_noise_comparisons_and_a_whole_window_upsert(pool) -> None:
    async with ResultStore(pool, "w1", window_interval_s=0.05) as store:
        noise = [Diff("created", "changed")]
        verdict = classify(noise, (), lambda field: True)
        store.add(trial("n1"), verdict, noise_diffs=noise)
        store.add(trial("n2"), Verdict("matched"), noise_diffs=[])
        deadline = time.perf_counter() + 2
        while await pool.fetchval("SELECT count(*) FROM shadow.windows") == 0:
            assert time.perf_counter() < deadline
            await asyncio.sleep(0.02)
        store.add(trial("n3"), Verdict("matched"))
    rows = await pool.fetch("SELECT * FROM shadow.windows")
    assert len(rows) == 1  # the same minute upserted, not appended
    window = Window.from_row(dict(rows[0].items()))
    assert (window.matched, window.ignored, window.noise_comparisons) == (2, 1, 2)
    assert window.noise_fields == {"created": 1}
    assert window.ignored_rules == {"noise": 1}

"""The shadow process's setup and its own listener: ``plan_shadow`` refuses a bad baseline
naming the field, ``render_report_gauges`` exports only numbers the report has, and the app
(its lifespan runs the whole pipeline on the real database) answers /healthz and /metrics and
stores what a proxy writes to its socket."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from pathlib import Path

import asyncpg
import httpx
import pytest

from proxy.config import parse_config
from proxy.mirror import MirrorRecord
from proxy.mirror_wire import encode
from shadow.main import ShadowSetupError, create_shadow_app, plan_shadow, render_report_gauges

pytestmark = pytest.mark.anyio

BASE = """
upstreams:
  legacy: {url: "http://127.0.0.1:%(legacy)d"}
  candidate: {url: "http://127.0.0.1:%(candidate)d"}
routes:
  - {name: translate, match: {path: /translate}, mode: shadow%(compare)s}
%(evidence)s
"""


def config(compare: str = "", evidence: str = "", legacy: int = 1, candidate: int = 2):
    return parse_config(BASE % {"legacy": legacy, "candidate": candidate,
                                "compare": compare, "evidence": evidence})  # fmt: skip


def test_a_good_baseline_is_planned() -> None:
    plan = plan_shadow(config(evidence="evidence: {noise: {min_samples: 3}}"))
    assert plan.noise.min_samples == 3
    assert plan.legacy_url == "http://127.0.0.1:1"
    assert set(plan.upstream_urls) == {"legacy", "candidate"}
    assert set(plan.compare) == {"translate"}


@pytest.mark.parametrize(
    ("compare", "evidence", "named"),
    [
        (", compare: {tolerance: {score: -1}}", "", "compare.tolerance"),
        (", compare: {colour: red}", "", "compare.colour"),
        ("", "evidence: {nosie: {}}", "evidence.nosie"),
        ("", "evidence: {noise: {min_samples: -2}}", "evidence.noise.min_samples"),
        ("", "evidence: {noise: {relative_threshold: x}}", "evidence.noise.relative_threshold"),
    ],
)
def test_a_bad_baseline_is_refused_naming_the_field(compare, evidence, named) -> None:
    with pytest.raises(ShadowSetupError, match=named.replace(".", r"\.")):
        plan_shadow(config(compare=compare, evidence=evidence))


def test_gauges_leave_out_what_the_report_does_not_have() -> None:
    report = {"routes": [
        {"route": 'we"ird', "parity": 0.5, "compared": 4,
         "latency_ms": {"legacy": {"p99": 12.5}, "candidate": {"p99": None}},
         "error_rate": {"legacy": 0.0, "candidate": float("nan")},
         "billing": {"legacy_credits": 2.0, "candidate_credits": None, "delta_ratio": None}},
    ]}  # fmt: skip
    text = render_report_gauges(report)
    assert 'banyan_shadow_parity{route="we\\"ird"} 0.5' in text
    assert 'banyan_shadow_compared{route="we\\"ird"} 4' in text
    assert 'banyan_shadow_latency_ms{route="we\\"ird",side="legacy",quantile="p99"} 12.5' in text
    assert 'side="candidate",quantile="p99"' not in text
    assert 'banyan_shadow_error_rate{route="we\\"ird",side="legacy"} 0' in text
    assert 'side="candidate"} nan' not in text.lower()
    assert 'banyan_shadow_billing_credits{route="we\\"ird",side="legacy"} 2' in text
    assert "banyan_shadow_billing_delta_ratio{" not in text
    assert "# TYPE banyan_shadow_billing_delta_ratio gauge" in text  # declared even when empty


def free_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return int(port)


async def test_the_app_runs_the_pipeline_and_reports_on_its_listener(
    database_url, tmp_path: Path
) -> None:
    # The candidate is gone (nothing listens): the mirrored request becomes a candidate error,
    # which is enough to see a record go socket → engine → store → /metrics.
    plan = plan_shadow(config(legacy=free_port(), candidate=free_port()))
    sock = tmp_path / "shadow.sock"
    app = create_shadow_app(plan, socket_path=sock, database_url=database_url,
                            internal_token="t")  # fmt: skip
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s") as client,
    ):
        _, writer = await asyncio.open_unix_connection(str(sock))
        try:
            writer.write(encode(MirrorRecord(
                request_id=b"main-1", traceparent=b"00-" + b"1" * 32 + b"-" + b"2" * 16 + b"-01",
                route="translate", served_by="legacy", mirror_to="candidate", method=b"POST",
                target=b"/translate", request_headers=[(b"content-type", b"application/json")],
                request_body=b"{}", status=200,
                response_headers=[(b"content-type", b"application/json")],
                response_body=b'{"ok": true}', started_at=1.0, first_byte_at=1.1,
                finished_at=1.2, first_body_at=1.15,
            )))  # fmt: skip
            await writer.drain()
            health = {}
            for _ in range(200):
                health = (await client.get("/healthz")).json()
                if health["connections"] == 1:
                    break
                await asyncio.sleep(0.02)
            assert health["status"] == "ok"
            assert health["connections"] == 1
            metrics = ""
            for _ in range(200):
                metrics = (await client.get("/metrics")).text
                # the report's gauges read the per-minute windows, written every second
                if 'banyan_shadow_compared{route="translate"} 1' in metrics:
                    break
                await asyncio.sleep(0.05)
        finally:
            writer.close()
    assert 'banyan_shadow_outcomes_total{route="translate",outcome="candidate_error"} 1' in metrics
    assert (
        'banyan_shadow_candidate_errors_total{route="translate",kind="connect_error"} 1' in metrics
    )
    assert 'banyan_shadow_store_rows_total{fate="written"} 1' in metrics
    assert 'banyan_shadow_compared{route="translate"} 1' in metrics  # a report gauge
    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow(
            "SELECT outcome, error FROM shadow.comparisons WHERE request_id = 'main-1'"
        )
    finally:
        await conn.close()
    assert (row["outcome"], row["error"]) == ("candidate_error", "connect_error")


async def test_health_says_starting_until_the_pipeline_is_up(tmp_path: Path) -> None:
    nowhere = "postgresql://nobody@127.0.0.1:1/x"  # lifespan never ran: no pipeline yet
    app = create_shadow_app(plan_shadow(config()), socket_path=tmp_path / "s.sock",
                            database_url=nowhere, internal_token="t")  # fmt: skip
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s") as c:
        answer = await c.get("/healthz")
        assert (answer.status_code, answer.json()) == (503, {"status": "starting"})
        assert (await c.get("/metrics")).status_code == 503


@pytest.mark.parametrize(
    ("priority", "applied", "check"),
    [
        ("idle", "SCHED_IDLE", "os.sched_getscheduler(0) == os.SCHED_IDLE"),
        ("low", "nice 10", "os.nice(0) == 10"),
        ("normal", "normal", "os.sched_getscheduler(0) == os.SCHED_OTHER and os.nice(0) == 0"),
    ],
)
def test_the_shadow_process_yields_the_cpu_to_the_live_path(priority, applied, check) -> None:
    # In a child: a test process must not lower its own priority.
    code = (
        "import os; from shadow.main import yield_cpu; "
        f"print(yield_cpu({priority!r})); print({check})"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)  # fmt: skip
    assert done.stdout.splitlines()[-2:] == [applied, "True"]

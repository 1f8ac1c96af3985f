"""The proxy's latency histogram: buckets, Prometheus text, summed across workers, observed
for every exchange through a real proxy."""

from __future__ import annotations

import timeit

import httpx
import pytest

from proxy.metrics import DURATION_BUCKETS, Counters, render_prometheus
from proxy.workers import sum_prometheus

NAME = "banyan_proxy_request_duration_seconds"


def series_of(text: str, name: str) -> dict[str, float]:
    return {
        series: float(value)
        for series, _, value in (line.rpartition(" ") for line in text.splitlines())
        if series.split("{", 1)[0] == name
    }


def test_an_observation_lands_in_the_first_bucket_that_holds_it() -> None:
    counters = Counters()
    for seconds in (0.0004, 0.001, 0.0011, 0.3, 45.0):  # 0.001 itself is "le 0.001"
        counters.observe_served("tts", "candidate", seconds)
    text = render_prometheus(counters)
    buckets = series_of(text, f"{NAME}_bucket")
    labels = 'route="tts",served_by="candidate"'
    assert buckets[f'{NAME}_bucket{{{labels},le="0.001"}}'] == 2
    assert buckets[f'{NAME}_bucket{{{labels},le="0.0025"}}'] == 3
    assert buckets[f'{NAME}_bucket{{{labels},le="0.25"}}'] == 3
    assert buckets[f'{NAME}_bucket{{{labels},le="0.5"}}'] == 4
    assert buckets[f'{NAME}_bucket{{{labels},le="30.0"}}'] == 4
    assert buckets[f'{NAME}_bucket{{{labels},le="+Inf"}}'] == 5
    assert len(buckets) == len(DURATION_BUCKETS) + 1
    assert series_of(text, f"{NAME}_count") == {f"{NAME}_count{{{labels}}}": 5}
    assert series_of(text, f"{NAME}_sum")[f"{NAME}_sum{{{labels}}}"] == pytest.approx(45.3025)
    assert f"# TYPE {NAME} histogram" in text


def test_cumulative_buckets_never_decrease() -> None:
    counters = Counters()
    for i in range(1000):
        counters.observe_served("r", "legacy", (i % 97) / 50)
    values = list(series_of(render_prometheus(counters), f"{NAME}_bucket").values())
    assert values == sorted(values)
    assert values[-1] == 1000


def test_histograms_sum_across_workers_exactly() -> None:
    one, two = Counters(), Counters()
    # A count :g would have rounded to 1.23457e+06.
    one.inc("banyan_proxy_requests_total", "r", "legacy", "200", by=1_234_567)
    one.observe_served("r", "legacy", 0.002)
    two.observe_served("r", "legacy", 0.002)
    two.observe_served("r", "candidate", 2.0)
    summed = sum_prometheus([render_prometheus(one), render_prometheus(two)])
    assert 'banyan_proxy_requests_total{route="r",served_by="legacy",status="200"} 1234567' in (
        summed
    )
    assert f'{NAME}_bucket{{route="r",served_by="legacy",le="0.0025"}} 2' in summed
    assert f'{NAME}_count{{route="r",served_by="legacy"}} 2' in summed
    assert f'{NAME}_count{{route="r",served_by="candidate"}} 1' in summed
    assert f'{NAME}_sum{{route="r",served_by="legacy"}} 0.004' in summed


def test_undeclared_labels_fail_loudly() -> None:
    with pytest.raises(ValueError, match="takes labels"):
        Counters().observe(NAME, 0.1, "only-one")


def test_an_observation_is_cheap() -> None:
    counters = Counters()
    counters.observe_served("r", "legacy", 0.01)
    runs = 200_000
    seconds = min(
        timeit.repeat(
            "observe('r', 'legacy', 0.0123)",
            globals={"observe": counters.observe_served},
            number=runs,
            repeat=3,
        )
    )
    per_observe_ns = seconds / runs * 1e9
    print(f"observe_served: {per_observe_ns:.0f} ns")
    assert per_observe_ns < 2_000  # ~150 ns on the lab box; generous for a loaded CI


@pytest.mark.anyio
async def test_every_exchange_is_timed_by_route_and_serving_side(make_lab) -> None:
    lab = await make_lab(
        "  - {name: fast, match: {path: /echo}, mode: legacy}\n"
        "  - {name: slow, match: {path: /sse}, mode: candidate}\n"
    )
    async with httpx.AsyncClient(base_url=lab.url) as client:
        for _ in range(3):
            assert (await client.get("/echo")).status_code == 200
        assert (await client.get("/sse?n=2&gap_ms=60")).status_code == 200
    text = render_prometheus(lab.proxy.core.counters)
    counts = series_of(text, f"{NAME}_count")
    assert counts == {
        f'{NAME}_count{{route="fast",served_by="legacy"}}': 3,
        f'{NAME}_count{{route="slow",served_by="candidate"}}': 1,
    }
    slow = series_of(text, f"{NAME}_bucket")
    # Two 60 ms gaps: the stream took over 0.1 s, so it is not in the 0.1 bucket.
    assert slow[f'{NAME}_bucket{{route="slow",served_by="candidate",le="0.1"}}'] == 0
    assert slow[f'{NAME}_bucket{{route="slow",served_by="candidate",le="+Inf"}}'] == 1
    sums = series_of(text, f"{NAME}_sum")
    # two 60 ms gaps; the loop's timers may fire a hair early (0.11999999999898 was seen)
    assert sums[f'{NAME}_sum{{route="slow",served_by="candidate"}}'] >= 0.115

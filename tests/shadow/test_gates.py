"""Promotion gates: each gate failing alone says so with its numbers; settings are checked."""

from __future__ import annotations

import copy

import pytest

from shadow.evidence import ReportEvidence
from shadow.gates import GateSettings, check_gates, is_gated, parse_gates, parse_window


def healthy(route: str = "translate") -> dict:
    """A route entry of the report JSON that passes every default gate."""
    return {
        "route": route,
        "mode": "shadow",
        "compared": 500,
        "matched": 495,
        "ignored": 3,
        "mismatched": 2,
        "candidate_errors": 0,
        "candidate_error_kinds": {},
        "skipped": {},
        "parity": 0.996,
        "latency_ms": {
            "legacy": {"p50": 40.0, "p95": 150.0, "p99": 200.0},
            "candidate": {"p50": 30.0, "p95": 140.0, "p99": 230.0},
        },
        "ttft_ms": None,
        "error_rate": {"legacy": 0.002, "candidate": 0.0},
        "billing": {
            "requests": 500,
            "legacy_credits": 1000.0,
            "candidate_credits": 1002.0,
            "delta_credits": 2.0,
            "delta_ratio": 0.002,
            "missing": 0,
            "tenants": [],
        },
        "top_diffs": [],
        "noise": [],
        "ignored_rules": {},
    }


def with_(entry: dict, path: str, value: object) -> dict:
    entry = copy.deepcopy(entry)
    *parents, last = path.split(".")
    node = entry
    for key in parents:
        node = node[key]
    node[last] = value
    return entry


def test_a_healthy_route_passes_every_gate() -> None:
    assert check_gates(healthy(), GateSettings()) == []


@pytest.mark.parametrize(
    ("changes", "gate", "message"),
    [
        (
            {"compared": 42, "matched": 40, "ignored": 2, "mismatched": 0, "billing.requests": 42},
            "compared",
            "compared 42 < 100 over 1h",
        ),
        (
            {"matched": 478, "ignored": 3, "mismatched": 19, "parity": 0.962},
            "parity",
            "parity 0.962 < 0.990 over 1h (481 of 500 compared matched)",
        ),
        (
            {"latency_ms.candidate.p99": 312.0},
            "p99",
            "candidate p99 312.0 ms > 1.2 x legacy p99 200.0 ms = 240.0 ms over 1h "
            "(and slower by more than 2 ms)",
        ),
        (
            {"billing.delta_ratio": -0.0123, "billing.candidate_credits": 987.7,
             "billing.delta_credits": -12.3},
            "billing",
            "billing delta -0.0123 beyond ±0.0050 over 1h "
            "(candidate 987.7000 vs legacy 1000.0000 credits, delta -12.3000)",
        ),
        (
            {"billing.missing": 7},
            "billing",
            "billing rows missing for 7 of 500 requests over 1h",
        ),
        (
            {"billing.legacy_credits": 0.0, "billing.candidate_credits": 3.5,
             "billing.delta_credits": 3.5, "billing.delta_ratio": None},
            "billing",
            "candidate billed 3.5000 credits where legacy billed 0 over 1h",
        ),
        (
            # Candidate errors count against parity too: relax parity to see this gate alone.
            {"candidate_errors": 10, "error_rate.candidate": 0.02, "parity": 0.976,
             "matched": 485, "min_parity": 0.95},
            "error_rate",
            "candidate error rate 0.020 > legacy 0.002 + 0.010 = 0.012 over 1h "
            "(10 of 500 compared failed)",
        ),
    ],
)  # fmt: skip
def test_each_gate_fails_alone_with_its_numbers(changes: dict, gate: str, message: str) -> None:
    entry, settings = healthy(), GateSettings()
    for path, value in changes.items():
        if path == "min_parity":
            settings = GateSettings(min_parity=float(value))  # type: ignore[arg-type]
        else:
            entry = with_(entry, path, value)
    failures = check_gates(entry, settings)
    assert [f.gate for f in failures] == [gate]
    assert failures[0].message.startswith(message), failures[0].message


def test_a_route_that_bills_nothing_passes_the_billing_gate() -> None:
    entry = healthy()
    entry["billing"].update(legacy_credits=0.0, candidate_credits=0.0, delta_credits=0.0,
                            delta_ratio=None)  # fmt: skip
    assert check_gates(entry, GateSettings()) == []


def test_a_route_nobody_billed_has_no_billing_rows_and_passes() -> None:
    """The joiner writes no row for a request neither side billed (/v1/models)."""
    assert check_gates(with_(healthy(), "billing", None), GateSettings()) == []
    one_sided = with_(with_(healthy(), "billing.requests", 0), "billing.missing", 3)
    assert [f.gate for f in check_gates(one_sided, GateSettings())] == ["billing"]


def test_nothing_compared_fails_on_evidence_not_on_arithmetic() -> None:
    entry = healthy()
    entry.update(compared=0, matched=0, ignored=0, mismatched=0, parity=None,
                 error_rate={"legacy": None, "candidate": None})  # fmt: skip
    entry["latency_ms"] = {"legacy": {"p99": None}, "candidate": {"p99": None}}
    entry["billing"] = None
    gates = [f.gate for f in check_gates(entry, GateSettings())]
    assert gates == ["compared", "parity", "p99"]


def test_thresholds_come_from_the_settings() -> None:
    strict = GateSettings(window_s=1800, min_compared=1000, min_parity=0.999, p99_ratio=1.1)
    messages = [f.message for f in check_gates(healthy(), strict)]
    assert messages[0] == "compared 500 < 1000 over 30m"
    assert messages[1].startswith("parity 0.996 < 0.999 over 30m")
    assert messages[2].startswith("candidate p99 230.0 ms > 1.1 x legacy p99 200.0 ms = 220.0")


def test_a_p99_slower_by_less_than_the_floor_passes() -> None:
    """1.9 ms against 1.2 ms is 1.6 x and no customer can tell: the floor keeps a fast route's
    promotion from failing on a ratio of noise."""
    fast = with_(healthy(), "latency_ms", {"legacy": {"p99": 1.2}, "candidate": {"p99": 1.9}})
    assert check_gates(fast, GateSettings()) == []
    failed = check_gates(fast, GateSettings(p99_floor_ms=0.5))
    assert [f.gate for f in failed] == ["p99"]
    assert parse_gates({"p99_floor_ms": 0}).p99_floor_ms == 0


def test_parse_gates_defaults_and_window() -> None:
    assert parse_gates({}) == GateSettings()
    assert parse_gates(None) == GateSettings()
    settings = parse_gates({"window": "30m", "min_compared": 50, "min_parity": 0.95})
    assert (settings.window_s, settings.min_compared, settings.min_parity) == (1800.0, 50, 0.95)
    assert parse_window("1h") == 3600.0
    assert parse_window("90s") == 90.0
    assert parse_window(120) == 120.0


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"window": "soon"}, "evidence.gates.window"),
        ({"window": "0m"}, "evidence.gates.window"),
        ({"min_compared": -1}, "evidence.gates.min_compared"),
        ({"min_compared": 1.5}, "evidence.gates.min_compared"),
        ({"min_parity": 1.5}, "evidence.gates.min_parity"),
        ({"p99_ratio": "fast"}, "evidence.gates.p99_ratio"),
        ({"p99_floor_ms": -1}, "evidence.gates.p99_floor_ms"),
        ({"billing_tolerance": -0.1}, "evidence.gates.billing_tolerance"),
        ({"error_rate_epsilon": True}, "evidence.gates.error_rate_epsilon"),
        ({"min_parrity": 0.9}, "evidence.gates.min_parrity"),
    ],
)
def test_parse_gates_names_the_bad_field(raw: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field.replace(".", r"\.")):
        parse_gates(raw)


@pytest.mark.parametrize(
    ("before", "after", "gated"),
    [
        (("legacy", 0), ("shadow", 0), False),
        (("shadow", 0), ("canary", 1), True),
        (("shadow", 0), ("candidate", 0), True),
        (("canary", 1), ("canary", 10), True),
        (("canary", 10), ("canary", 1), False),
        (("canary", 50), ("candidate", 0), True),
        (("canary", 50), ("shadow", 0), False),
        (("candidate", 0), ("legacy", 0), False),
    ],
)
def test_only_moves_up_out_of_shadow_or_canary_are_gated(before, after, gated: bool) -> None:
    assert is_gated(before[0], after[0], before[1], after[1]) is gated


@pytest.mark.anyio
async def test_report_evidence_judges_the_routes_entry() -> None:
    asked: list[tuple[str, float]] = []
    bad = with_(healthy("tts"), "parity", 0.5)

    async def report(route: str, since_s: float) -> dict:
        asked.append((route, since_s))
        return {"since": "x", "until": "y", "routes": [healthy("translate"), bad]}

    evidence = ReportEvidence(report, GateSettings(window_s=600))
    good = await evidence.judge("translate", "canary")
    assert good.passed
    assert good.failures == ()
    assert good.evidence["report"]["route"] == "translate"
    refused = await evidence.judge("tts", "canary")
    assert not refused.passed
    assert refused.failures[0].startswith("parity 0.500 < 0.990 over 10m")
    assert refused.evidence["failures"][0]["gate"] == "parity"
    assert refused.evidence["settings"]["window"] == "10m"
    missing = await evidence.judge("nope", "canary")
    assert missing.failures == ("no shadow comparisons for nope over 10m",)
    assert asked == [("translate", 600.0), ("tts", 600.0), ("nope", 600.0)]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"

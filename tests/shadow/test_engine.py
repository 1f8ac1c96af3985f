"""The engine: ``judge`` (candidate faults first, then diffs, ignore rules and learned noise)
and ``ShadowEngine.handle`` writing verdicts to the real store and counting them."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any, cast

import asyncpg
import numpy as np
import pytest

from proxy.config import RouteConfig, ShadowSettings
from proxy.mirror import MirrorRecord
from shadow.compare.config import CompareConfig, IgnoreRule
from shadow.engine import ShadowEngine, judge, skip_recorder
from shadow.metrics import Counters
from shadow.model import Trial
from shadow.noise import NoiseLearner, NoiseSettings
from shadow.replay import Replayer, noise_request_id
from shadow.store import ResultStore

from .conftest import observation, trial

pytestmark = pytest.mark.anyio

CONFIG = CompareConfig()
EAGER = NoiseSettings(min_samples=1)  # one noise sample is enough to learn from


def body(**fields: object) -> bytes:
    return json.dumps(fields).encode()


def noise(**kwargs: Any) -> NoiseLearner:
    return NoiseLearner(kwargs.pop("settings", EAGER), **kwargs)


# -- judge ---------------------------------------------------------------------------------------


def test_equal_answers_match_and_a_changed_field_is_named() -> None:
    learner = noise()
    same = judge(trial("r1"), CONFIG, (), learner)
    assert same.verdict.outcome == "matched"
    assert same.diffs == ()
    changed = judge(
        trial("r2", legacy=observation(body=body(text="a", n=1)),
              candidate=observation(body=body(text="b", n=1))),
        CONFIG, (), learner,
    )  # fmt: skip
    assert changed.verdict.outcome == "mismatched"
    assert [d.path for d in changed.verdict.mismatched] == ["text"]


def test_linear16_the_request_asked_for_is_heard_not_diffed_as_a_string() -> None:
    """The request's codec and rate reach the audio comparator: two resamplers' raw PCM of the
    same speech matches; without the request's word the same bytes are a string diff."""
    rng = np.random.default_rng(3)
    t = np.arange(16000) / 16000
    speech = 9000 * np.sin(2 * np.pi * (180 + 220 * t) * t)
    ours, theirs = (
        base64.b64encode((speech + rng.normal(0, 30, len(t))).astype("<i2").tobytes()).decode()
        for _ in range(2)
    )
    legacy = observation(body=json.dumps({"request_id": "r1", "audios": [ours]}).encode())
    candidate = observation(body=json.dumps({"request_id": "r1", "audios": [theirs]}).encode())
    asked = body(text="hi", language_code="en-IN", output_audio_codec="linear16",
                 speech_sample_rate=16000)  # fmt: skip
    for request_body, outcome in ((asked, "matched"), (body(text="hi"), "mismatched")):
        judged = judge(
            trial("r1", route="text-to-speech", target="/text-to-speech",
                  request_body=request_body, legacy=legacy, candidate=candidate),
            CONFIG, (), noise(),
        )  # fmt: skip
        assert judged.verdict.outcome == outcome, judged.diffs


@pytest.mark.parametrize(
    ("candidate", "legacy_status", "error"),
    [
        (observation(status=0, body=b"", error="timeout"), 200, "timeout"),
        (observation(status=0, body=b"", error="reset"), 200, "reset"),
        (observation(status=502, body=body(error="boom")), 200, "server_error"),
        (observation(body=b"{not json"), 200, "garbage"),
    ],
)
def test_the_candidates_own_failures_decide_first(candidate, legacy_status, error) -> None:
    judged = judge(
        trial("r1", legacy=observation(status=legacy_status), candidate=candidate),
        CONFIG, (), noise(),
    )  # fmt: skip
    assert judged.verdict.outcome == "candidate_error"
    assert judged.verdict.error == error


def test_both_sides_failing_alike_is_a_match_not_a_candidate_error() -> None:
    failed = observation(status=503, body=body(error={"code": "unavailable"}))
    judged = judge(trial("r1", legacy=failed, candidate=failed), CONFIG, (), noise())
    assert judged.verdict.outcome == "matched"


def test_a_named_ignore_rule_covers_its_field() -> None:
    rule = IgnoreRule(name="server-time", path="created")
    judged = judge(
        trial("r1", legacy=observation(body=body(created=1, text="a")),
              candidate=observation(body=body(created=2, text="a"))),
        CONFIG, (rule,), noise(),
    )  # fmt: skip
    assert judged.verdict.outcome == "ignored"
    assert [(name, [d.path for d in diffs]) for name, diffs in judged.verdict.ignored] == [
        ("server-time", ["created"])
    ]


def test_a_field_legacy_varies_by_itself_is_learned_as_noise() -> None:
    learner = noise()
    first = judge(
        trial("r1", legacy=observation(body=body(id="a1", text="x")),
              candidate=observation(body=body(id="c1", text="x")),
              noise=observation(body=body(id="a2", text="x"))),
        CONFIG, (), learner,
    )  # fmt: skip
    assert [d.path for d in first.noise_diffs or ()] == ["id"]
    assert first.verdict.outcome == "ignored"
    assert first.verdict.ignored[0][0] == "noise"
    # The candidate disagrees on `text`, which legacy never varied: that still counts.
    second = judge(
        trial("r2", legacy=observation(body=body(id="a3", text="x")),
              candidate=observation(body=body(id="c3", text="y"))),
        CONFIG, (), learner,
    )  # fmt: skip
    assert [d.path for d in second.verdict.mismatched] == ["text"]


@pytest.mark.parametrize("prefix", ["req", "r" * 124], ids=["short", "near-the-128-limit"])
def test_the_noise_calls_own_request_id_echo_is_not_learned_as_noise(prefix: str) -> None:
    """The noise call runs under ``<id>.noise`` (a digest of a long id: the services replace
    an id over 128 characters); legacy echoes it. Were that echo compared as is,
    ``request_id`` would be learned as noise and a candidate echoing the wrong id would pass."""
    learner = noise()
    for n in range(5):
        rid = f"{prefix}-{n}"
        echo = noise_request_id(rid.encode()).decode()
        judged = judge(
            trial(rid, legacy=observation(body=body(request_id=rid, text="x")),
                  candidate=observation(body=body(request_id=rid, text="x")),
                  noise=observation(body=body(request_id=echo, text="x"),
                                    headers=((b"content-type", b"application/json"),
                                             (b"x-request-id", echo.encode())))),
            CONFIG, (), learner,
        )  # fmt: skip
        assert judged.noise_diffs == ()
    rid = f"{prefix}-9"
    wrong = judge(
        trial(rid, legacy=observation(body=body(request_id=rid, text="x")),
              candidate=observation(body=body(request_id="other", text="x")),
              noise=observation(body=body(request_id=noise_request_id(rid.encode()).decode(),
                                          text="x"))),
        CONFIG, (), learner,
    )  # fmt: skip
    assert [d.path for d in wrong.verdict.mismatched] == ["request_id"]


def test_a_failed_noise_call_teaches_nothing() -> None:
    learner = noise()
    judged = judge(
        trial("r1", legacy=observation(body=body(id="a")),
              candidate=observation(body=body(id="b")),
              noise=observation(status=0, body=b"", error="timeout")),
        CONFIG, (), learner,
    )  # fmt: skip
    assert judged.noise_diffs is None
    assert judged.verdict.outcome == "mismatched"  # nothing learned, so `id` counts


# -- ShadowEngine.handle, with the real store ----------------------------------------------------


ROUTE = RouteConfig(
    name="translate", path="/translate", methods=None, websocket=False, mode="shadow",
    shadow=ShadowSettings(), canary_percent=0.0, legacy="legacy", candidate="candidate",
)  # fmt: skip


def mirror_record(request_id: str, route: str = "translate") -> MirrorRecord:
    return MirrorRecord(
        request_id=request_id.encode(), traceparent=b"00-" + b"1" * 32 + b"-" + b"2" * 16 + b"-01",
        route=route, served_by="legacy", mirror_to="candidate", method=b"POST",
        target=b"/translate", request_headers=[(b"content-type", b"application/json")],
        request_body=b"{}", status=200, response_headers=[], response_body=b"{}",
        started_at=1.0, first_byte_at=1.1, finished_at=1.2, first_body_at=1.15,
    )  # fmt: skip


class ScriptedReplayer:
    """Stands in for the replayer (tested on its own in test_replay.py): the trial per id."""

    def __init__(self, trials: dict[str, Trial | None]) -> None:
        self.trials = trials

    async def run(self, record: MirrorRecord, route: RouteConfig) -> Trial | None:
        return self.trials[record.request_id.decode()]


@pytest.fixture
async def store(pool) -> AsyncIterator[ResultStore]:
    async with ResultStore(pool, "test-writer") as result_store:
        yield result_store


def engine_for(store: ResultStore, trials: dict[str, Trial | None], **kw: Any) -> ShadowEngine:
    return ShadowEngine(
        routes={"translate": ROUTE}, compare_configs={}, store=store, noise=noise(),
        replayer=cast(Replayer, ScriptedReplayer(trials)), counters=kw.pop("counters", Counters()),
        **kw,
    )  # fmt: skip


async def rows(pool: asyncpg.Pool) -> dict[str, asyncpg.Record]:
    found = await pool.fetch("SELECT * FROM shadow.comparisons")
    return {row["request_id"]: row for row in found}


async def test_a_compared_request_is_stored_and_counted(pool, store) -> None:
    counters = Counters()
    changed = trial("r-changed", legacy=observation(body=body(text="a")),
                    candidate=observation(body=body(text="b")))  # fmt: skip
    engine = engine_for(store, {"r-same": trial("r-same"), "r-changed": changed},
                        counters=counters)  # fmt: skip
    assert (await engine.handle(mirror_record("r-same"))).outcome == "matched"
    assert (await engine.handle(mirror_record("r-changed"))).outcome == "mismatched"
    await store.flush()
    stored = await rows(pool)
    assert stored["r-same"]["outcome"] == "matched"
    assert stored["r-changed"]["outcome"] == "mismatched"
    assert list(stored["r-changed"]["fields"]) == ["text"]
    assert counters.get("banyan_shadow_outcomes_total", "translate", "matched") == 1
    assert counters.get("banyan_shadow_diff_fields_total", "translate", "text") == 1


async def test_a_record_of_a_route_this_process_does_not_know_is_skipped(pool, store) -> None:
    counters = Counters()
    engine = engine_for(store, {}, counters=counters)
    assert await engine.handle(mirror_record("r-x", route="gone")) is None
    await store.flush()
    row = (await rows(pool))["r-x"]
    assert (row["outcome"], row["error"]) == ("skipped", "unknown_route")
    assert counters.get("banyan_shadow_dropped_total", "gone", "unknown_route") == 1


async def test_a_comparator_bug_is_skipped_never_charged_to_the_candidate(
    pool, store, monkeypatch
) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("a bug of ours")

    monkeypatch.setattr("shadow.engine.judge", broken)
    counters = Counters()
    engine = engine_for(store, {"r-bug": trial("r-bug")}, counters=counters)
    assert await engine.handle(mirror_record("r-bug")) is None
    await store.flush()
    row = (await rows(pool))["r-bug"]
    assert (row["outcome"], row["error"]) == ("skipped", "compare_error")
    assert counters.total("banyan_shadow_outcomes_total") == 0


async def test_a_record_the_replayer_dropped_is_not_compared(pool, store) -> None:
    counters = Counters()
    engine = engine_for(store, {"r-drop": None}, counters=counters)
    assert await engine.handle(mirror_record("r-drop")) is None
    assert counters.total("banyan_shadow_outcomes_total") == 0


async def test_skip_recorder_stores_the_replayers_drops(pool, store) -> None:
    skip_recorder(store)(mirror_record("r-unsent"), "replay_error")
    await store.flush()
    row = (await rows(pool))["r-unsent"]
    assert (row["outcome"], row["error"], row["served_by"]) == ("skipped", "replay_error",
                                                               "legacy")  # fmt: skip


async def test_field_labels_per_route_are_capped_with_the_rest_counted_as_other(store) -> None:
    legacy = {f"f{i:02}": 0 for i in range(60)}
    candidate = {name: 1 for name in legacy}
    counters = Counters()
    engine = engine_for(
        store,
        {"r-wide": trial("r-wide", legacy=observation(body=json.dumps(legacy).encode()),
                         candidate=observation(body=json.dumps(candidate).encode()))},
        counters=counters,
    )  # fmt: skip
    verdict = await engine.handle(mirror_record("r-wide"))
    assert verdict is not None
    assert len(verdict.mismatched) == 60
    labels = {
        labels[1]
        for (name, labels), _ in counters.snapshot().items()
        if name == "banyan_shadow_diff_fields_total"
    }
    assert len(labels - {"other"}) == 50
    assert counters.get("banyan_shadow_diff_fields_total", "translate", "other") == 10

"""The shadow engine's pipeline: a mirrored record in, a verdict stored and counted.

One record goes intake → :class:`~shadow.replay.Replayer` (the other side's answer, and for a
sample a second legacy answer) → :func:`judge` (compare, then classify by ignore rules and
learned noise) → the result store, the billing joiner and the counters. Records are handled
concurrently, at most ``in_flight`` at once; past that the intake's bounded queue fills and
drops, counted there (``shadow_backlog``). Nothing here can reach a live response: the proxy
let go of the exchange before the record was written to the socket (rfcs/0005 §2).

Comparison is CPU work on this process's loop; the kinds that can take milliseconds (audio,
WebSocket sessions, bodies past 32 KB, which is where base64 audio lives) run in a worker
thread, so one TTS comparison does not stall the replays of every other route. A comparator
that raises anything but :class:`~shadow.model.CandidateGarbage` is a bug of ours: it is
logged and counted as ``compare_error`` and the request is skipped, never charged to the
candidate (Scientist: failures of the machinery never pass for evidence).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from banyan.logs import get_logger
from proxy.config import RouteConfig
from proxy.mirror import MirrorRecord
from shadow.billing import BillingJoiner
from shadow.classify import classify, error_verdict
from shadow.compare.audio import AudioHint
from shadow.compare.config import CompareConfig, IgnoreRule
from shadow.compare.dispatch import compare, kind_of
from shadow.compare.explain import explain
from shadow.metrics import Counters
from shadow.model import CandidateGarbage, Diff, Observation, Trial, Verdict
from shadow.noise import NoiseLearner
from shadow.replay import Replayer, noise_request_id
from shadow.store import ResultStore

__all__ = ["Judged", "ShadowEngine", "judge", "skip_recorder"]

_log = get_logger(__name__)
_THREAD_BODY_BYTES = 32 * 1024
# Fields counted per route in Prometheus before the rest go to "other" (bounded cardinality).
_MAX_METRIC_FIELDS = 50


@dataclass(frozen=True, slots=True)
class Judged:
    """A trial's verdict, plus the raw diffs the noise learner and the store need."""

    verdict: Verdict
    diffs: tuple[Diff, ...]
    noise_diffs: tuple[Diff, ...] | None


def judge(
    trial: Trial,
    config: CompareConfig,
    rules: Sequence[IgnoreRule],
    noise: NoiseLearner,
) -> Judged:
    """Compare one trial and classify it. Pure but for the noise learner's counts.

    The candidate's own failures decide first (no answer, a 5xx where legacy answered below
    500, garbage); then the diffs are classified, with learned noise consulted *after* this
    trial's noise comparison was counted, so the first sampled requests already teach."""
    noise_diffs = _noise_diffs(trial, config)
    if noise_diffs is not None:
        noise.observe_noise(trial.route, noise_diffs)
    candidate, legacy = trial.candidate, trial.legacy
    if candidate.error is not None:
        return Judged(error_verdict(candidate.error), (), noise_diffs)
    if candidate.status >= 500 > legacy.status:
        return Judged(error_verdict("server_error"), (), noise_diffs)
    try:
        diffs = tuple(compare(legacy, candidate, config, audio_hint=_hint(trial)))
    except CandidateGarbage:
        return Judged(error_verdict("garbage"), (), noise_diffs)
    noise.observe_candidate(trial.route, diffs)
    verdict = classify(diffs, rules, noise.checker(trial.route))
    return Judged(verdict, diffs, noise_diffs)


def _noise_diffs(trial: Trial, config: CompareConfig) -> tuple[Diff, ...] | None:
    """Legacy against itself; a noise answer that failed or does not parse teaches nothing."""
    if trial.noise is None or trial.noise.error is not None:
        return None
    try:
        noise = _same_request(trial.noise, trial.request_id)
        return tuple(compare(trial.legacy, noise, config, audio_hint=_hint(trial)))
    except CandidateGarbage:
        return None


def _hint(trial: Trial) -> AudioHint | None:
    """What the request says of the audio in its answers (a TTS body's codec and rate)."""
    return AudioHint.for_request(trial.request_body) if trial.method == "POST" else None


def _same_request(noise: Observation, request_id: str) -> Observation:
    """The noise answer as if it had been given the request's own id. The noise call runs under
    ``<id>.noise`` (:func:`noise_request_id`) only so that ledgers keep it apart; an answer
    echoing its id (``request_id`` fields, headers) would otherwise teach that the echo is
    noise, and a candidate that got the echo wrong would then pass."""
    own = request_id.encode("latin-1", "replace")
    derived = noise_request_id(own)
    if derived not in noise.body and not any(derived in value for _, value in noise.headers):
        return noise
    return dataclasses.replace(
        noise,
        body=noise.body.replace(derived, own),
        headers=tuple((name, value.replace(derived, own)) for name, value in noise.headers),
    )


def skip_recorder(store: ResultStore) -> Callable[[MirrorRecord, str], None]:
    """The replayer's ``on_drop``: a record it could not replay is stored as skipped, so the
    report's ``skipped`` counts it (the replayer already counted it in Prometheus)."""

    def record_skip(record: MirrorRecord, reason: str) -> None:
        request_id = record.request_id.decode("latin-1")
        store.skip(request_id, record.route, reason, served_by=record.served_by)

    return record_skip


class ShadowEngine:
    """Consumes records, one task each (bounded), until cancelled."""

    def __init__(
        self,
        *,
        routes: Mapping[str, RouteConfig],
        compare_configs: Mapping[str, CompareConfig],
        replayer: Replayer,
        store: ResultStore,
        noise: NoiseLearner,
        counters: Counters,
        billing: BillingJoiner | None = None,
        live_rules: Callable[[], Mapping[str, tuple[IgnoreRule, ...]]] = dict,
        in_flight: int = 256,
    ) -> None:
        self.routes = routes
        self.compare_configs = compare_configs
        self.replayer = replayer
        self.store = store
        self.noise = noise
        self.counters = counters
        self.billing = billing
        self.live_rules = live_rules
        self._slots = asyncio.Semaphore(in_flight)
        self._tasks: set[asyncio.Task[None]] = set()
        self._metric_fields: dict[str, set[str]] = {}

    async def consume(self, get: Callable[[], Awaitable[MirrorRecord]]) -> None:
        """Take records from ``get`` (the intake's) forever; each is handled in its own task."""
        while True:
            await self._slots.acquire()
            try:
                record = await get()
            except BaseException:
                self._slots.release()
                raise
            task = asyncio.create_task(self._handle_released(record))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def drain(self, grace: float = 5.0) -> None:
        """Let records in hand finish (bounded by ``grace``), then cancel the rest."""
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=grace)
            for task in pending:
                task.cancel()

    async def _handle_released(self, record: MirrorRecord) -> None:
        try:
            await self.handle(record)
        finally:
            self._slots.release()

    async def handle(self, record: MirrorRecord) -> Verdict | None:
        """One record start to end; None when it was not compared (counted why)."""
        route = self.routes.get(record.route)
        if route is None:
            self._skip(record, "unknown_route")
            return None
        trial = await self.replayer.run(record, route)
        if trial is None:
            return None  # the replayer counted the drop
        config = self.compare_configs.get(route.name, CompareConfig())
        rules = (*config.ignore, *self.live_rules().get(route.name, ()))
        try:
            if _heavy(trial, config):
                judged = await asyncio.to_thread(judge, trial, config, rules, self.noise)
            else:
                judged = judge(trial, config, rules, self.noise)
        except Exception:
            _log.exception("comparison failed", route=route.name, request_id=trial.request_id)
            self._skip(record, "compare_error")
            return None
        self.store.add(
            trial, judged.verdict, noise_diffs=judged.noise_diffs, redact=config.redact,
            explain=_explainer(trial, config),
        )  # fmt: skip
        if self.billing is not None:
            self.billing.schedule(trial.request_id, trial.route, trial.served_by)
        self._count(trial.route, judged.verdict)
        return judged.verdict

    def _skip(self, record: MirrorRecord, reason: str) -> None:
        self.counters.inc("banyan_shadow_dropped_total", record.route, reason)
        self.store.skip(
            record.request_id.decode("latin-1"), record.route, reason, served_by=record.served_by
        )

    def _count(self, route: str, verdict: Verdict) -> None:
        self.counters.inc("banyan_shadow_outcomes_total", route, verdict.outcome)
        if verdict.error is not None:
            self.counters.inc("banyan_shadow_candidate_errors_total", route, verdict.error)
        seen = self._metric_fields.setdefault(route, set())
        for field in {diff.field for diff in verdict.mismatched}:
            if field not in seen and len(seen) >= _MAX_METRIC_FIELDS:
                field = "other"
            else:
                seen.add(field)
            self.counters.inc("banyan_shadow_diff_fields_total", route, field)
        for name, _ in verdict.ignored:
            self.counters.inc("banyan_shadow_ignored_total", route, name)


def _heavy(trial: Trial, config: CompareConfig) -> bool:
    kind = kind_of(trial.legacy, config)
    if kind in ("audio", "websocket"):
        return True
    return max(len(trial.legacy.body), len(trial.candidate.body)) > _THREAD_BODY_BYTES


def _explainer(trial: Trial, config: CompareConfig) -> Callable[[Diff], object] | None:
    """DeepDiff's account of a JSON example (called only for stored examples)."""
    if kind_of(trial.legacy, config) != "json":
        return None
    legacy, candidate = trial.legacy.body, trial.candidate.body
    return lambda _diff: explain(legacy, candidate, config)

"""Issue 6's acceptance, end to end on real processes: inference, legacy, a candidate with planted
divergences (tests/shadow/planted_candidate.py), the shadow process and the proxy, driven by the
real SDKs through the proxy. Every planted divergence must come out of ``banyan report --json``
in the right category and field path, legacy's own noise must not, and a broken candidate
(hung, crashing, garbage, resetting, gone) must change nothing for the customer while each
fault is counted as a candidate error.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import subprocess
import sys
import time
import uuid
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import sarvamai
from openai import OpenAI
from sarvamai.environment import SarvamAIEnvironment
from websockets.asyncio.client import connect

from banyan.launcher import ChildProcess, claim_port
from tests.conftest import Platform, _execute, _start_child, with_database

from .planted_candidate import _is_slow

# Every mirrored request also gets a second legacy call (noise_sample 1.0), so legacy's own
# variation is learned from the first request on (min_samples 1).
ROUTES = """
  - {name: text-lid, match: {methods: [POST], path: /text-lid}, mode: shadow,
     shadow: {timeout_ms: 2000}}
  - {name: translate, match: {methods: [POST], path: /translate}, mode: shadow,
     shadow: {noise_sample: 1.0}}
  - {name: transliterate, match: {methods: [POST], path: /transliterate}, mode: shadow}
  - {name: speech-to-text, match: {methods: [POST], path: /speech-to-text}, mode: shadow}
  - {name: text-to-speech, match: {methods: [POST], path: /text-to-speech}, mode: shadow}
  - {name: chat-completions, match: {methods: [POST], path: /v1/chat/completions}, mode: shadow,
     shadow: {noise_sample: 1.0}}
  - {name: models, match: {methods: [GET], path: /v1/models}, mode: shadow}
  - {name: models-v2, match: {methods: [GET], path: /v2/models}, mode: shadow, candidate: gone}
  - {name: text-to-speech-ws, match: {path: /text-to-speech/ws, websocket: true}, mode: shadow}
evidence:
  noise: {min_samples: 1}
  gates: {window: 1h, min_compared: 5, min_parity: 0.99}
"""


@dataclass(frozen=True)
class ShadowLab:
    platform: Platform
    shadow_url: str
    state_dir: Path
    config: Path
    http: httpx.Client

    def sdk(self, key: str) -> sarvamai.SarvamAI:
        base = self.platform.proxied_url
        environment = SarvamAIEnvironment(
            base=base, creative=f"{base}/dubbing", production=base.replace("http", "ws")
        )
        return sarvamai.SarvamAI(
            api_subscription_key=key, environment=environment, httpx_client=self.http
        )

    def report(self, route: str | None = None) -> dict[str, Any]:
        args = ["--route", route] if route else []
        done = subprocess.run(
            [sys.executable, "-m", "banyan", "report", "--json", "--since", "1h",
             "--database-url", self.platform.database_url, "--config", str(self.config),
             "--admin-url", self.platform.admin_url, "--token", self.platform.admin_token,
             "--state-dir", str(self.state_dir), *args],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def route(self, name: str) -> dict[str, Any]:
        (entry,) = [r for r in self.report(name)["routes"] if r["route"] == name]
        return entry

    def comparisons(self, route: str) -> list[dict[str, Any]]:
        async def fetch() -> list[dict[str, Any]]:
            conn = await asyncpg.connect(self.platform.database_url)
            try:
                rows = await conn.fetch("SELECT * FROM shadow.comparisons WHERE route = $1", route)
            finally:
                await conn.close()
            return [dict(r.items()) for r in rows]

        return asyncio.run(fetch())

    def wait_compared(self, route: str, count: int, within: float = 60) -> list[dict[str, Any]]:
        """The route's stored outcomes once ``count`` are there and in the report's windows
        (rows and windows are written in batches, a second apart at most)."""
        deadline = time.monotonic() + within
        while True:
            rows = self.comparisons(route)
            if len(rows) >= count and self._windowed(route) >= count:
                return rows
            if time.monotonic() > deadline:
                pytest.fail(
                    f"{route}: {len(rows)} of {count} comparisons stored after {within:g} s;"
                    f" what the proxy and the shadow counted:\n{self._drop_counters()}"
                )
            time.sleep(0.2)

    def _drop_counters(self) -> str:
        """Every skip, drop and error counter of the proxy and the shadow process: where a
        mirror that never became a comparison went (each is counted with its reason)."""
        lines = []
        for name, url, headers in (
            ("proxy", f"{self.platform.admin_url}/metrics",
             {"authorization": f"Bearer {self.platform.admin_token}"}),
            ("shadow", f"{self.shadow_url}/metrics", {}),
        ):  # fmt: skip
            try:
                text = self.http.get(url, headers=headers, timeout=5).text
            except httpx.HTTPError as exc:
                lines.append(f"{name}: /metrics unreachable ({exc!r})")
                continue
            lines += [
                f"{name}: {line}" for line in text.splitlines()
                if not line.startswith("#")
                and any(w in line for w in ("skip", "drop", "error", "timeout", "mirror"))
            ]  # fmt: skip
        return "\n".join(lines) or "(nothing counted)"

    def _windowed(self, route: str) -> int:
        async def fetch() -> int:
            conn = await asyncpg.connect(self.platform.database_url)
            try:
                value = await conn.fetchval(
                    "SELECT coalesce(sum(matched + ignored + mismatched + candidate_errors), 0)"
                    " FROM shadow.windows WHERE route = $1",
                    route,
                )
            finally:
                await conn.close()
            return int(value)

        return asyncio.run(fetch())


@pytest.fixture(scope="module")
def lab(
    postgres_server: str, template_database: str, redis_server: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ShadowLab]:  # fmt: skip
    work = tmp_path_factory.mktemp("shadowlab")
    database = f"s_{uuid.uuid4().hex[:16]}"
    asyncio.run(
        _execute(postgres_server, f'CREATE DATABASE "{database}" TEMPLATE "{template_database}"')
    )
    db_url = with_database(postgres_server, database)
    ports = [claim_port("test", "127.0.0.1", 0, hint="") for _ in range(7)]
    legacy_port, proxy_port, admin_port, inference_port, candidate_port, shadow_port, gone = ports
    legacy, inference = f"http://127.0.0.1:{legacy_port}", f"http://127.0.0.1:{inference_port}"
    candidate = f"http://127.0.0.1:{candidate_port}"
    config = work / "banyan.yaml"
    config.write_text(
        f"fleet: t{uuid.uuid4().hex[:12]}\nupstreams:\n  legacy: {{url: {legacy}}}\n"
        f"  candidate: {{url: {candidate}}}\n  gone: {{url: http://127.0.0.1:{gone}}}\n"
        "routes:" + ROUTES
    )
    admin_token, internal_token = uuid.uuid4().hex, uuid.uuid4().hex
    env = {**os.environ, "BANYAN_ADMIN_TOKEN": admin_token,
           "BANYAN_INTERNAL_TOKEN": internal_token, "BANYAN_INFERENCE_URL": inference}  # fmt: skip
    for name in ("DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    python = [sys.executable, "-m", "banyan"]
    socket_path = work / "shadow.sock"
    children: list[ChildProcess] = []
    try:
        children.append(_start_child(
            "inference", [*python, "inference", "--port", str(inference_port)], work,
            f"{inference}/healthz", env=env,
        ))  # fmt: skip
        children.append(_start_child(
            "legacy", [*python, "legacy", "--port", str(legacy_port), "--redis-url",
                       redis_server, "--database-url", db_url], work, f"{legacy}/healthz", env=env,
        ))  # fmt: skip
        children.append(_start_child(
            "candidate", [sys.executable, str(Path(__file__).parent / "planted_candidate.py"),
                          "--port", str(candidate_port), "--legacy-url", legacy,
                          "--internal-token", internal_token], work, f"{candidate}/healthz",
            env=env,
        ))  # fmt: skip
        children.append(_start_child(
            "shadow", [*python, "shadow", "--config", str(config), "--port", str(shadow_port),
                       "--state-dir", str(work), "--database-url", db_url, "--socket",
                       str(socket_path), "--admin-url", f"http://127.0.0.1:{admin_port}",
                       # a test box is busy by design: an idle-priority process would starve
                       "--cpu-priority", "normal"],
            work, f"http://127.0.0.1:{shadow_port}/healthz", env=env,
        ))  # fmt: skip
        children.append(_start_child(
            "proxy", [*python, "proxy", "--config", str(config), "--port", str(proxy_port),
                      "--admin-port", str(admin_port), "--state-dir", str(work),
                      "--database-url", db_url, "--redis-url", redis_server,
                      "--shadow-socket", str(socket_path)],
            work, f"http://127.0.0.1:{admin_port}/healthz", env=env,
        ))  # fmt: skip
        platform = Platform(
            legacy, f"http://127.0.0.1:{proxy_port}", f"http://127.0.0.1:{admin_port}",
            admin_token, db_url, work, inference, internal_token,
        )  # fmt: skip
        _wait_fed(f"http://127.0.0.1:{shadow_port}")
        with httpx.Client(timeout=60) as http:
            yield ShadowLab(platform, f"http://127.0.0.1:{shadow_port}", work, config, http)
    finally:
        for child in reversed(children):
            asyncio.run(child.stop(grace=10))
        asyncio.run(_execute(postgres_server, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


def _wait_fed(shadow_url: str, within: float = 10) -> None:
    """The proxy's feed dials the socket with a backoff: wait until it is connected."""
    deadline = time.monotonic() + within
    while httpx.get(f"{shadow_url}/healthz").json()["connections"] < 1:
        assert time.monotonic() < deadline, "the proxy never connected to the shadow socket"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def key(lab: ShadowLab) -> str:
    return lab.platform.make_tenant(credits="100000", requests_per_minute=100_000)


def sample_rate(wav_bytes: bytes) -> int:
    with wave.open(io.BytesIO(wav_bytes)) as reader:
        return reader.getframerate()


# -- planted divergences: each caught, in its category and at its path ----------------------


def test_a_changed_field_is_a_mismatch_at_its_path(lab: ShadowLab, key: str) -> None:
    sdk = lab.sdk(key)
    answers = [sdk.text.identify_language(input=text) for text in ("नमस्ते दुनिया", "வணக்கம்")]
    assert [a.script_code for a in answers] == ["Deva", "Taml"]  # the customer got legacy's
    lab.wait_compared("text-lid", 2)
    route = lab.route("text-lid")
    # >= 2: the promotion test may have sent text-lid traffic first (tests run in random order)
    assert route["compared"] >= 2
    assert route["mismatched"] == route["compared"]
    (diff,) = route["top_diffs"]
    assert (diff["path"], diff["kind"], diff["count"]) == ("script_code", "changed",
                                                           route["compared"])  # fmt: skip
    assert diff["example_request_id"]


def test_an_extra_field_is_an_added_mismatch(lab: ShadowLab, key: str) -> None:
    answer = lab.sdk(key).text.translate(
        input="Hello, how are you?", source_language_code="en-IN", target_language_code="hi-IN"
    )
    assert answer.translated_text
    lab.wait_compared("translate", 1)
    route = lab.route("translate")
    assert route["mismatched"] == 1
    assert [(d["path"], d["kind"]) for d in route["top_diffs"]] == [("engine", "added")]
    # legacy echoes the request id; the noise call's own id is not taken for noise
    assert "request_id" not in {n["path"] for n in route["noise"]}


def test_a_float_off_by_a_billionth_is_caught(lab: ShadowLab, key: str) -> None:
    speech = httpx.post(
        f"{lab.platform.direct_url}/text-to-speech", headers={"api-subscription-key": key},
        json={"text": "Namaste. Good morning to you all.", "language_code": "en-IN",
              "speech_sample_rate": 16000}, timeout=60,
    ).json()["audios"][0]  # fmt: skip
    answer = lab.sdk(key).speech_to_text.transcribe(
        file=("a.wav", base64.b64decode(speech), "audio/wav"), with_timestamps=True
    )
    assert answer.timestamps is not None
    lab.wait_compared("speech-to-text", 1)
    route = lab.route("speech-to-text")
    assert route["mismatched"] == 1
    assert [(d["path"], d["kind"]) for d in route["top_diffs"]] == [
        ("timestamps.end_time_seconds[*]", "changed")  # fields aggregate over list indices
    ]


def test_a_different_audio_sample_rate_is_an_audio_mismatch(lab: ShadowLab, key: str) -> None:
    answer = lab.sdk(key).text_to_speech.convert(
        text="Shadow traffic is compared.", language_code="en-IN", speech_sample_rate=22050
    )
    assert sample_rate(base64.b64decode(answer.audios[0])) == 22050  # legacy's, unchanged
    lab.wait_compared("text-to-speech", 1)
    route = lab.route("text-to-speech")
    assert route["mismatched"] == 1
    paths = {d["path"]: d["kind"] for d in route["top_diffs"]}
    assert paths["audios[*].$audio.sample_rate"] == "changed", paths


def test_completion_ids_are_learned_noise_not_mismatches(lab: ShadowLab, key: str) -> None:
    chat = OpenAI(
        base_url=f"{lab.platform.proxied_url}/v1", api_key=key, max_retries=0,
        http_client=lab.http,
    )  # fmt: skip
    for seed in range(4):
        answer = chat.chat.completions.create(
            model="sarvam-m", messages=[{"role": "user", "content": "Hello"}], seed=seed
        )
        assert answer.id.startswith("chatcmpl-")
    rows = lab.wait_compared("chat-completions", 4)
    assert {r["outcome"] for r in rows} <= {"matched", "ignored"}, rows
    assert any("noise" in r["ignored"] for r in rows)  # ids (and maybe `created`) differed
    route = lab.route("chat-completions")
    assert route["mismatched"] == 0
    noise = {n["path"]: n for n in route["noise"]}
    assert noise["id"]["rate"] == 1.0  # legacy never gives one id twice


def test_a_stream_missing_its_usage_chunk_is_caught(lab: ShadowLab, key: str) -> None:
    chat = OpenAI(
        base_url=f"{lab.platform.proxied_url}/v1", api_key=key, max_retries=0,
        http_client=lab.http,
    )  # fmt: skip
    before = {r["request_id"] for r in lab.comparisons("chat-completions")}
    for seed in range(3):
        stream = chat.chat.completions.create(
            model="sarvam-m", messages=[{"role": "user", "content": "Tell me about banyans"}],
            stream=True, stream_options={"include_usage": True}, seed=seed,
        )  # fmt: skip
        chunks = list(stream)
        assert chunks[-1].usage is not None  # the customer's stream kept its usage chunk
    rows = lab.wait_compared("chat-completions", len(before) + 3)
    streamed = [r for r in rows if r["request_id"] not in before]
    assert [r["outcome"] for r in streamed] == ["mismatched"] * 3
    assert all("$sse.usage" in r["fields"] for r in streamed)
    route = lab.route("chat-completions")
    kinds = {d["path"]: d["kind"] for d in route["top_diffs"]}
    assert kinds.pop("$sse.usage") == "removed"
    # one event fewer: its consequences for the stream's shape, and nothing else
    assert set(kinds) <= {"$sse.count", "$sse.order"}, kinds


def test_a_websocket_that_drops_its_final_message_is_caught(lab: ShadowLab, key: str) -> None:
    url = lab.platform.proxied_url.replace("http", "ws") + "/text-to-speech/ws"

    async def session() -> list[dict[str, Any]]:
        got = []
        async with connect(url + "?send_completion_event=true",
                           additional_headers={"api-subscription-key": key}) as ws:  # fmt: skip
            await ws.send(json.dumps({"type": "config", "data": {
                "language_code": "en-IN", "speech_sample_rate": 16000}}))  # fmt: skip
            await ws.send(json.dumps({"type": "text", "data": {"text": "One. Two."}}))
            await ws.send(json.dumps({"type": "flush"}))
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 30))
                got.append(message)
                if message["type"] == "event":
                    return got

    messages = asyncio.run(session())
    assert messages[-1]["data"]["event_type"] == "final"  # the customer got legacy's session
    (row,) = lab.wait_compared("text-to-speech-ws", 1)
    assert row["outcome"] == "mismatched", row
    route = lab.route("text-to-speech-ws")
    assert [(d["path"], d["kind"]) for d in route["top_diffs"]] == [("$ws[*]", "removed")]


def test_a_two_percent_overcharge_is_a_billing_delta(lab: ShadowLab, key: str) -> None:
    sdk = lab.sdk(key)
    for word in ("नमस्ते दुनिया", "धन्यवाद", "शुभ प्रभात"):
        sdk.text.transliterate(
            input=word * 10, source_language_code="hi-IN", target_language_code="en-IN"
        )
    lab.wait_compared("transliterate", 3)
    deadline = time.monotonic() + 30
    while (billing := lab.route("transliterate")["billing"])["requests"] < 3:
        assert time.monotonic() < deadline, billing
        time.sleep(0.5)
    assert billing["delta_ratio"] == pytest.approx(0.02, abs=0.001)
    assert billing["delta_credits"] > 0
    assert billing["missing"] == 0
    assert lab.route("transliterate")["mismatched"] == 0  # the answers themselves agree


def test_five_percent_slow_shows_in_the_candidates_p99(lab: ShadowLab, key: str) -> None:
    ids = [f"models-{uuid.uuid4().hex}" for _ in range(60)]
    slow = sum(_is_slow(i) for i in ids)
    for request_id in ids:
        response = httpx.get(
            f"{lab.platform.proxied_url}/v1/models",
            headers={"Authorization": f"Bearer {key}", "X-Request-ID": request_id},
        )
        assert response.status_code == 200
    lab.wait_compared("models", 60)
    latency = lab.route("models")["latency_ms"]
    if slow >= 2:  # p99 of 60 is the 60th value; with ≥ 2 slow it is a slow one
        assert latency["candidate"]["p99"] >= 240
        assert latency["legacy"]["p99"] < 100
    assert latency["candidate"]["p50"] < 100


def test_a_promotion_the_evidence_does_not_support_is_refused(lab: ShadowLab, key: str) -> None:
    # Its own evidence: this test must not depend on another having sent text-lid traffic.
    sdk = lab.sdk(key)
    before = len(lab.comparisons("text-lid"))
    for text in ("नमस्ते दुनिया", "வணக்கம்"):
        sdk.text.identify_language(input=text)
    lab.wait_compared("text-lid", before + 2)
    refused = httpx.post(
        f"{lab.platform.admin_url}/routes/text-lid/promote",
        headers={"Authorization": f"Bearer {lab.platform.admin_token}"},
        json={"reason": "looks fine to me"},
    )
    assert refused.status_code == 409, refused.text
    gates = {g["gate"]: g["message"] for g in refused.json()["gates"]}
    compared = lab.route("text-lid")["compared"]
    if compared < 5:
        assert gates["compared"] == f"compared {compared} < 5 over 1h"
    assert gates["parity"].startswith("parity 0.000 < 0.990")  # every text-lid answer differed
    route = httpx.get(
        f"{lab.platform.admin_url}/routes/text-lid",
        headers={"Authorization": f"Bearer {lab.platform.admin_token}"},
    ).json()
    assert route["mode"] == "shadow"


# -- a broken candidate changes nothing for the customer ---------------------------------------


@pytest.mark.parametrize(
    ("fault", "kind"),
    [("hang", "timeout"), ("crash", "server_error"), ("garbage", "garbage"), ("reset", "reset")],
)
def test_a_broken_candidate_changes_nothing_live(
    lab: ShadowLab, key: str, fault: str, kind: str
) -> None:
    request_id = f"fault-{fault}-{uuid.uuid4().hex[:8]}"
    headers = {"api-subscription-key": key, "X-Planted-Fault": fault, "X-Request-ID": request_id}
    body = {"input": "नमस्ते दुनिया"}
    direct = httpx.post(f"{lab.platform.direct_url}/text-lid", headers=headers, json=body)
    started = time.monotonic()
    live = httpx.post(f"{lab.platform.proxied_url}/text-lid", headers=headers, json=body)
    assert time.monotonic() - started < 1.0  # never waits for the candidate
    assert live.status_code == direct.status_code == 200
    assert live.json()["script_code"] == direct.json()["script_code"] == "Deva"
    deadline = time.monotonic() + 30
    while not (rows := [r for r in lab.comparisons("text-lid") if r["request_id"] == request_id]):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    (row,) = rows
    assert (row["outcome"], row["error"]) == ("candidate_error", kind), row
    metrics = httpx.get(f"{lab.shadow_url}/metrics").text
    assert f'banyan_shadow_candidate_errors_total{{route="text-lid",kind="{kind}"}}' in metrics


def test_a_candidate_that_is_gone_is_a_connect_error(lab: ShadowLab, key: str) -> None:
    response = httpx.get(
        f"{lab.platform.proxied_url}/v2/models", headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 200
    (row,) = lab.wait_compared("models-v2", 1)
    assert (row["outcome"], row["error"]) == ("candidate_error", "connect_error")
    metrics = httpx.get(f"{lab.shadow_url}/metrics").text
    assert 'banyan_shadow_dropped_total{route="models-v2",reason="connect_error"} 1' in metrics

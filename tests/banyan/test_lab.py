"""`banyan up` as a user runs it: a real process, real servers, real signals."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import psutil
import pytest
from websockets.sync.client import connect as ws_connect

from banyan.labfile import LabNotReadyError, wait_for_lab
from banyan.launcher import claim_port

LAB_START_BUDGET_S = 60.0


@dataclass
class RunningLab:
    process: subprocess.Popen[bytes]
    info: dict
    started_in: float
    output: Path

    def descendants(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children(recursive=True)


def lab_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(extra)
    return env


def up_argv(state_dir: Path, legacy_port: int = 0) -> list[str]:
    """`banyan up` with throwaway stores on free ports, so parallel tests never collide."""
    return [
        sys.executable, "-m", "banyan", "up", "--state-dir", str(state_dir), "--ephemeral",
        "--postgres-port", "0", "--redis-port", "0", "--legacy-port", str(legacy_port),
        "--proxy-port", "0", "--admin-port", "0", "--inference-port", "0", "--shadow-port", "0",
        "--candidate-port", "0", "--worker-port", "0",
    ]  # fmt: skip


def start_lab(state_dir: Path, env: dict[str, str]) -> RunningLab:
    output = state_dir.parent / f"{state_dir.name}.out"
    started = time.monotonic()
    with output.open("wb") as out:
        process = subprocess.Popen(
            up_argv(state_dir), stdout=out, stderr=subprocess.STDOUT, env=env
        )
    try:
        info = wait_for_lab(state_dir, process, within=LAB_START_BUDGET_S)
    except LabNotReadyError as exc:
        process.kill()
        pytest.fail(f"{exc}:\n{output.read_text()}")
    return RunningLab(process, info, time.monotonic() - started, output)


@pytest.fixture
def lab(tmp_path) -> Iterator[RunningLab]:
    running = start_lab(tmp_path / "state", lab_env())
    yield running
    if running.process.poll() is None:
        running.process.send_signal(signal.SIGINT)
        running.process.wait(30)
    # A SIGKILLed lab cannot remove its ephemeral store directories; the test does.
    shutil.rmtree(Path(running.info["postgres"]["data_dir"]).parent, ignore_errors=True)
    shutil.rmtree(running.info["redis"]["data_dir"], ignore_errors=True)


def gone(processes: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """The processes still alive (zombies count as dead) after up to ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    alive = processes
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        time.sleep(0.05)
    return alive


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_up_is_ready_within_budget_and_describes_itself(lab: RunningLab) -> None:
    assert lab.started_in < LAB_START_BUDGET_S
    info = lab.info
    for key in (
        "database_url",
        "redis_url",
        "legacy_url",
        "inference_url",
        "candidate_url",
        "proxy_url",
        "admin_url",
        "admin_token",
        "internal_token",
        "log_dir",
        "state_dir",
        "pid",
        "started_at",
    ):
        assert info[key], key
    assert info["postgres"]["embedded"]
    assert info["redis"]["embedded"]
    health = httpx.get(info["legacy_url"] + "/healthz", timeout=5)
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "postgres": "ok", "redis": "ok"}
    proxied = httpx.get(info["proxy_url"] + "/healthz", timeout=5)
    assert proxied.status_code == 200
    assert proxied.headers["x-banyan-served-by"] == "legacy"
    assert proxied.json() == health.json()
    assert httpx.get(info["admin_url"] + "/healthz", timeout=5).json()["routes"] >= 1
    metrics = httpx.get(
        info["admin_url"] + "/metrics", headers={"Authorization": f"Bearer {info['admin_token']}"}
    )
    assert "banyan_proxy_requests_total" in metrics.text
    # the shadow process is up and the proxy's feed reaches it over the socket
    deadline = time.monotonic() + 10
    while httpx.get(info["shadow_url"] + "/healthz", timeout=5).json()["connections"] < 1:
        assert time.monotonic() < deadline, "the proxy never connected to the shadow socket"
        time.sleep(0.1)
    assert "banyan_shadow_received_total" in httpx.get(info["shadow_url"] + "/metrics").text
    assert info["demo_api_key"].startswith("sk_")
    shown = subprocess.run(
        [sys.executable, "-m", "banyan", "tenants", "show", "demo", "--json",
         "--state-dir", info["state_dir"]],
        capture_output=True, text=True, env=lab_env(), timeout=60,
    )  # fmt: skip
    assert json.loads(shown.stdout)["wallet"]["balance"] == "1000.0000"
    # The Go candidate is built and up; a ported route is shadowed from the first request.
    assert httpx.get(info["candidate_url"] + "/healthz", timeout=5).status_code == 200
    key = {"api-subscription-key": info["demo_api_key"]}
    lid = httpx.post(
        info["proxy_url"] + "/text-lid", json={"input": "नमस्ते दुनिया"}, headers=key, timeout=10
    )
    assert lid.status_code == 200, lid.text
    assert lid.headers["x-banyan-served-by"] == "legacy"
    ported = {
        "translate": ("/translate", {"input": "Hello", "source_language_code": "en-IN",
                                     "target_language_code": "hi-IN"}),
        "chat-completions": ("/v1/chat/completions", {
            "model": "sarvam-m", "messages": [{"role": "user", "content": "Hello!"}]}),
    }  # fmt: skip
    for path, body in ported.values():
        answer = httpx.post(info["proxy_url"] + path, json=body, headers=key, timeout=30)
        assert answer.status_code == 200, answer.text
    # A text-to-speech session (mp3, the socket's default: the candidate's own encoder, so
    # its audio is compared as sound).
    socket_url = info["proxy_url"].replace("http", "ws") + "/text-to-speech/ws"
    with ws_connect(f"{socket_url}?send_completion_event=true", additional_headers=key) as ws:
        ws.send(json.dumps({"type": "config", "data": {"language_code": "en-IN"}}))
        ws.send(json.dumps({"type": "text", "data": {"text": "The lab speaks."}}))
        ws.send(json.dumps({"type": "flush"}))
        kinds = []
        while not kinds or kinds[-1] != "event":
            kinds.append(json.loads(ws.recv(timeout=30))["type"])
    assert kinds[0] == "audio", kinds
    # A speech-to-text session on speech the lab made: VAD events and a transcript, whose
    # interleaving is timing (compared type by type: banyan.yaml's messages: by_type).
    wav = httpx.post(info["proxy_url"] + "/text-to-speech", headers=key, timeout=30, json={
        "text": "Hello from the lab, one two three.", "language_code": "en-IN"})  # fmt: skip
    assert wav.status_code == 200, wav.text
    stt_url = info["proxy_url"].replace("http", "ws") + "/speech-to-text/ws"
    with ws_connect(
        f"{stt_url}?language-code=en-IN&vad_signals=true", additional_headers=key
    ) as ws:
        audio = {"data": wav.json()["audios"][0], "sample_rate": 22050, "encoding": "audio/wav"}
        ws.send(json.dumps({"audio": audio}))
        ws.send(json.dumps({"type": "flush"}))
        kinds = []
        while "data" not in kinds:
            kinds.append(json.loads(ws.recv(timeout=30))["type"])
    # Every ported route is compared as soon as traffic flows, and agrees (the chat's own
    # completion id and timestamp are named ignore rules in banyan.yaml).
    for route in ("text-lid", *ported, "text-to-speech-ws", "speech-to-text-ws"):
        counted = f'banyan_shadow_outcomes_total{{route="{route}"'
        while counted not in (metrics := httpx.get(info["shadow_url"] + "/metrics").text):
            assert time.monotonic() < deadline + 30, f"the {route} request was never compared"
            time.sleep(0.1)
        outcomes = [line for line in metrics.splitlines() if line.startswith(counted)]
        assert all('outcome="matched"' in o or 'outcome="ignored"' in o for o in outcomes), outcomes
    speech = httpx.post(info["inference_url"] + "/v1/tts", json={"text": "lab"}, timeout=10)
    assert speech.headers["x-sample-rate"] == "22050"
    names = {p.name() for p in lab.descendants()}
    assert "postgres" in names
    assert any(name.startswith("valkey") for name in names)


def test_ctrl_c_stops_everything_and_frees_every_port(lab: RunningLab) -> None:
    descendants = lab.descendants()
    ports = [
        lab.info["postgres"]["port"],
        lab.info["redis"]["port"],
        *(
            int(lab.info[key].rsplit(":", 1)[1])
            for key in ("legacy_url", "inference_url", "proxy_url", "admin_url")
        ),
    ]
    lab.process.send_signal(signal.SIGINT)
    assert lab.process.wait(30) == 0
    assert gone(descendants, 5) == []
    assert all(port_is_free(p) for p in ports)
    assert not (Path(lab.info["state_dir"]) / "lab.json").exists()
    assert "nothing left running" in lab.output.read_text()


def test_sigkill_of_the_lab_leaves_no_orphan_server(lab: RunningLab) -> None:
    descendants = lab.descendants()
    assert len(descendants) >= 3
    lab.process.kill()
    lab.process.wait(5)
    alive = gone(descendants, 10)
    assert alive == [], f"orphans: {[(p.pid, p.name()) for p in alive]}"


def test_external_stores_are_used_and_none_is_started(tmp_path, database_url, redis_url) -> None:
    env = lab_env(DATABASE_URL=database_url, REDIS_URL=redis_url)
    running = start_lab(tmp_path / "state", env)
    try:
        info = running.info
        assert info["database_url"] == database_url
        assert info["redis_url"] == redis_url
        assert not info["postgres"]["embedded"]
        assert not info["redis"]["embedded"]
        names = {p.name() for p in running.descendants()}
        assert "postgres" not in names
        assert not any(name.startswith("valkey") for name in names)
        assert httpx.get(info["legacy_url"] + "/healthz", timeout=5).status_code == 200

        async def legacy_is_connected() -> bool:
            conn = await asyncpg.connect(database_url)
            try:
                # The lab migrated this very database, and legacy holds a pool on it.
                assert await conn.fetchval(
                    "SELECT to_regclass('banyan_schema_migrations') IS NOT NULL"
                )
                count = await conn.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND pid <> pg_backend_pid()"
                )
                return bool(count and count >= 1)
            finally:
                await conn.close()

        import asyncio

        assert asyncio.run(legacy_is_connected())
    finally:
        running.process.send_signal(signal.SIGINT)
        assert running.process.wait(30) == 0


def test_a_second_lab_on_the_same_state_dir_is_refused(lab: RunningLab) -> None:
    done = subprocess.run(
        up_argv(Path(lab.info["state_dir"])),
        capture_output=True,
        text=True,
        env=lab_env(),
        timeout=60,
    )
    assert done.returncode == 1
    assert "already running" in done.stderr
    assert str(lab.process.pid) in done.stderr
    assert "Traceback" not in done.stderr
    assert httpx.get(lab.info["legacy_url"] + "/healthz", timeout=5).status_code == 200


def test_a_busy_service_port_fails_clearly_and_stops_the_stores(tmp_path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        busy = sock.getsockname()[1]
        state_dir = tmp_path / "state"
        done = subprocess.run(
            up_argv(state_dir, legacy_port=busy),
            capture_output=True,
            text=True,
            env=lab_env(),
            timeout=60,
        )
    assert done.returncode == 1
    assert f"127.0.0.1:{busy} is already in use" in done.stderr
    assert "--legacy-port" in done.stderr
    assert "Traceback" not in done.stderr
    assert "database system is shut down" in (state_dir / "logs" / "postgres.log").read_text()
    assert "ready to exit" in (state_dir / "logs" / "redis.log").read_text()
    assert not (state_dir / "lab.json").exists()


def test_legacy_runs_alone_against_given_stores(tmp_path, database_url, redis_url) -> None:
    port = claim_port("legacy", "127.0.0.1", 0, hint="")
    log = tmp_path / "legacy.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "banyan",
                "legacy",
                "--port",
                str(port),
                "--database-url",
                database_url,
                "--redis-url",
                redis_url,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=lab_env(),
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, "legacy exited"
                assert time.monotonic() < deadline, "legacy not up in 30s"
                time.sleep(0.05)
        assert response.json()["status"] == "ok"
    finally:
        process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal so the exit status shows it.
        assert process.wait(15) == -signal.SIGTERM
    assert "Application shutdown complete" in log.read_text()

"""Legacy against the Go candidate on the routes it has ported: latency and throughput.

The brief's promise is "the same answers, the same latency or better". This starts a lab
(``banyan up``: temporary state directory, free ports), checks that both sides answer each
route's request 200, then POSTs it with wrk to legacy and to the candidate directly (no
proxy: its cost is ``bench_proxy.py``'s subject), in interleaved rounds and two load shapes:
``c1`` (one connection: a request's latency) and ``c8`` (eight connections on two threads:
throughput with both cores busy). The Markdown report gives per route and shape the median
over rounds of p50, p99 and requests/s for each side, and the candidate's differences.

Both sides call the same inference server, so a difference is platform code, not the model.
Every request carries ``X-Banyan-Shadow: 1``: neither side consumes the demo tenant's rate
limit or wallet (both bill the shadow ledger, a row per request), so the numbers are not
shaped by a refusal; the one thing skipped on both alike is the limiter's Redis call.

    .venv/bin/python loadtest/bench_candidate.py                  # 3 rounds x 10 s: ~5 min
    .venv/bin/python loadtest/bench_candidate.py --quick          # 1 round x 3 s
    .venv/bin/python loadtest/bench_candidate.py --out .banyan/bench_candidate.md

Needs ``wrk`` (``make bench`` installs it). Reports, never gates; loopback only, every wrk run
bounded by ``-d``, the lab stopped with SIGINT in a ``finally``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_proxy import (  # a sibling script, not a package
    WRK_SLACK_S,
    BenchError,
    WrkResult,
    cpu_model,
    parse_wrk,
    run_wrk,
    tool_version,
)

from banyan.labfile import wait_for_lab

LAB_READY_S = 180.0  # a first `banyan up` builds the candidate (~30 s) besides initdb


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    path: str
    body: dict[str, Any]


# One valid request per ported route, as an SDK would send it. The Devanagari text-lid asks
# the inference server's LID model (a shared script); the chat completion is short.
ROUTES = (
    Route("text-lid", "/text-lid", {"input": "नमस्ते, आप कैसे हैं?"}),
    Route("transliterate", "/transliterate", {
        "input": "namaste duniya", "source_language_code": "en-IN",
        "target_language_code": "hi-IN"}),
    Route("translate", "/translate", {
        "input": "Hello, how are you today?", "source_language_code": "en-IN",
        "target_language_code": "hi-IN"}),
    Route("chat-completions", "/v1/chat/completions", {
        "model": "sarvam-m", "messages": [{"role": "user", "content": "Hello!"}],
        "max_tokens": 16}),
    # Speech at the model's rate (no resampling): WAV is legacy's bytes; MP3 is LAME against
    # the candidate's own encoder.
    Route("text-to-speech", "/text-to-speech", {
        "text": "Hello, how are you today?", "language_code": "en-IN"}),
    Route("text-to-speech-mp3", "/text-to-speech", {
        "text": "Hello, how are you today?", "language_code": "en-IN",
        "output_audio_codec": "mp3"}),
)  # fmt: skip
SIDES = ("legacy", "candidate")


@dataclass(frozen=True, slots=True)
class Shape:
    name: str
    threads: int
    connections: int


SHAPES = (Shape("c1", 1, 1), Shape("c8", 2, 8))


@dataclass(frozen=True, slots=True)
class Run:
    route: str
    side: str
    shape: str
    result: WrkResult


def start_lab(state_dir: Path, log: Path) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    ports = (
        "postgres",
        "redis",
        "legacy",
        "inference",
        "proxy",
        "admin",
        "shadow",
        "candidate",
        "worker",
    )
    argv = [sys.executable, "-m", "banyan", "up", "--state-dir", str(state_dir)]
    for name in ports:
        argv += [f"--{name}-port", "0"]
    with log.open("wb") as out:
        process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
    return process, wait_for_lab(state_dir, process, within=LAB_READY_S)


def stop_lab(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()


def check(urls: dict[str, str], key: str) -> None:
    """Each side answers each route's request 200, or there is nothing to measure."""
    headers = {"api-subscription-key": key, "X-Banyan-Shadow": "1"}
    for route in ROUTES:
        for side, base in urls.items():
            answer = httpx.post(base + route.path, json=route.body, headers=headers, timeout=30)
            if answer.status_code != 200:
                raise BenchError(f"{side} {route.path}: {answer.status_code} {answer.text[:300]}")


def wrk_script(route: Route, key: str) -> str:
    body = json.dumps(route.body, ensure_ascii=False)
    return (
        'wrk.method = "POST"\n'
        f"wrk.body = [==[{body}]==]\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["api-subscription-key"] = "{key}"\n'
        'wrk.headers["X-Banyan-Shadow"] = "1"\n'
    )


def measure(urls: dict[str, str], key: str, rounds: int, duration_s: int, tmp: Path) -> list[Run]:
    """Interleaved: every route, side and shape once per round, so drift spreads evenly."""
    runs = []
    for round_ in range(1, rounds + 1):
        for route in ROUTES:
            script = tmp / f"{route.name}.lua"
            script.write_text(wrk_script(route, key))
            for shape in SHAPES:
                for side in SIDES:
                    argv = ["wrk", f"-t{shape.threads}", f"-c{shape.connections}",
                            f"-d{duration_s}s", "--latency", "-s", str(script),
                            urls[side] + route.path]  # fmt: skip
                    log = tmp / f"wrk-{route.name}-{side}-{shape.name}-{round_}.txt"
                    result = parse_wrk(run_wrk(argv, log, duration_s + WRK_SLACK_S))
                    runs.append(Run(route.name, side, shape.name, result))
                    print(f"round {round_}/{rounds} {route.name:<17} {shape.name} {side:<9} "
                          f"{result.rps:>8.0f} rps  p50 {result.p50_ms:.3f} ms  "
                          f"p99 {result.p99_ms:.3f} ms {' '.join(result.problems)}",
                          file=sys.stderr)  # fmt: skip
    return runs


def report(runs: Sequence[Run], command: str, started: dt.datetime) -> str:
    def median(route: str, side: str, shape: str, field: str) -> float:
        values = [getattr(r.result, field) for r in runs
                  if (r.route, r.side, r.shape) == (route, side, shape)]  # fmt: skip
        return statistics.median(values)

    problems = sorted(
        {f"{r.route} {r.side} {r.shape}: {p}" for r in runs for p in r.result.problems}
    )
    lines = [
        f"Legacy vs Go candidate, direct (no proxy); {started:%Y-%m-%d %H:%M} UTC",
        "",
        "```sh",
        command,
        "```",
        "",
        f"- machine: {os.cpu_count()} cores, {cpu_model()}; {tool_version(['wrk', '-v'])}",
        "- medians over rounds; Δ = candidate - legacy; rps ratio = candidate / legacy",
        "",
    ]
    for shape in SHAPES:
        lines += [
            f"**{shape.name} (`wrk -t{shape.threads} -c{shape.connections}`)**",
            "",
            "| route | legacy p50 ms | candidate p50 ms | Δ p50 | legacy p99 ms | candidate p99 ms"
            " | Δ p99 | legacy rps | candidate rps | rps ratio |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for route in ROUTES:
            lp50, cp50 = (median(route.name, s, shape.name, "p50_ms") for s in SIDES)
            lp99, cp99 = (median(route.name, s, shape.name, "p99_ms") for s in SIDES)
            lrps, crps = (median(route.name, s, shape.name, "rps") for s in SIDES)
            lines.append(
                f"| {route.name} | {lp50:.3f} | {cp50:.3f} | {cp50 - lp50:+.3f} | {lp99:.3f} | "
                f"{cp99:.3f} | {cp99 - lp99:+.3f} | {lrps:.0f} | {crps:.0f} | {crps / lrps:.2f} |"
            )
        lines.append("")
    lines += ["Problems reported by wrk: " + ("; ".join(problems) if problems else "none"), ""]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--quick", action="store_true", help="1 round x 3 s")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    rounds, duration = (1, 3) if args.quick else (args.rounds, args.duration)
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install -y wrk (make bench installs it)")
    command = shlex.join(["python", "loadtest/bench_candidate.py", *(argv or sys.argv[1:])])
    started = dt.datetime.now(dt.UTC)
    with tempfile.TemporaryDirectory(prefix="banyan-bench-") as name:
        tmp = Path(name)
        os.chmod(tmp, 0o755)  # PostgreSQL runs as nobody inside
        process, lab = start_lab(tmp / "lab", tmp / "lab.log")
        try:
            urls = {"legacy": lab["legacy_url"], "candidate": lab["candidate_url"]}
            check(urls, lab["demo_api_key"])
            runs = measure(urls, lab["demo_api_key"], rounds, duration, tmp)
        finally:
            stop_lab(process)
    text = report(runs, command, started)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)


if __name__ == "__main__":
    main()

"""What the Banyan proxy costs on the hot path, next to going direct and next to NGINX.

It starts, on 127.0.0.1 with free ports and a private temp directory each: a static NGINX
upstream (``/bench`` answers a fixed ~1 KB JSON body), a second static NGINX as mirror sink,
NGINX as a keep-alive reverse proxy (``nginx-proxy``), the same with ``mirror``
(``nginx-mirror``), and two Banyan proxies: route mode ``legacy`` (``banyan``) and mode
``shadow`` with sample 1.0 (``banyan-shadow``). Then ``wrk`` POSTs a ~1 KB JSON body to each
target's ``/bench`` under two load shapes: ``-t1 -c1`` (added latency) and ``-t2 -c32``
(throughput). Rounds are interleaved (round 1 runs every target, then round 2, ...) and the
report gives, per target and shape, the median over rounds of rps, p50 and p99. The Markdown
report goes to stdout (and to ``--out``); progress goes to stderr.

    .venv/bin/python loadtest/bench_proxy.py                 # 3 rounds x 10 s: ~5 minutes
    .venv/bin/python loadtest/bench_proxy.py --quick         # 1 round x 3 s: a smoke run
    .venv/bin/python loadtest/bench_proxy.py --rounds 5 --duration 20 --out /tmp/bench.md

Needs ``nginx`` and ``wrk`` on PATH; it installs nothing. The numbers are reported, never
gated: the issue's targets are printed as met / not met. Everything stays on loopback, every
wrk run is bounded by ``-d``, and every child (wrk included) is a
``banyan.launcher.ChildProcess``: stopped in a ``finally``, and killed by the kernel if this
script dies. What it deliberately doesn't do: pin CPUs, tune the kernel, or measure anything
but one small POST; wrk, NGINX and the proxy share the machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import httpx

from banyan.launcher import (
    ChildProcess,
    LauncherError,
    ProcessSpec,
    http_probe,
    wait_until_ready,
)

HOST = "127.0.0.1"
ADMIN_TOKEN = "bench"
TARGETS = ("direct", "banyan", "nginx-proxy", "banyan-shadow", "nginx-mirror")
# What gets a free port; "direct" is the upstream itself.
PORT_NAMES = (
    "upstream",
    "mirror-sink",
    "nginx-proxy",
    "nginx-mirror",
    "banyan",
    "banyan-admin",
    "banyan-shadow",
    "banyan-shadow-admin",
)
MISSING_TOOLS = "nginx and wrk are needed: apt-get install -y nginx wrk"
READY_WITHIN_S = 30.0
STOP_GRACE_S = 5.0
WRK_SLACK_S = 30.0  # on top of -d: wrk's own shutdown, and the last requests' 2 s timeout
BODY_BYTES = 1024

# The targets (reported, not gated): (label, metric key, limit, "<=" or ">=").
GOALS = (
    ("banyan added latency p50 at c1 vs direct", "banyan_added_p50", 0.1, "<=", "ms"),
    ("banyan added latency p99 at c1 vs direct", "banyan_added_p99", 1.5, "<=", "ms"),
    ("banyan / nginx-proxy rps at c32 (1 worker each)", "proxy_ratio", 0.5, ">=", "x"),
    ("banyan-shadow / nginx-mirror rps at c32 (100% mirrored)", "mirror_ratio", 1.3, ">=", "x"),
)


class BenchError(Exception):
    """The bench cannot give a number: a target answered wrongly, or wrk failed or timed out."""


@dataclass(frozen=True, slots=True)
class Shape:
    """One wrk load shape."""

    name: str
    threads: int
    connections: int
    purpose: str


SHAPES = (
    Shape("c1", 1, 1, "added latency"),
    Shape("c32", 2, 32, "throughput"),
)


@dataclass(frozen=True, slots=True)
class Options:
    duration_s: int
    rounds: int
    out: Path | None
    command: str


@dataclass(frozen=True, slots=True)
class WrkResult:
    """What one wrk run printed. ``problems`` lists socket errors and non-2xx/3xx lines."""

    rps: float
    p50_ms: float
    p99_ms: float
    problems: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Run:
    target: str
    shape: str
    round: int
    result: WrkResult


@dataclass(frozen=True, slots=True)
class Median:
    rps: float
    p50_ms: float
    p99_ms: float


# --- set-up: options, tools, ports, bodies ------------------------------------------------


def parse_options(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 round of 3 s")
    parser.add_argument("--out", type=Path, default=None, help="also write the report here")
    args = parser.parse_args(argv)
    duration, rounds = (3, 1) if args.quick else (args.duration, args.rounds)
    if duration < 1 or rounds < 1:
        parser.error("--duration and --rounds must be at least 1")
    return Options(duration, rounds, args.out, shlex.join(sys.orig_argv))


def require_tools() -> None:
    if shutil.which("nginx") is None or shutil.which("wrk") is None:
        sys.exit(MISSING_TOOLS)


def free_ports(count: int) -> list[int]:
    """Distinct free ports: all sockets are held open together, then closed, so the kernel
    cannot hand out one port twice. A child that loses the race fails its bind, loudly."""
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind((HOST, 0))
            ports.append(int(sock.getsockname()[1]))
        return ports


def json_body(kind: str) -> str:
    """A compact JSON object of exactly BODY_BYTES bytes, with no character that NGINX
    (``'``, ``$``, ``\\``) or a Lua long string (``]==]``) would read specially."""
    filler = "lorem ipsum dolor sit amet " * (BODY_BYTES // 16)
    empty = json.dumps({"object": kind, "text": ""}, separators=(",", ":"))
    text = filler[: BODY_BYTES - len(empty)]
    return json.dumps({"object": kind, "text": text}, separators=(",", ":"))


# --- the servers --------------------------------------------------------------------------


def nginx_conf(home: Path, http_body: str) -> str:
    """One worker, everything (logs, pid, temp files) inside ``home``: runs as root or not
    without touching /var."""
    temp = "\n".join(
        f"    {kind}_temp_path {home}/{kind}_temp;"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"worker_processes 1;\nerror_log {home}/error.log;\npid {home}/nginx.pid;\n"
        "events { worker_connections 1024; }\n"
        f"http {{\n    access_log off;\n    keepalive_requests 1000000;\n{temp}\n"
        f"{http_body}}}\n"
    )


def static_server(port: int, body: str) -> str:
    return (
        f"    server {{\n        listen {HOST}:{port};\n"
        "        location = /bench {\n            default_type application/json;\n"
        f"            return 200 '{body}';\n        }}\n    }}\n"
    )


def keepalive_upstream(name: str, port: int) -> str:
    return (
        f"    upstream {name} {{\n        server {HOST}:{port};\n        keepalive 64;\n"
        "        keepalive_requests 1000000;\n    }\n"
    )


_PROXY_TO = 'proxy_http_version 1.1;\n            proxy_set_header Connection "";\n'


def proxy_server(port: int, upstream: int, sink: int | None) -> str:
    """``nginx-proxy``, or ``nginx-mirror`` when ``sink`` is given."""
    blocks = keepalive_upstream("bench_upstream", upstream)
    mirror, mirror_location = "", ""
    if sink is not None:
        blocks += keepalive_upstream("mirror_sink", sink)
        mirror = "mirror /mirror;\n            mirror_request_body on;\n            "
        mirror_location = (
            "        location = /mirror {\n            internal;\n"
            f"            proxy_pass http://mirror_sink$request_uri;\n            {_PROXY_TO}"
            "        }\n"
        )
    return blocks + (
        f"    server {{\n        listen {HOST}:{port};\n"
        f"        location = /bench {{\n            {mirror}"
        f"proxy_pass http://bench_upstream;\n            {_PROXY_TO}        }}\n"
        f"{mirror_location}    }}\n"
    )


def nginx_spec(name: str, home: Path, http_body: str) -> ProcessSpec:
    home.mkdir(mode=0o755)
    conf = home / "nginx.conf"
    conf.write_text(nginx_conf(home, http_body))
    # -e: the error log before the config is read, else NGINX opens its compiled-in one.
    argv = ["nginx", "-p", f"{home}/", "-e", f"{home}/error.log", "-c", str(conf)]
    return ProcessSpec(name, [*argv, "-g", "daemon off;"], home / "stdout.log")


def banyan_spec(name: str, home: Path, mode: str, ports: tuple[int, int, int]) -> ProcessSpec:
    """``ports``: public, admin, upstream. The YAML points legacy at a dead port on purpose:
    ``--upstream`` moves it, as the lab does."""
    port, admin, upstream = ports
    home.mkdir(mode=0o755)
    shadow = "\n    shadow: {sample: 1.0}" if mode == "shadow" else ""
    (home / "banyan.yaml").write_text(
        "upstreams:\n  legacy: {url: http://127.0.0.1:1}\n"
        "  candidate: {url: http://127.0.0.1:2}\n"
        f"routes:\n  - name: bench\n    match: {{path: /bench}}\n    mode: {mode}{shadow}\n"
    )
    argv = [sys.executable, "-m", "banyan", "proxy", "--config", str(home / "banyan.yaml")]
    argv += ["--host", HOST, "--port", str(port), "--admin-port", str(admin)]
    argv += ["--state-dir", str(home), "--upstream", f"legacy=http://{HOST}:{upstream}"]
    env = {**os.environ, "BANYAN_ADMIN_TOKEN": ADMIN_TOKEN, "BANYAN_LOG_LEVEL": "WARNING"}
    return ProcessSpec(name, argv, home / "stdout.log", env=env, cwd=home)


def server_specs(tmp: Path, ports: dict[str, int], body: str) -> list[tuple[ProcessSpec, str]]:
    """Every server, in start order, with the URL that answers 200 once it is ready."""
    upstream, sink = ports["upstream"], ports["mirror-sink"]
    nginx = {
        "upstream": static_server(upstream, body),
        "mirror-sink": static_server(sink, body),
        "nginx-proxy": proxy_server(ports["nginx-proxy"], upstream, None),
        "nginx-mirror": proxy_server(ports["nginx-mirror"], upstream, sink),
    }
    specs = [
        (nginx_spec(name, tmp / name, conf), f"http://{HOST}:{ports[name]}/bench")
        for name, conf in nginx.items()
    ]
    for name, mode in (("banyan", "legacy"), ("banyan-shadow", "shadow")):
        admin = ports[f"{name}-admin"]
        spec = banyan_spec(name, tmp / name, mode, (ports[name], admin, upstream))
        specs.append((spec, f"http://{HOST}:{admin}/healthz"))
    return specs


def start_servers(specs: list[tuple[ProcessSpec, str]], children: list[ChildProcess]) -> None:
    """Start each server and wait for its probe. ``children`` is the caller's, filled as
    they start, so the caller's ``finally`` stops whatever did start."""
    for spec, ready_url in specs:
        child = ChildProcess(spec)
        child.start()
        children.append(child)
        asyncio.run(wait_until_ready(child, http_probe(ready_url), within=READY_WITHIN_S))
        print(f"started {spec.name} (pid {child.pid})", file=sys.stderr)


def stop_all(children: Sequence[ChildProcess]) -> None:
    """SIGTERM every child at once, SIGKILL its process group after STOP_GRACE_S."""

    async def stop() -> None:
        await asyncio.gather(*(child.stop(grace=STOP_GRACE_S) for child in children))

    asyncio.run(stop())


def check_targets(urls: dict[str, str], request: str, expected: str) -> None:
    """Before measuring: every target answers the POST with 200 and the upstream's body, so
    wrk is timing the right thing."""
    headers = {"Content-Type": "application/json"}
    with httpx.Client(timeout=5.0) as client:
        for target, url in urls.items():
            response = client.post(url, content=request, headers=headers)
            if response.status_code != 200 or response.text != expected:
                got = f"{response.status_code} {response.text[:300]!r}"
                raise BenchError(f"{target} ({url}) answered {got}, not 200 and the body")


# --- wrk ----------------------------------------------------------------------------------


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)\s*$", re.MULTILINE)
_PERCENTILE = {
    p: re.compile(rf"^\s*{p}(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE) for p in (50, 99)
}
# wrk prints these lines only when the count is not zero.
_PROBLEM_PREFIXES = ("Socket errors:", "Non-2xx or 3xx responses:")


def wrk_script(body: str) -> str:
    return (
        'wrk.method = "POST"\n'
        f"wrk.body = [==[{body}]==]\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
    )


def wrk_argv(shape: Shape, duration_s: int, script: Path, url: str) -> list[str]:
    threads, connections = f"-t{shape.threads}", f"-c{shape.connections}"
    return ["wrk", threads, connections, f"-d{duration_s}s", "--latency", "-s", str(script), url]


def run_wrk(argv: list[str], log_path: Path, limit_s: float) -> str:
    """Run wrk to completion (its output goes to ``log_path``) and return what it printed.
    wrk is a ChildProcess too, so it cannot outlive this script either."""
    child = ChildProcess(ProcessSpec("wrk", argv, log_path))
    child.start()
    try:
        deadline = time.monotonic() + limit_s
        while child.returncode() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        timed_out = child.returncode() is None
    finally:
        code = asyncio.run(child.stop(grace=STOP_GRACE_S))
    output = log_path.read_text(errors="replace")
    if timed_out or code != 0:
        why = f"still running after {limit_s:.0f}s" if timed_out else f"exited with {code}"
        raise BenchError(f"{shlex.join(argv)}: {why}\n{output}")
    return output


def _match(pattern: re.Pattern[str], text: str) -> re.Match[str]:
    found = pattern.search(text)
    if found is None:
        raise BenchError(f"no {pattern.pattern!r} in wrk's output:\n{text}")
    return found


def parse_wrk(text: str) -> WrkResult:
    """Requests/sec, the 50th and 99th latency percentiles in ms, and any error lines."""
    latency = {}
    for percent, pattern in _PERCENTILE.items():
        found = _match(pattern, text)
        latency[percent] = float(found[1]) * _UNIT_MS[found[2]]
    problems = tuple(
        line.strip() for line in text.splitlines() if line.strip().startswith(_PROBLEM_PREFIXES)
    )
    return WrkResult(
        rps=float(_match(_RPS, text)[1]),
        p50_ms=latency[50],
        p99_ms=latency[99],
        problems=problems,
    )


def measure(options: Options, urls: dict[str, str], script: Path, logs: Path) -> list[Run]:
    """Interleaved: each round runs every shape against every target before the next round,
    so drift (thermal, noisy neighbours) spreads over all targets instead of one."""
    runs = []
    for round_ in range(1, options.rounds + 1):
        for shape in SHAPES:
            for target, url in urls.items():
                argv = wrk_argv(shape, options.duration_s, script, url)
                log = logs / f"wrk-{target}-{shape.name}-{round_}.txt"
                limit = options.duration_s + WRK_SLACK_S
                result = parse_wrk(run_wrk(argv, log, limit))
                runs.append(Run(target, shape.name, round_, result))
                print(
                    f"round {round_}/{options.rounds} {shape.name:>4} {target:<13} "
                    f"{result.rps:>9.0f} rps  p50 {result.p50_ms:.3f} ms  "
                    f"p99 {result.p99_ms:.3f} ms  {' '.join(result.problems)}",
                    file=sys.stderr,
                )
    return runs


def medians(runs: Sequence[Run]) -> dict[tuple[str, str], Median]:
    """(target, shape) -> the median of each figure over rounds, taken independently."""
    grouped: dict[tuple[str, str], list[WrkResult]] = {}
    for run in runs:
        grouped.setdefault((run.target, run.shape), []).append(run.result)
    return {
        key: Median(
            rps=statistics.median(r.rps for r in results),
            p50_ms=statistics.median(r.p50_ms for r in results),
            p99_ms=statistics.median(r.p99_ms for r in results),
        )
        for key, results in grouped.items()
    }


# --- what the proxies counted, and the machine --------------------------------------------

_SAMPLE = re.compile(r"^(banyan_proxy_\w+)\{(.*)\} (\d+)$")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def scrape(admin_port: int) -> dict[str, int]:
    """A Banyan process's counters from its admin ``/metrics``, summed into the few figures
    the report shows: ``requests status=<s>``, ``upstream errors``, ``mirror enqueued``,
    ``mirror skipped`` and ``mirror skipped reason=<r>``."""
    response = httpx.get(
        f"http://{HOST}:{admin_port}/metrics",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        timeout=5.0,
    )
    response.raise_for_status()
    sums: dict[str, int] = {"mirror enqueued": 0, "mirror skipped": 0, "upstream errors": 0}
    for line in response.text.splitlines():
        found = _SAMPLE.match(line)
        if found is None:
            continue
        name, labels, value = found[1], dict(_LABEL.findall(found[2])), int(found[3])
        for key in _summed_as(name, labels):
            sums[key] = sums.get(key, 0) + value
    return sums


def _summed_as(name: str, labels: dict[str, str]) -> list[str]:
    if name == "banyan_proxy_requests_total":
        return [f"requests status={labels.get('status', '?')}"]
    if name == "banyan_proxy_upstream_errors_total":
        return ["upstream errors"]
    if name == "banyan_proxy_mirror_enqueued_total":
        return ["mirror enqueued"]
    if name == "banyan_proxy_mirror_skipped_total":
        return ["mirror skipped", f"mirror skipped reason={labels.get('reason', '?')}"]
    return []


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                return value.strip()
    return platform.processor() or "unknown"


def tool_version(argv: list[str]) -> str:
    """First line of ``nginx -v`` / ``wrk -v`` (both print it and may exit non-zero)."""
    done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    lines = (done.stdout + done.stderr).strip().splitlines() or ["unknown"]
    return lines[0].removeprefix("nginx version: ").split(" Copyright")[0].strip()


def machine_lines() -> list[str]:
    return [
        f"- machine: {os.cpu_count()} cores, {cpu_model()}, Linux {platform.release()}",
        f"- software: Python {platform.python_version()}, {tool_version(['nginx', '-v'])}, "
        f"{tool_version(['wrk', '-v'])}",
    ]


# --- the report ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Results:
    """Everything measured, gathered before the servers are stopped."""

    runs: list[Run]
    counters: dict[str, dict[str, int]]  # banyan process name -> scrape()
    exited: list[str]  # servers that were no longer running after the last wrk run
    load: tuple[float, float]  # 1-minute load average before starting servers, after the runs


def derived(meds: dict[tuple[str, str], Median]) -> dict[str, float]:
    def added(target: str, field: str) -> float:
        value: float = getattr(meds[target, "c1"], field) - getattr(meds["direct", "c1"], field)
        return value

    return {
        "banyan_added_p50": added("banyan", "p50_ms"),
        "banyan_added_p99": added("banyan", "p99_ms"),
        "nginx_added_p50": added("nginx-proxy", "p50_ms"),
        "nginx_added_p99": added("nginx-proxy", "p99_ms"),
        "proxy_ratio": meds["banyan", "c32"].rps / meds["nginx-proxy", "c32"].rps,
        "mirror_ratio": meds["banyan-shadow", "c32"].rps / meds["nginx-mirror", "c32"].rps,
    }


def shape_section(
    shape: Shape, meds: dict[tuple[str, str], Median], d: dict[str, float]
) -> list[str]:
    lines = [
        f"## {shape.name}: wrk -t{shape.threads} -c{shape.connections} ({shape.purpose})",
        "",
        "| target | rps | p50 ms | p99 ms |",
        "| --- | ---: | ---: | ---: |",
    ]
    for target in TARGETS:
        m = meds[target, shape.name]
        lines.append(f"| {target} | {m.rps:.0f} | {m.p50_ms:.3f} | {m.p99_ms:.3f} |")
    lines.append("")
    if shape.name == "c1":
        for name, key in (("banyan", "banyan"), ("nginx-proxy", "nginx")):
            lines.append(
                f"- {name} added latency vs direct: p50 {d[key + '_added_p50']:+.3f} ms, "
                f"p99 {d[key + '_added_p99']:+.3f} ms"
            )
    else:
        lines.append(f"- banyan / nginx-proxy rps ratio: {d['proxy_ratio']:.2f}")
        lines.append(f"- banyan-shadow / nginx-mirror rps ratio: {d['mirror_ratio']:.2f}")
    return [*lines, ""]


def goals_section(d: dict[str, float]) -> list[str]:
    lines = [
        "## Targets from the issue (reported, not gated)",
        "",
        "| target | limit | measured | |",
        "| --- | ---: | ---: | --- |",
    ]
    for label, key, limit, op, unit in GOALS:
        value = d[key]
        met = value <= limit if op == "<=" else value >= limit
        shown = f"{value:.3f} ms" if unit == "ms" else f"{value:.2f}x"
        bound = f"{'≤' if op == '<=' else '≥'} {limit:g}{' ms' if unit == 'ms' else 'x'}"
        lines.append(f"| {label} | {bound} | {shown} | {'met' if met else 'not met'} |")
    return [*lines, ""]


def counters_section(counters: dict[str, dict[str, int]]) -> list[str]:
    lines = ["## Banyan's own counters (admin /metrics, after all runs)", ""]
    for process, sums in counters.items():
        shown = ", ".join(f"{key}: {value}" for key, value in sorted(sums.items()))
        lines.append(f"- {process}: {shown}")
    lines += [
        "",
        "Nothing consumes the mirror queue in this version (the shadow engine comes later), so "
        "banyan-shadow captures every exchange and offers it to the bounded queue (1024 "
        "records); once it is full every further record is dropped and counted as skipped "
        "(reason queue_full). banyan-shadow therefore pays for capturing and offering each "
        "exchange, not for replaying it, while nginx-mirror does send every request to its "
        "mirror sink.",
        "",
        "`requests status=0` counts exchanges whose client left before a response head was "
        "sent, and `client_disconnected` the mirror records skipped for that reason: when "
        "`-d` ends, wrk closes its connections with requests in flight (at most one per "
        "connection per run).",
        "",
    ]
    return lines


def problems_section(results: Results) -> list[str]:
    lines = ["## wrk errors and server exits", ""]
    for run in results.runs:
        for problem in run.result.problems:
            lines.append(f"- {run.target} {run.shape} round {run.round}: {problem}")
    for name in results.exited:
        lines.append(f"- {name} was no longer running after the last run")
    if len(lines) == 2:
        lines.append("none: no socket errors, no non-2xx/3xx responses, every server still up.")
    return [*lines, ""]


def render_report(options: Options, started: dt.datetime, results: Results) -> str:
    meds = medians(results.runs)
    d = derived(meds)
    lines = [
        "# Banyan proxy overhead vs direct and NGINX (wrk, loopback)",
        "",
        f"- command: `{options.command}`",
        f"- date: {started.isoformat(timespec='seconds')}",
        *machine_lines(),
        f"- 1-minute load average: {results.load[0]:.2f} before starting the servers, "
        f"{results.load[1]:.2f} after the last run",
        f"- method: {options.rounds} interleaved round(s) of {options.duration_s} s per target "
        "and shape; each figure is the median over rounds. wrk POSTs a "
        f"{BODY_BYTES}-byte JSON body to /bench; every target answers the static NGINX "
        f"upstream's {BODY_BYTES}-byte JSON body (checked before measuring). One NGINX "
        "worker per server, keep-alive upstreams; one Banyan proxy process. wrk, NGINX and "
        "the proxy share the cores.",
        "",
    ]
    for shape in SHAPES:
        lines += shape_section(shape, meds, d)
    lines += goals_section(d)
    lines += counters_section(results.counters)
    lines += problems_section(results)
    return "\n".join(lines).rstrip() + "\n"


# --- main ---------------------------------------------------------------------------------


def bench(options: Options, tmp: Path, started: dt.datetime) -> str:
    load_before = os.getloadavg()[0]
    ports = dict(zip(PORT_NAMES, free_ports(len(PORT_NAMES)), strict=True))
    request, response = json_body("bench.request"), json_body("bench.response")
    script = tmp / "post.lua"
    script.write_text(wrk_script(request))
    served_by = {target: "upstream" if target == "direct" else target for target in TARGETS}
    urls = {target: f"http://{HOST}:{ports[name]}/bench" for target, name in served_by.items()}
    admins = {name: ports[f"{name}-admin"] for name in ("banyan", "banyan-shadow")}
    children: list[ChildProcess] = []
    try:
        start_servers(server_specs(tmp, ports, response), children)
        check_targets(urls, request, response)
        runs = measure(options, urls, script, tmp)
        load = (load_before, os.getloadavg()[0])
        exited = [child.spec.name for child in children if not child.is_running()]
        counters = {name: scrape(port) for name, port in admins.items() if name not in exited}
    finally:
        stop_all(children)
    return render_report(options, started, Results(runs, counters, exited, load))


def exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    """SIGTERM becomes SystemExit, so the ``finally`` blocks stop every child."""
    del frame
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> None:
    options = parse_options(sys.argv[1:] if argv is None else argv)
    require_tools()
    signal.signal(signal.SIGTERM, exit_on_sigterm)
    started = dt.datetime.now(dt.UTC)
    with tempfile.TemporaryDirectory(prefix="banyan-bench-proxy-") as name:
        tmp = Path(name)
        tmp.chmod(0o755)  # NGINX workers drop to an unprivileged user when run as root
        try:
            report = bench(options, tmp, started)
        except (BenchError, LauncherError, httpx.HTTPError) as exc:
            sys.exit(f"bench_proxy: {exc}")
        except KeyboardInterrupt:
            sys.exit("bench_proxy: interrupted; every server was stopped")
    print(report, end="")
    if options.out is not None:
        options.out.write_text(report)


if __name__ == "__main__":
    main()

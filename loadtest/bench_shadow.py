"""What shadowing every request costs the live path: live p99 at a fixed rate, one route in
``legacy`` mode against one in ``shadow`` mode at sample 1.0 (issue 6: target ≤ 1.10x).

It starts, on 127.0.0.1 with free ports and a private temp directory: an embedded PostgreSQL
(the shadow store), two tiny upstreams standing for legacy and candidate (stdlib asyncio
servers answering a ~2 KB JSON body after ``--service-ms``; the candidate's answer differs in
one field, so every comparison finds a diff and does the differing path's work), the proxy
(``banyan proxy``) and the shadow process (``banyan shadow``) connected by its unix socket.
The route table has ``/legacy`` (mode legacy) and ``/shadow`` (mode shadow, sample 1.0,
noise_sample 0.05): same upstream, same proxy, so the only difference is the mirroring and
everything the shadow process does for it on the same two cores.

The load is **open loop** at ``--rate`` requests/s (a request is due at ``i / rate`` whether or
not earlier ones have finished; latency is measured from when it was due, so queueing shows,
no coordinated omission), POSTing ~1 KB JSON over ``--connections`` keep-alive connections.
Rounds are interleaved in ABBA order (legacy, shadow, shadow, legacy, …) and the report gives
per mode the median over rounds of p50, p99 and p99.9, then the ratio of the shadow p99 to the
legacy p99, plus the shadow process's outcome and drop counters so a run that silently dropped
mirrors cannot pass for a cheap one.

    .venv/bin/python loadtest/bench_shadow.py                    # 6 rounds x 10 s x 2 modes
    .venv/bin/python loadtest/bench_shadow.py --quick            # 1 round x 3 s: smoke run
    .venv/bin/python loadtest/bench_shadow.py --rate 800 --no-shadow-process

Reported, never gated. Every child is a ``banyan.launcher.ChildProcess`` stopped in a
``finally``; every load phase is bounded by its duration.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

from banyan.launcher import (
    ChildProcess,
    EmbeddedPostgres,
    ProcessSpec,
    claim_port,
    http_probe,
    wait_until_ready,
)
from banyan.migrations import apply_migrations, discover_migrations

HOST = "127.0.0.1"
ADMIN_TOKEN = "bench"
_SELF = str(Path(__file__).resolve())


@dataclass(frozen=True)
class Options:
    rate: float
    duration_s: float
    rounds: int
    connections: int
    service_ms: float
    out: Path | None
    shadow_process: bool = True


def parse_options(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=400.0, help="requests/s (default 400)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per phase")
    parser.add_argument("--rounds", type=int, default=6, help="ABBA rounds (default 6)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--service-ms", type=float, default=2.0, help="upstream think time")
    parser.add_argument("--quick", action="store_true", help="1 round x 3 s")
    parser.add_argument("--out", type=Path, help="also write the Markdown report here")
    parser.add_argument(
        "--no-shadow-process", action="store_true",
        help="the proxy mirrors with nobody reading (dropped, shadow_unavailable): the proxy's "
        "own share of the cost",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.duration = 1, 3.0
    return Options(args.rate, args.duration, args.rounds, args.connections, args.service_ms,
                   args.out, not args.no_shadow_process)  # fmt: skip


# -- the upstreams (run as child processes: `python bench_shadow.py --upstream PORT VARIANT`) --


def _answer_body(variant: str) -> bytes:
    items = [{"index": i, "text": f"token {i} of the answer", "score": i / 7} for i in range(24)]
    body = {"id": "same", "model": "bench-1", "variant": variant, "items": items}
    return json.dumps(body).encode()


def _unbilled(target: bytes) -> bytes:
    """Legacy's ledger answer (rfcs/0005 §7) for requests neither side billed."""
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(target.decode()).query)
    answer = json.dumps({"requests": [
        {"request_id": rid, "tenant_id": None, "live": [], "shadow": []}
        for rid in query.get("request_id", [])
    ]}).encode()  # fmt: skip
    return (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n"
        % len(answer)
        + answer
    )


async def _serve_upstream(port: int, variant: str, service_s: float) -> None:
    body = _answer_body(variant)
    head = (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
    )
    not_found = b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                header = await reader.readuntil(b"\r\n\r\n")
                match = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", header)
                if match:
                    await reader.readexactly(int(match[1]))
                path = header.split(b" ", 2)[1]
                if path.startswith(b"/healthz"):
                    writer.write(head + body)
                elif path.startswith((b"/legacy", b"/shadow")):
                    await asyncio.sleep(service_s)
                    writer.write(head + body)
                elif path.startswith(b"/internal/v1/ledger"):
                    writer.write(_unbilled(path))  # the billing joiner's lookups: free route
                else:
                    writer.write(not_found)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, HOST, port, backlog=1024)
    async with server:
        await server.serve_forever()


# -- the load ------------------------------------------------------------------------------


async def _load(port: int, path: str, rate: float, duration_s: float, conns: int) -> list[float]:
    """Open-loop load; latencies (ms) from each request's due time to its last byte."""
    payload = b'{"input": "' + b"x" * 1000 + b'"}'
    request = (
        f"POST {path} HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\n"
        f"api-subscription-key: bench\r\ncontent-length: {len(payload)}\r\n\r\n"
    ).encode() + payload
    idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(conns):
        idle.put_nowait(await asyncio.open_connection(HOST, port))
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    errors = 0

    async def one(due: float) -> None:
        nonlocal errors
        reader, writer = await idle.get()
        try:
            writer.write(request)
            header = await reader.readuntil(b"\r\n\r\n")
            match = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", header)
            await reader.readexactly(int(match[1]) if match else 0)
            if not header.startswith(b"HTTP/1.1 200"):
                errors += 1
            latencies.append((loop.time() - due) * 1000)
        finally:
            idle.put_nowait((reader, writer))

    start = loop.time() + 0.05
    total = int(rate * duration_s)
    tasks = []
    # The load generator's own garbage collector must not be measured: a full collection of
    # this process (thousands of live tasks) stalled every request in flight for 20-40 ms,
    # every ~30 s, whichever route mode was running. Collect between phases instead.
    gc.disable()
    try:
        for i in range(total):
            due = start + i / rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(due)))
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=duration_s + 30)
    finally:
        gc.enable()
        gc.collect()
    while not idle.empty():
        _, writer = idle.get_nowait()
        writer.close()
    if errors:
        print(f"  {errors} non-200 answers on {path}", file=sys.stderr)
    return latencies


def _quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- the lab ---------------------------------------------------------------------------------


def _config(legacy: int, candidate: int) -> str:
    return (
        "fleet: bench\nupstreams:\n"
        f"  legacy: {{url: http://{HOST}:{legacy}}}\n"
        f"  candidate: {{url: http://{HOST}:{candidate}}}\n"
        "routes:\n"
        "  - {name: legacy-route, match: {methods: [POST], path: /legacy}, mode: legacy}\n"
        "  - {name: shadow-route, match: {methods: [POST], path: /shadow}, mode: shadow,\n"
        "     shadow: {sample: 1.0, noise_sample: 0.05}}\n"
    )


def _counters(text: str, prefix: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith(prefix):
            name, _, value = line.rpartition(" ")
            out[name] = out.get(name, 0.0) + float(value)
    return out


async def _bench(options: Options, tmp: Path) -> str:
    children: list[ChildProcess] = []
    postgres = EmbeddedPostgres(data_dir=None, log_path=tmp / "postgres.log",
                                port=claim_port("pg", HOST, 0, hint=""), host=HOST)  # fmt: skip
    await postgres.start()
    try:
        database_url = postgres.url()
        conn = await asyncpg.connect(database_url)
        try:
            await apply_migrations(conn, discover_migrations())
        finally:
            await conn.close()
        ports = {n: claim_port(n, HOST, 0, hint="") for n in
                 ("legacy", "candidate", "proxy", "admin", "shadow")}  # fmt: skip
        config = tmp / "banyan.yaml"
        config.write_text(_config(ports["legacy"], ports["candidate"]))
        sock = tmp / "shadow.sock"
        env = {**os.environ, "BANYAN_ADMIN_TOKEN": ADMIN_TOKEN, "BANYAN_INTERNAL_TOKEN": "x",
               "BANYAN_LOG_LEVEL": "warning"}  # fmt: skip
        env.pop("DATABASE_URL", None)
        env.pop("REDIS_URL", None)
        py = sys.executable
        me = _SELF
        specs = [
            ("legacy", [py, me, "--upstream", str(ports["legacy"]), "legacy",
                        str(options.service_ms)], f"http://{HOST}:{ports['legacy']}/healthz"),
            ("candidate", [py, me, "--upstream", str(ports["candidate"]), "candidate",
                           str(options.service_ms)],
             f"http://{HOST}:{ports['candidate']}/healthz"),
            ("shadow", [py, "-m", "banyan", "shadow", "--config", str(config), "--port",
                        str(ports["shadow"]), "--state-dir", str(tmp), "--database-url",
                        database_url, "--socket", str(sock)],
             f"http://{HOST}:{ports['shadow']}/healthz"),
            ("proxy", [py, "-m", "banyan", "proxy", "--config", str(config), "--port",
                       str(ports["proxy"]), "--admin-port", str(ports["admin"]), "--state-dir",
                       str(tmp), "--shadow-socket", str(sock)],
             f"http://{HOST}:{ports['admin']}/healthz"),
        ]  # fmt: skip
        if not options.shadow_process:
            specs = [spec for spec in specs if spec[0] != "shadow"]
        for name, argv, health in specs:
            child = ChildProcess(ProcessSpec(name=name, argv=argv, env=env,
                                             log_path=tmp / f"{name}.log"))  # fmt: skip
            children.append(child)
            child.start()
            await wait_until_ready(child, http_probe(health), within=60)
        shadow_url = f"http://{HOST}:{ports['shadow']}"
        async with httpx.AsyncClient() as client:
            for _ in range(100 if options.shadow_process else 0):  # the feed dials with backoff
                if (await client.get(f"{shadow_url}/healthz")).json()["connections"]:
                    break
                await asyncio.sleep(0.05)
        # warm both paths (connection pools, first comparisons)
        await _load(ports["proxy"], "/legacy", 100, 1.0, options.connections)
        await _load(ports["proxy"], "/shadow", 100, 1.0, options.connections)
        await asyncio.sleep(1.0)
        results: dict[str, list[tuple[float, float, float]]] = {"legacy": [], "shadow": []}
        for round_no in range(1, options.rounds + 1):
            # ABBA order: each mode follows the other as often as it leads (a phase run right
            # after a shadow phase measured a slower tail even with no shadow process at all)
            order = ("legacy", "shadow") if round_no % 2 else ("shadow", "legacy")
            for mode in order:
                print(f"round {round_no}: {mode} at {options.rate:g}/s for "
                      f"{options.duration_s:g} s", file=sys.stderr)  # fmt: skip
                lat = await _load(ports["proxy"], f"/{mode}", options.rate, options.duration_s,
                                  options.connections)  # fmt: skip
                results[mode].append(
                    (_quantile(lat, 0.5), _quantile(lat, 0.99), _quantile(lat, 0.999))
                )
                p50, p99, p999 = results[mode][-1]
                print(f"  p50 {p50:.2f}  p99 {p99:.2f}  p99.9 {p999:.2f} ms", file=sys.stderr)
                await asyncio.sleep(2.0)  # let the shadow process finish its backlog
        async with httpx.AsyncClient() as client:
            shadow_metrics = (
                (await client.get(f"{shadow_url}/metrics")).text if options.shadow_process else ""
            )
            proxy_metrics = (await client.get(
                f"http://{HOST}:{ports['admin']}/metrics",
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            )).text  # fmt: skip
        return _report(options, results, shadow_metrics, proxy_metrics)
    finally:
        for child in reversed(children):
            await child.stop(grace=5)
        await postgres.stop()


def _report(
    options: Options, results: dict[str, list[tuple[float, float, float]]],
    shadow_metrics: str, proxy_metrics: str,
) -> str:  # fmt: skip
    def med(mode: str, i: int) -> float:
        return statistics.median(r[i] for r in results[mode])

    ratio = med("shadow", 1) / med("legacy", 1)
    lines = [
        f"Machine: {os.cpu_count()} cores ({platform.processor() or platform.machine()}), "
        f"Python {platform.python_version()}; {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC.",
        f"Load: open loop, {options.rate:g} req/s, {options.duration_s:g} s per phase, "
        f"{options.rounds} interleaved rounds, {options.connections} connections; upstream "
        f"think time {options.service_ms:g} ms; medians over rounds"
        + ("." if options.shadow_process else "; no shadow process (mirrors dropped)."),
        "",
        "| route mode | p50 ms | p99 ms | p99.9 ms |",
        "| --- | ---: | ---: | ---: |",
    ]
    for mode in ("legacy", "shadow"):
        lines.append(f"| {mode} | {med(mode, 0):.2f} | {med(mode, 1):.2f} | {med(mode, 2):.2f} |")
    verdict = "met" if ratio <= 1.10 else "NOT met"
    lines += ["", f"Live p99, shadow / legacy: **{ratio:.3f}x** (target ≤ 1.10x: {verdict}).", ""]
    outcomes = _counters(shadow_metrics, "banyan_shadow_outcomes_total")
    dropped = _counters(shadow_metrics, "banyan_shadow_dropped_total")
    skipped = _counters(proxy_metrics, "banyan_proxy_mirror_skipped_total")
    sent = _counters(proxy_metrics, "banyan_proxy_mirror_sent_total")
    lines.append("Shadow side: " + ", ".join(
        f"{k.split('{')[1].rstrip('}')} = {v:g}"
        for k, v in {**sent, **outcomes, **dropped, **skipped}.items()
    ))  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--upstream"]:
        port, variant, service_ms = int(args[1]), args[2], float(args[3])
        asyncio.run(_serve_upstream(port, variant, service_ms / 1000))
        return
    options = parse_options(args)
    with tempfile.TemporaryDirectory(prefix="bench-shadow-") as tmp:
        started = time.monotonic()
        report = asyncio.run(_bench(options, Path(tmp)))
    print(report)
    print(f"(took {time.monotonic() - started:.0f} s)", file=sys.stderr)
    if options.out:
        options.out.parent.mkdir(parents=True, exist_ok=True)
        options.out.write_text(report)


if __name__ == "__main__":
    main()

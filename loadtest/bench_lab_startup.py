"""How long `banyan up` takes to be ready (lab.json written) and to stop, cold and warm.

Cold: a new state directory, so PostgreSQL runs initdb. Warm: the same state directory again.
Each round starts a real `banyan up`, waits for its lab.json, sends SIGINT and waits for exit.
Prints medians; paste them into docs/benchmarks.md with this command and the machine.

    .venv/bin/python loadtest/bench_lab_startup.py --rounds 5
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from banyan.labfile import wait_for_lab

_BUDGET_S = 60.0


def one_round(state_dir: Path) -> tuple[float, float]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    argv = [
        sys.executable,
        "-m",
        "banyan",
        "up",
        "--state-dir",
        str(state_dir),
        "--postgres-port",
        "0",
        "--redis-port",
        "0",
        "--legacy-port",
        "0",
        "--inference-port",
        "0",
        "--proxy-port",
        "0",
        "--admin-port",
        "0",
        "--shadow-port",
        "0",
        "--candidate-port",
        "0",
        "--worker-port",
        "0",
    ]
    started = time.perf_counter()
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_lab(state_dir, process, within=_BUDGET_S)
        ready = time.perf_counter() - started
        stopping = time.perf_counter()
        process.send_signal(signal.SIGINT)
        process.wait(60)
        return ready, time.perf_counter() - stopping
    finally:
        if process.poll() is None:
            process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    cold, warm, stops = [], [], []
    with tempfile.TemporaryDirectory(prefix="banyan-bench-") as tmp:
        # Reachable by `nobody`, so PostgreSQL's data stays inside and is removed with it.
        os.chmod(tmp, 0o755)
        for i in range(rounds):
            state_dir = Path(tmp) / f"cold{i}"
            ready, stop = one_round(state_dir)
            cold.append(ready)
            stops.append(stop)
            ready, stop = one_round(state_dir)
            warm.append(ready)
            stops.append(stop)
    print(f"rounds: {rounds}  cores: {os.cpu_count()}")
    print(f"ready, cold (initdb): median {statistics.median(cold):.2f}s  max {max(cold):.2f}s")
    print(f"ready, warm:          median {statistics.median(warm):.2f}s  max {max(warm):.2f}s")
    print(f"stop (Ctrl-C):        median {statistics.median(stops):.2f}s  max {max(stops):.2f}s")


if __name__ == "__main__":
    main()

"""``banyan proxy --workers N``: N forwarding processes on one port, one admin listener.

Why processes: one event loop uses one core; the forwarding core is CPU-bound per request.
Each worker is a whole ``banyan proxy`` bound with ``SO_REUSEPORT`` (the kernel spreads new
connections), with its own admin listener on a private loopback port. This supervisor:

* starts the workers (direct children that die with it), waits for each to be healthy, and
  restarts one that dies (at most once a second per worker), counting restarts;
* serves the one public admin listener: ``/healthz`` is healthy when every worker is,
  ``/metrics`` sums the workers' counters series by series, ``/workers`` lists them, and every
  other call (routes, changes, history) is passed to a live worker — route state is the
  fleet's (Redis, PostgreSQL), so any worker answers for all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import os
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from banyan.launcher import ChildProcess, ProcessSpec, claim_port, http_probe, wait_until_ready
from banyan.logs import get_logger
from proxy.admin import Lifespan

__all__ = ["Worker", "run_workers", "sum_prometheus"]

_log = get_logger(__name__)
_RESTART_INTERVAL_S = 1.0
_PASSED_HEADERS = ("authorization", "content-type")


@dataclass
class Worker:
    index: int
    admin_port: int
    argv: list[str]
    log_path: Path
    child: ChildProcess | None = None
    restarts: int = 0
    last_start: float = field(default=0.0)

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"

    def start(self, env: dict[str, str]) -> None:
        self.child = ChildProcess(
            ProcessSpec(f"proxy-worker-{self.index}", self.argv, self.log_path, env=env)
        )
        self.child.start()
        self.last_start = asyncio.get_running_loop().time()

    def is_alive(self) -> bool:
        return self.child is not None and self.child.is_running()


def sum_prometheus(texts: Sequence[str]) -> str:
    """Sum counter and histogram series across exposition texts; comments are taken from the
    first. Histograms sum bucket by bucket (every worker has the same fixed buckets); values
    are written exactly (a rounded count would break a difference of two scrapes)."""
    comments: list[str] = []
    totals: dict[str, float] = defaultdict(float)
    order: list[str] = []
    for i, text in enumerate(texts):
        for line in text.splitlines():
            if not line.strip():
                continue
            if line.startswith("#"):
                if i == 0:
                    comments.append(line)
                continue
            series, _, value = line.rpartition(" ")
            if series not in totals:
                order.append(series)
            totals[series] += float(value)
    out: list[str] = []
    for line in comments:
        out.append(line)
        if line.startswith("# TYPE "):
            parts = line.split()
            name, kind = parts[2], parts[3] if len(parts) > 3 else ""
            names = (
                {name, *(name + part for part in _HISTOGRAM_PARTS)}
                if kind == "histogram"
                else {name}
            )
            out.extend(f"{s} {_number(totals[s])}" for s in order if s.split("{", 1)[0] in names)
    return "\n".join(out) + "\n"


_HISTOGRAM_PARTS = ("_bucket", "_sum", "_count")


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def run_workers(
    count: int,
    worker_argv: list[str],
    *,
    admin_host: str,
    admin_port: int,
    token: str,
    log_dir: Path,
) -> None:
    """Serve until SIGINT/SIGTERM with ``count`` workers. ``worker_argv`` is a ``banyan proxy``
    command line without ``--admin-port``; the public port in it must not be 0."""
    env = {**os.environ, "BANYAN_ADMIN_TOKEN": token}
    workers = [
        Worker(
            i,
            claim_port("proxy worker admin", "127.0.0.1", 0, hint=""),
            [*worker_argv, "--reuse-port"],
            log_dir / f"proxy-worker-{i}.log",
        )
        for i in range(count)
    ]
    for worker in workers:
        worker.argv += ["--admin-port", str(worker.admin_port)]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for worker in workers:
            worker.start(env)
        for worker in workers:
            assert worker.child is not None
            await wait_until_ready(
                worker.child, http_probe(f"{worker.admin_url}/healthz"), within=60
            )
        _log.info("proxy workers ready", workers=count)
        watcher = asyncio.create_task(_restart_dead(workers, env))
        try:
            yield
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            await asyncio.gather(*(w.child.stop(grace=15) for w in workers if w.child))

    app = _supervisor_app(workers, token, lifespan)
    uvicorn.run(
        app, host=admin_host, port=admin_port, loop="uvloop", log_config=None, access_log=False
    )


async def _restart_dead(workers: list[Worker], env: dict[str, str]) -> None:
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(0.2)
        for worker in workers:
            if worker.is_alive() or loop.time() - worker.last_start < _RESTART_INTERVAL_S:
                continue
            code = worker.child.returncode() if worker.child else None
            _log.error("proxy worker died; restarting", worker=worker.index, code=code)
            worker.restarts += 1
            worker.start(env)


def _supervisor_app(workers: list[Worker], token: str, lifespan: Lifespan) -> FastAPI:
    app = FastAPI(title="Banyan proxy admin (workers)", docs_url=None, redoc_url=None,
                  lifespan=lifespan)  # fmt: skip
    client = httpx.AsyncClient(timeout=10)

    async def fetch(worker: Worker, path: str) -> httpx.Response | None:
        try:
            return await client.get(
                worker.admin_url + path, headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.TransportError:
            return None

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        answers = await asyncio.gather(*(fetch(w, "/healthz") for w in workers))
        healthy = [a is not None and a.status_code == 200 for a in answers]
        body = {"status": "ok" if all(healthy) else "degraded", "workers": len(workers),
                "healthy": sum(healthy)}  # fmt: skip
        return JSONResponse(body, 200 if all(healthy) else 503)

    async def authorized(request: Request) -> bool:
        given = request.headers.get("authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())

    @app.get("/metrics")
    async def metrics(request: Request) -> Response:
        if not await authorized(request):
            return _unauthorized()
        answers = await asyncio.gather(*(fetch(w, "/metrics") for w in workers))
        texts = [a.text for a in answers if a is not None and a.status_code == 200]
        return PlainTextResponse(sum_prometheus(texts))

    @app.get("/workers")
    async def listing(request: Request) -> Response:
        if not await authorized(request):
            return _unauthorized()
        return JSONResponse({"workers": [
            {"index": w.index, "pid": w.child.pid if w.child else None, "alive": w.is_alive(),
             "restarts": w.restarts, "admin_url": w.admin_url}
            for w in workers
        ]})  # fmt: skip

    @app.api_route("/{path:path}", methods=["GET", "PUT", "POST"])
    async def pass_through(path: str, request: Request) -> Response:
        worker = next((w for w in workers if w.is_alive()), None)
        if worker is None:
            return JSONResponse({"error": {"message": "no proxy worker is alive",
                                           "code": "internal_server_error"}}, 503)  # fmt: skip
        answer = await client.request(
            request.method,
            f"{worker.admin_url}/{path}",
            params=request.query_params,
            content=await request.body(),
            headers={k: v for k, v in request.headers.items() if k in _PASSED_HEADERS},
        )
        return Response(
            answer.content, answer.status_code, media_type=answer.headers.get("content-type")
        )

    return app


def _unauthorized() -> JSONResponse:
    return JSONResponse(
        {"error": {"message": "send Authorization: Bearer <admin token> (lab.json: admin_token)",
                   "code": "invalid_request_error"}},
        401, headers={"WWW-Authenticate": "Bearer"},
    )  # fmt: skip

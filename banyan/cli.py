"""The ``banyan`` command line: the lab (``up``), each service run alone, and tools.

Each command builds one :class:`~banyan.settings.Settings` from the environment plus its flags
(flags win), configures logging once, and runs. Expected failures (a port in use, a server that
would not start, a bad migration) print one clear message and exit 1, never a traceback.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import asyncpg
import typer
from rich.console import Console
from rich.table import Table

from banyan.console import fail
from banyan.lab import Lab
from banyan.labfile import load_or_create_secrets
from banyan.launcher import LauncherError, claim_port
from banyan.logs import configure_logging
from banyan.migrations import MigrationError, apply_migrations, discover_migrations
from banyan.routes_cli import routes_app
from banyan.settings import Settings, load_settings
from banyan.shadow_cli import report, shadow_ignore
from banyan.tenants_cli import tenants_app

__all__ = ["app", "main"]

app = typer.Typer(
    help="Banyan: migrate a live model-API platform to a new implementation, route by route.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

app.add_typer(routes_app, name="routes")
app.add_typer(tenants_app, name="tenants")
app.command("report")(report)
app.command("shadow-ignore")(shadow_ignore)

StateDir = Annotated[
    Path | None, typer.Option(help="Lab state directory [env BANYAN_STATE_DIR; default .banyan].")
]
DatabaseUrl = Annotated[str | None, typer.Option(help="PostgreSQL URL [env DATABASE_URL].")]


class _CpuPriority(StrEnum):
    idle = "idle"
    low = "low"
    normal = "normal"


RedisUrl = Annotated[str | None, typer.Option(help="Redis URL [env REDIS_URL].")]
Host = Annotated[
    str | None, typer.Option(help="Interface to listen on [env BANYAN_HOST; default 127.0.0.1].")
]


def _setup(settings: Settings) -> None:
    configure_logging(level=settings.log_level, json=settings.is_json_logging)


@app.command()
def up(
    state_dir: StateDir = None,
    host: Host = None,
    postgres_port: Annotated[
        int | None, typer.Option(help="Embedded PostgreSQL port [default 5433; 0 = any free].")
    ] = None,
    redis_port: Annotated[
        int | None, typer.Option(help="Embedded Redis port [default 6380; 0 = any free].")
    ] = None,
    legacy_port: Annotated[
        int | None, typer.Option(help="Legacy service port [default 8100; 0 = any free].")
    ] = None,
    inference_port: Annotated[
        int | None, typer.Option(help="Inference server port [default 8300; 0 = any free].")
    ] = None,
    candidate_port: Annotated[
        int | None, typer.Option(help="Go candidate port [default 8200; 0 = any free].")
    ] = None,
    proxy_port: Annotated[
        int | None, typer.Option(help="Proxy public port [default 8000; 0 = any free].")
    ] = None,
    admin_port: Annotated[
        int | None, typer.Option(help="Proxy admin port [default 9000; 0 = any free].")
    ] = None,
    shadow_port: Annotated[
        int | None, typer.Option(help="Shadow process metrics port [default 9100; 0 = any free].")
    ] = None,
    worker_port: Annotated[
        int | None, typer.Option(help="Job worker health port [default 8400; 0 = any free].")
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="Proxy route baseline [default banyan.yaml].")
    ] = None,
    ephemeral: Annotated[
        bool, typer.Option(help="Keep no data: stores live in temp dirs removed on stop.")
    ] = False,
) -> None:
    """Start the whole lab (stores, migrations, services); write STATE_DIR/lab.json.

    Ctrl-C stops everything."""
    settings = load_settings(
        state_dir=state_dir,
        host=host,
        postgres_port=postgres_port,
        redis_port=redis_port,
        legacy_port=legacy_port,
        inference_port=inference_port,
        candidate_port=candidate_port,
        proxy_port=proxy_port,
        admin_port=admin_port,
        shadow_port=shadow_port,
        worker_port=worker_port,
        config=config,
    )
    _setup(settings)
    try:
        code = asyncio.run(_run_lab(settings, ephemeral))
    except LauncherError as exc:
        raise fail(str(exc)) from None
    except MigrationError as exc:
        raise fail(f"migrations: {exc}") from None
    raise typer.Exit(code)


async def _run_lab(settings: Settings, ephemeral: bool) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with Lab(settings, ephemeral=ephemeral) as lab:
        _print_summary(lab.info)
        dead = await lab.watch(stop)
    if dead is not None:
        log = lab.log_dir / f"{dead}.log"
        Console(stderr=True).print(f"[bold red]{dead} died[/]; the lab was stopped. Its log: {log}")
        return 1
    Console(stderr=True).print("lab stopped; nothing left running")
    return 0


def _print_summary(info: dict[str, Any]) -> None:
    table = Table(title="Banyan lab is up", title_justify="left", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    for name, service in info["services"].items():
        table.add_row(name, service["url"])
    if "admin_url" in info:
        table.add_row(
            "proxy admin", f"{info['admin_url']}  (bearer token: admin_token in lab.json)"
        )
    for store in ("postgres", "redis"):
        details = info[store]
        where = f"embedded, data in {details['data_dir']}" if details["embedded"] else "external"
        table.add_row(
            store, f"{info['database_url' if store == 'postgres' else 'redis_url']}  ({where})"
        )
    table.add_row("logs", info["log_dir"])
    table.add_row("lab.json", str(Path(info["state_dir"]) / "lab.json"))
    console = Console(stderr=True)
    console.print(table)
    console.print("Ctrl-C stops everything.")


@app.command()
def legacy(
    host: Host = None,
    port: Annotated[
        int | None, typer.Option(help="Port [env BANYAN_LEGACY_PORT; default 8100].")
    ] = None,
    database_url: DatabaseUrl = None,
    redis_url: RedisUrl = None,
) -> None:
    """Run the legacy platform service alone, against the given PostgreSQL and Redis."""
    settings = load_settings(
        host=host, legacy_port=port, database_url=database_url, redis_url=redis_url
    )
    if not settings.database_url or not settings.redis_url:
        raise fail(
            "legacy needs a PostgreSQL and a Redis: pass --database-url and --redis-url "
            "(or set DATABASE_URL and REDIS_URL), or run the whole lab with `banyan up`"
        )
    _setup(settings)
    import uvicorn

    from legacy.app import create_app
    from legacy.jobs.queue import QueueLimits

    limits = QueueLimits(
        per_tenant=settings.job_queue_tenant_limit,
        total=settings.job_queue_limit,
        workers=settings.worker_concurrency,
    )
    uvicorn.run(
        create_app(
            database_url=settings.database_url,
            redis_url=settings.redis_url,
            internal_token=settings.internal_token,
            inference_url=settings.inference_url,
            object_root=settings.objects_dir,
            storage_secret=settings.storage_secret,
            queue_limits=limits,
        ),
        host=settings.host,
        port=settings.legacy_port,
        log_config=None,
        # Sans-I/O websockets: current (the legacy implementation is deprecated) and able to
        # answer a refused handshake with an HTTP error body (401/402/429 in the envelope).
        ws="websockets-sansio",
    )


@app.command()
def worker(
    host: Host = None,
    port: Annotated[
        int | None, typer.Option(help="Health port [env BANYAN_WORKER_PORT; default 8400].")
    ] = None,
    database_url: DatabaseUrl = None,
    concurrency: Annotated[
        int | None,
        typer.Option(min=1, help="Files at once [env BANYAN_WORKER_CONCURRENCY; default 2]."),
    ] = None,
    lease_s: Annotated[
        float | None,
        typer.Option(min=0.1, help="Seconds before a silent worker's file is taken over "
                     "[env BANYAN_JOB_LEASE_S; default 30]."),
    ] = None,
) -> None:  # fmt: skip
    """Run the batch-job worker: takes queued job files from PostgreSQL and processes them
    (speech recognition, document vision), writing outputs under BANYAN_OBJECT_ROOT."""
    settings = load_settings(
        host=host, worker_port=port, database_url=database_url, worker_concurrency=concurrency,
        job_lease_s=lease_s,
    )  # fmt: skip
    if not settings.database_url:
        raise fail("the worker needs the platform's PostgreSQL: pass --database-url")
    _setup(settings)
    import uvicorn

    from legacy.jobs.worker import create_worker_app

    uvicorn.run(
        create_worker_app(
            database_url=settings.database_url, inference_url=settings.inference_url,
            object_root=settings.objects_dir, concurrency=settings.worker_concurrency,
            lease_s=settings.job_lease_s,
        ),
        host=settings.host, port=settings.worker_port, log_config=None, access_log=False,
    )  # fmt: skip


@app.command()
def inference(
    host: Host = None,
    port: Annotated[
        int | None, typer.Option(help="Port [env BANYAN_INFERENCE_PORT; default 8300].")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(help="Context limits and latencies, YAML [env BANYAN_INFERENCE_CONFIG]."),
    ] = None,
    latency_scale: Annotated[
        float | None,
        typer.Option(min=0, help="Multiply every model latency; 0 = no added latency "
                     "[env BANYAN_INFERENCE_LATENCY_SCALE; default 1]."),
    ] = None,
) -> None:  # fmt: skip
    """Run the inference server (the models legacy and the candidate call: TTS with eSpeak NG,
    and simulators for translation, speech recognition and chat)."""
    settings = load_settings(
        host=host, inference_port=port, inference_config=config,
        inference_latency_scale=latency_scale,
    )  # fmt: skip
    _setup(settings)
    import uvicorn

    from legacy.inference.app import create_inference_app
    from legacy.inference.config import InferenceConfigError, load_inference_config
    from legacy.inference.espeak import EspeakEngine, EspeakError

    try:
        models = load_inference_config(
            settings.inference_config, latency_scale=settings.inference_latency_scale
        )
    except InferenceConfigError as exc:
        raise fail(f"inference config: {exc}") from None
    try:
        engine = EspeakEngine()
    except EspeakError as exc:
        raise fail(f"speech synthesis engine: {exc}") from None
    try:
        uvicorn.run(
            create_inference_app(engine, models), host=settings.host, port=settings.inference_port,
            log_config=None, access_log=False,
        )  # fmt: skip
    finally:
        engine.close()


@app.command()
def proxy(
    config: Annotated[
        Path | None, typer.Option(help="Route baseline [env BANYAN_CONFIG; default banyan.yaml].")
    ] = None,
    host: Host = None,
    port: Annotated[
        int | None, typer.Option(help="Public port [env BANYAN_PROXY_PORT; default 8000].")
    ] = None,
    admin_port: Annotated[
        int | None,
        typer.Option(help="Admin API port, loopback [env BANYAN_ADMIN_PORT; default 9000]."),
    ] = None,
    state_dir: StateDir = None,
    database_url: DatabaseUrl = None,
    redis_url: RedisUrl = None,
    upstream: Annotated[
        list[str] | None,
        typer.Option(help="NAME=URL: where an upstream of the config really is (repeatable)."),
    ] = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Forwarding processes sharing the port.")
    ] = 1,
    reuse_port: Annotated[bool, typer.Option(hidden=True)] = False,
    shadow_socket: Annotated[
        Path | None,
        typer.Option(help="Unix socket of the shadow process, where mirrored exchanges go "
                     "[default STATE_DIR/shadow.sock]."),
    ] = None,
) -> None:  # fmt: skip
    """Run the strangler proxy alone: public listener plus admin API (token: BANYAN_ADMIN_TOKEN,
    else generated once into STATE_DIR/secrets.json)."""
    settings = load_settings(
        config=config,
        host=host,
        proxy_port=port,
        admin_port=admin_port,
        state_dir=state_dir,
        database_url=database_url,
        redis_url=redis_url,
    )
    _setup(settings)
    from proxy.config import ConfigError, load_config, with_upstream_urls
    from proxy.main import run_proxy

    moved: dict[str, str] = {}
    for item in upstream or []:
        name, sep, url = item.partition("=")
        if not sep or not name or not url:
            raise fail(f"--upstream takes NAME=URL, got {item!r}")
        moved[name] = url
    try:
        route_config = with_upstream_urls(load_config(settings.config), moved)
    except ConfigError as exc:
        raise fail(str(exc)) from None
    token = settings.admin_token
    if not token:
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        token = load_or_create_secrets(settings.state_dir)["admin_token"]
    socket_path = (shadow_socket or settings.state_dir / "shadow.sock").resolve()
    if workers > 1:
        _run_proxy_workers(settings, workers, moved, token, socket_path)
        return
    run_proxy(
        route_config,
        host=settings.host,
        port=settings.proxy_port,
        admin_host="127.0.0.1",
        admin_port=settings.admin_port,
        admin_token=token,
        database_url=settings.database_url,
        redis_url=settings.redis_url,
        reuse_port=reuse_port,
        shadow_socket=socket_path,
        evidence=_shadow_evidence(route_config, settings.database_url),
    )


def _shadow_evidence(config: Any, database_url: str | None) -> Any:
    """The composition root's one wiring of shadow into the proxy: the shadow store behind the
    admin API's Evidence and ReportSource seams (the proxy never imports shadow/)."""
    if not database_url:
        return None
    from shadow.gates import parse_gates
    from shadow.store_reader import StoreReader

    try:
        gates = parse_gates(config.evidence.get("gates"))
    except ValueError as exc:
        raise fail(str(exc)) from None
    return lambda modes: StoreReader(database_url, gates, modes)


def _run_proxy_workers(
    settings: Settings, count: int, moved: dict[str, str], token: str, shadow_socket: Path
) -> None:
    from proxy.workers import run_workers

    port = claim_port(
        "proxy", settings.host, settings.proxy_port, hint="set BANYAN_PROXY_PORT or --port"
    )
    argv = [
        sys.executable, "-m", "banyan", "proxy", "--config", str(settings.config.resolve()),
        "--host", settings.host, "--port", str(port), "--state-dir", str(settings.state_dir),
        "--shadow-socket", str(shadow_socket),
    ]  # fmt: skip
    for name, url in moved.items():
        argv += ["--upstream", f"{name}={url}"]
    if settings.database_url and settings.redis_url:
        argv += ["--database-url", settings.database_url, "--redis-url", settings.redis_url]
    run_workers(
        count, argv, admin_host="127.0.0.1", admin_port=settings.admin_port, token=token,
        log_dir=settings.state_dir / "logs",
    )  # fmt: skip


@app.command()
def shadow(
    config: Annotated[
        Path | None, typer.Option(help="Route baseline [env BANYAN_CONFIG; default banyan.yaml].")
    ] = None,
    host: Host = None,
    port: Annotated[
        int | None,
        typer.Option(help="Health and metrics port [env BANYAN_SHADOW_PORT; default 9100]."),
    ] = None,
    state_dir: StateDir = None,
    database_url: DatabaseUrl = None,
    upstream: Annotated[
        list[str] | None,
        typer.Option(help="NAME=URL: where an upstream of the config really is (repeatable)."),
    ] = None,
    socket_path: Annotated[
        Path | None,
        typer.Option("--socket", help="Unix socket the proxies write mirrored exchanges to "
                     "(default: STATE_DIR/shadow.sock)."),
    ] = None,
    admin_url: Annotated[
        str | None,
        typer.Option(help="Proxy admin URL, for the canary guard's scrapes and rollbacks "
                     "(default: none, no guard)."),
    ] = None,
    cpu_priority: Annotated[
        _CpuPriority,
        typer.Option(help="idle: run only on CPU the live path leaves (Linux SCHED_IDLE; "
                     "elsewhere nice 19); low: nice 10; normal: as started."),
    ] = _CpuPriority.idle,
) -> None:  # fmt: skip
    """Run the shadow engine: replay mirrored exchanges to the other side, compare, learn noise,
    store outcomes and billing deltas, guard canaries. Needs DATABASE_URL."""
    settings = load_settings(
        config=config, host=host, shadow_port=port, state_dir=state_dir, database_url=database_url
    )
    _setup(settings)
    from proxy.config import ConfigError, load_config, with_upstream_urls
    from shadow.main import ShadowSetupError, plan_shadow, run_shadow, yield_cpu

    if not settings.database_url:
        raise fail("banyan shadow stores its outcomes in PostgreSQL: set DATABASE_URL")
    moved: dict[str, str] = {}
    for item in upstream or []:
        name, sep, url = item.partition("=")
        if not sep or not name or not url:
            raise fail(f"--upstream takes NAME=URL, got {item!r}")
        moved[name] = url
    try:
        plan = plan_shadow(with_upstream_urls(load_config(settings.config), moved))
    except (ConfigError, ShadowSetupError) as exc:
        raise fail(str(exc)) from None
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    secrets = load_or_create_secrets(settings.state_dir)
    yield_cpu(cpu_priority.value)
    run_shadow(
        plan,
        host=settings.host,
        port=settings.shadow_port,
        socket_path=(socket_path or settings.state_dir / "shadow.sock").resolve(),
        database_url=settings.database_url,
        internal_token=settings.internal_token or secrets["internal_token"],
        admin_url=admin_url,
        admin_token=settings.admin_token or secrets["admin_token"],
    )


@app.command()
def migrate(database_url: DatabaseUrl = None) -> None:
    """Apply every part's schema migrations to a database (idempotent)."""
    settings = load_settings(database_url=database_url)
    if not settings.database_url:
        raise fail("pass --database-url or set DATABASE_URL")
    _setup(settings)

    async def run(url: str) -> list[str]:
        conn = await asyncpg.connect(url)
        try:
            return [m.label for m in await apply_migrations(conn, discover_migrations())]
        finally:
            await conn.close()

    try:
        applied = asyncio.run(run(settings.database_url))
    except (MigrationError, OSError, asyncpg.PostgresError) as exc:
        raise fail(str(exc)) from None
    print("\n".join(applied) if applied else "nothing to apply: the database is up to date")


def main() -> None:
    app(prog_name="banyan")

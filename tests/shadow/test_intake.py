"""The shadow process's socket: frames from several proxy connections, bounded, counted."""

from __future__ import annotations

import asyncio
import importlib
import shutil
import socket
import stat
import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from proxy.mirror import MirrorRecord
from proxy.mirror_wire import encode
from shadow.intake import Intake, SocketInUse
from shadow.metrics import SHADOW_COUNTERS, Counters, CounterSpec, render_prometheus

pytestmark = pytest.mark.anyio


@pytest.fixture
def sock_path() -> Iterator[Path]:
    directory = tempfile.mkdtemp(prefix="bsi", dir="/tmp")  # AF_UNIX paths: 107 bytes at most
    yield Path(directory) / "shadow.sock"
    shutil.rmtree(directory, ignore_errors=True)


def record(request_id: str, route: str = "tts", body: bytes = b"{}") -> MirrorRecord:
    return MirrorRecord(
        request_id=request_id.encode(),
        traceparent=b"00-" + b"a" * 32 + b"-" + b"b" * 16 + b"-01",
        route=route,
        served_by="legacy",
        mirror_to="candidate",
        method=b"POST",
        target=b"/x",
        request_headers=[(b"content-type", b"application/json")],
        request_body=body,
        status=200,
        response_headers=[],
        response_body=b"ok",
        started_at=1.0,
        first_byte_at=1.1,
        finished_at=1.2,
        first_body_at=1.1,
    )


def mode_of(path: Path) -> int | None:
    """The file's st_mode, or None when it does not exist (sync: no blocking I/O in a test's
    coroutine)."""
    try:
        return path.lstat().st_mode
    except FileNotFoundError:
        return None


def write(path: Path, text: str) -> None:
    path.write_text(text)


def read(path: Path) -> str:
    return path.read_text()


async def connect(path: Path) -> asyncio.StreamWriter:
    _, writer = await asyncio.open_unix_connection(str(path))
    return writer


async def close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    await writer.wait_closed()


async def test_records_from_several_connections_all_arrive(sock_path: Path) -> None:
    counters = Counters()
    async with Intake(sock_path, counters) as intake:
        a, b = await connect(sock_path), await connect(sock_path)
        frames_a = b"".join(encode(record(f"a{i}")) for i in range(5))
        # one frame dribbled byte by byte on b while a sends its burst
        frame_b = encode(record("b0", route="stt", body=b"\x00" * 1000))
        a.write(frames_a)
        for i in range(0, len(frame_b), 97):
            b.write(frame_b[i : i + 97])
            await asyncio.sleep(0)
        got = [await asyncio.wait_for(intake.get(), 2) for _ in range(6)]
        await close(a)
        await close(b)
    assert sorted(r.request_id for r in got) == [b"a0", b"a1", b"a2", b"a3", b"a4", b"b0"]
    assert [r.request_id for r in got if r.route == "tts"] == [f"a{i}".encode() for i in range(5)]
    assert counters.get("banyan_shadow_received_total", "tts") == 5
    assert counters.get("banyan_shadow_received_total", "stt") == 1


async def test_a_full_queue_drops_and_counts_per_route(sock_path: Path) -> None:
    counters = Counters()
    async with Intake(sock_path, counters, maxsize=2) as intake:
        writer = await connect(sock_path)
        writer.write(b"".join(encode(record(str(i), route="tts")) for i in range(5)))
        await writer.drain()
        for _ in range(200):
            if counters.total("banyan_shadow_received_total") == 5:
                break
            await asyncio.sleep(0.01)
        assert intake.qsize() == 2
        assert counters.get("banyan_shadow_dropped_total", "tts", "shadow_backlog") == 3
        assert [(await intake.get()).request_id for _ in range(2)] == [b"0", b"1"]
        await close(writer)


async def test_a_bad_frame_closes_only_its_connection(sock_path: Path) -> None:
    counters = Counters()
    async with Intake(sock_path, counters) as intake:
        bad_reader, bad = await asyncio.open_unix_connection(str(sock_path))
        good = await connect(sock_path)
        bad.write(struct.pack(">II", 12, 8) + b"not json")
        assert await asyncio.wait_for(bad_reader.read(), 2) == b""  # closed by the intake
        good.write(encode(record("fine")))
        assert (await asyncio.wait_for(intake.get(), 2)).request_id == b"fine"
        await close(bad)
        await close(good)
    assert counters.get("banyan_shadow_dropped_total", "-", "bad_frame") == 1


async def test_an_oversized_frame_is_refused_before_it_is_buffered(sock_path: Path) -> None:
    counters = Counters()
    async with Intake(sock_path, counters, max_frame=1024) as intake:
        reader, writer = await asyncio.open_unix_connection(str(sock_path))
        writer.write(struct.pack(">I", 10_000_000))
        assert await asyncio.wait_for(reader.read(), 2) == b""
        assert intake.qsize() == 0
        await close(writer)
    assert counters.get("banyan_shadow_dropped_total", "-", "bad_frame") == 1


async def test_the_socket_is_private_and_removed_at_close(sock_path: Path) -> None:
    async with Intake(sock_path, Counters()):
        mode = mode_of(sock_path)
        assert mode is not None
        assert stat.S_ISSOCK(mode)
        assert stat.S_IMODE(mode) == 0o600
    assert mode_of(sock_path) is None


async def test_a_stale_socket_file_is_replaced(sock_path: Path) -> None:
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(sock_path))
    stale.close()  # the file stays, nobody listens: what a crashed process leaves
    assert mode_of(sock_path) is not None
    async with Intake(sock_path, Counters()) as intake:
        writer = await connect(sock_path)
        writer.write(encode(record("after-crash")))
        assert (await asyncio.wait_for(intake.get(), 2)).request_id == b"after-crash"
        await close(writer)


async def test_a_live_socket_is_not_stolen(sock_path: Path) -> None:
    async with Intake(sock_path, Counters()):
        with pytest.raises(SocketInUse):
            await Intake(sock_path, Counters()).start()
        assert mode_of(sock_path) is not None


async def test_a_file_that_is_not_a_socket_is_left_alone(sock_path: Path) -> None:
    write(sock_path, "keep me")
    with pytest.raises(FileExistsError):
        await Intake(sock_path, Counters()).start()
    assert read(sock_path) == "keep me"


async def test_close_cuts_open_connections(sock_path: Path) -> None:
    intake = Intake(sock_path, Counters())
    await intake.start()
    reader, writer = await asyncio.open_unix_connection(str(sock_path))
    for _ in range(100):
        if intake.connections == 1:
            break
        await asyncio.sleep(0.01)
    assert intake.connections == 1
    await intake.aclose()
    assert intake.connections == 0
    assert await asyncio.wait_for(reader.read(), 2) == b""
    await close(writer)


def test_counters_are_declared_and_render_as_prometheus_text() -> None:
    outcomes = CounterSpec("banyan_shadow_extra_total", "A counter a caller adds.", ("route", "o"))
    counters = Counters([*SHADOW_COUNTERS, outcomes])
    counters.inc("banyan_shadow_received_total", "tts")
    counters.inc("banyan_shadow_dropped_total", 'we"ird', "timeout", by=2)
    counters.inc("banyan_shadow_extra_total", "tts", "matched")
    text = render_prometheus(counters)
    assert "# TYPE banyan_shadow_received_total counter" in text
    assert 'banyan_shadow_received_total{route="tts"} 1' in text
    assert 'banyan_shadow_dropped_total{route="we\\"ird",reason="timeout"} 2' in text
    assert 'banyan_shadow_extra_total{route="tts",o="matched"} 1' in text
    with pytest.raises(KeyError):
        counters.inc("banyan_shadow_typo_total", "tts")
    with pytest.raises(ValueError, match="takes labels"):
        counters.inc("banyan_shadow_dropped_total", "tts")
    with pytest.raises(ValueError, match="declared twice"):
        Counters([outcomes, outcomes])


@pytest.mark.parametrize(
    ("module", "exported"),
    [
        ("shadow.intake", {"Intake", "SocketInUse"}),
        ("shadow.metrics", {"SHADOW_COUNTERS", "CounterSpec", "Counters", "render_prometheus"}),
        ("shadow.replay", {"Replayer", "WsReplay", "noise_request_id", "replay_headers",
                           "served_observation"}),
        ("proxy.mirror_wire", {"MAX_FRAME_BYTES", "FrameDecoder", "FrameError", "FrameTooLarge",
                               "encode"}),
        ("proxy.shadow_feed", {"MAX_BACKLOG_BYTES", "ShadowFeed"}),
    ],
)  # fmt: skip
def test_public_surface_is_pinned(module: str, exported: set[str]) -> None:
    mod = importlib.import_module(module)
    assert set(mod.__all__) == exported
    assert all(hasattr(mod, name) for name in mod.__all__)

"""The STT socket's receive loop: it stops reading while recognition is behind (back pressure).

These drive legacy's ``pump`` in-process, so they cannot target the Go candidate; its receive
loop is held to the same behaviour by candidate/internal/sttws/session_test.go
(``TestBackPressureStopsReadingWhileRecognitionIsBehind``), and its whole sessions to legacy's
by the transcripts it replays (``TestSessionsAreLegacys``)."""

from __future__ import annotations

import asyncio

import pytest

from legacy.speech.streaming import Utterance
from legacy.stt_ws import QUEUE_DEPTH, pump

pytestmark = pytest.mark.anyio


async def test_a_full_queue_stops_the_receive_loop_until_recognition_catches_up() -> None:
    received = 0

    async def receive() -> str | None:
        nonlocal received
        received += 1
        return "message" if received < 100 else None

    async def handle(_: str) -> list[Utterance]:
        return [Utterance(b"\0\0" * 160, 0.0, 0.01)]  # every message finishes an utterance

    jobs: asyncio.Queue[Utterance] = asyncio.Queue(maxsize=QUEUE_DEPTH)
    loop = asyncio.create_task(pump(receive, handle, jobs))
    await asyncio.sleep(0.05)
    # Nobody recognizes: the loop read the queue's depth, plus the one it waits to queue.
    assert received == QUEUE_DEPTH + 1
    assert not loop.done()
    for _ in range(3):  # recognition catches up by three: three more messages are read
        await jobs.get()
    await asyncio.sleep(0.05)
    assert received == QUEUE_DEPTH + 4
    while not loop.done():
        await jobs.get()
        await asyncio.sleep(0)
    assert received == 100


async def test_the_loop_ends_when_the_client_goes_or_the_handler_ends_the_session() -> None:
    messages = iter(["a", "b", None])

    async def receive() -> str | None:
        return next(messages)

    handled: list[str] = []

    async def handle(message: str) -> list[Utterance] | None:
        handled.append(message)
        return [] if message == "a" else None

    await asyncio.wait_for(pump(receive, handle, asyncio.Queue(maxsize=1)), 1)
    assert handled == ["a", "b"]

from __future__ import annotations

import asyncio
import io
import json
import logging

import pytest

from banyan.logs import bind_request_id, configure_logging, get_logger


@pytest.fixture
def json_lines():
    stream = io.StringIO()
    configure_logging(level="DEBUG", json=True, stream=stream)

    def lines() -> list[dict[str, object]]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield lines
    configure_logging(level="WARNING", json=False)


def test_structlog_and_stdlib_lines_carry_the_request_id(json_lines) -> None:
    with bind_request_id("req-1"):
        get_logger("banyan.test").info("from structlog", extra_field=3)
        logging.getLogger("some.library").warning("from %s", "stdlib")
    get_logger("banyan.test").info("outside")

    first, second, third = json_lines()
    assert first["request_id"] == "req-1"
    assert first["event"] == "from structlog"
    assert first["extra_field"] == 3
    assert first["level"] == "info"
    assert second["request_id"] == "req-1"
    assert second["event"] == "from stdlib"
    assert second["logger"] == "some.library"
    assert "request_id" not in third


def test_concurrent_tasks_never_see_each_others_id(json_lines) -> None:
    async def handle(request_id: str) -> None:
        with bind_request_id(request_id):
            for step in range(3):
                get_logger("t").info("step", step=step)
                await asyncio.sleep(0)

    async def main() -> None:
        await asyncio.gather(*(handle(f"r{i}") for i in range(5)))

    asyncio.run(main())
    lines = [line for line in json_lines() if line["logger"] == "t"]
    assert len(lines) == 15
    for i in range(5):
        assert sum(1 for line in lines if line["request_id"] == f"r{i}") == 3


def test_console_format_is_readable_not_json() -> None:
    stream = io.StringIO()
    configure_logging(level="INFO", json=False, stream=stream)
    try:
        with bind_request_id("abc"):
            get_logger("t").info("hello")
    finally:
        configure_logging(level="WARNING", json=False)
    text = stream.getvalue()
    assert "hello" in text
    assert "request_id=abc" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)

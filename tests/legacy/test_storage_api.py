"""PUT and GET /storage/v1/objects/{key}: the signed links of the job APIs, on the real app.

Every refusal is a 403 in the platform's envelope and leaves the store as it was."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from legacy.app import create_app
from legacy.storage_api import MAX_OBJECT_BYTES

pytestmark = pytest.mark.anyio


@pytest.fixture
async def app(database_url, redis_url, tmp_path: Path) -> AsyncIterator[object]:
    app = create_app(
        database_url=database_url, redis_url=redis_url, object_root=tmp_path / "objects",
        storage_secret="test secret",
    )  # fmt: skip
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def http(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://legacy") as c:
        yield c


def link(app, method: str, key: str, ttl_s: float = 60, **kw: str) -> str:
    return str(app.state.signer.sign(method, key, ttl_s=ttl_s, **kw).path)


def _put_f1(app) -> str:
    return link(app, "PUT", "jobs/j1/inputs/f1")


def assert_refused(response: httpx.Response, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert words in error["message"]
    assert error["request_id"]


async def test_an_upload_link_stores_and_a_download_link_returns_the_bytes(app, http) -> None:
    body = bytes(range(256)) * 1000
    put = await http.put(
        link(app, "PUT", "jobs/j1/inputs/f1"), content=body,
        headers={"x-ms-blob-type": "BlockBlob", "content-type": "audio/wav"},
    )  # fmt: skip
    assert put.status_code == 201
    got = await http.get(link(app, "GET", "jobs/j1/inputs/f1"))
    assert got.status_code == 200
    assert got.content == body
    assert got.headers["content-length"] == str(len(body))


async def test_a_chunked_upload_without_length_is_stored_whole(app, http) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for n in range(10):
            yield bytes([n]) * 70_000

    put = await http.put(link(app, "PUT", "jobs/j1/inputs/f2"), content=chunks())
    assert put.status_code == 201
    assert await app.state.objects.read("jobs/j1/inputs/f2") == b"".join(
        bytes([n]) * 70_000 for n in range(10)
    )


@pytest.mark.parametrize(
    ("url", "words"),
    [
        (lambda app: link(app, "PUT", "jobs/j1/inputs/other"), "does not match"),
        (lambda app: link(app, "GET", "jobs/j1/inputs/f1"), "does not match"),
        (lambda app: _put_f1(app).replace("exp=", "exp=1"), "does not match"),
        (lambda app: link(app, "PUT", "jobs/j1/inputs/f1", ttl_s=-5), "expired at"),
        (lambda app: "/storage/v1/objects/jobs/j1/inputs/f1", "not signed"),
        (lambda app: _put_f1(app).replace("f1?", "..%2F..%2Fx?"), "names no object"),
    ],
    ids=["cross-object", "download-link-for-upload", "tampered-expiry", "expired", "unsigned",
         "path-escape"],
)  # fmt: skip
async def test_a_wrong_link_is_refused_with_403_and_stores_nothing(app, http, url, words) -> None:
    target = url(app).replace("jobs/j1/inputs/other", "jobs/j1/inputs/f1")
    response = await http.put(target, content=b"data")
    assert_refused(response, 403, words)
    assert await app.state.objects.size("jobs/j1/inputs/f1") is None


async def test_a_tampered_download_link_is_refused(app, http) -> None:
    await app.state.objects.put_bytes("jobs/j1/outputs/f1.json", b"{}")
    good = link(app, "GET", "jobs/j1/outputs/f1.json")
    assert (await http.get(good)).status_code == 200
    other = good.replace("f1.json", "f2.json")
    assert_refused(await http.get(other), 403, "does not match")


async def test_an_upload_over_the_limit_is_413_and_leaves_nothing(app, http) -> None:
    limit = MAX_OBJECT_BYTES["uploads"]
    declared = await http.put(
        link(app, "PUT", "uploads/u1"), content=b"x", headers={"content-length": str(limit + 1)}
    )
    assert_refused(declared, 413, "at most 50 MiB")

    async def endless() -> AsyncIterator[bytes]:
        for _ in range(limit // (1 << 20) + 2):
            yield b"x" * (1 << 20)

    streamed = await http.put(link(app, "PUT", "uploads/u1"), content=endless())
    assert_refused(streamed, 413, "over 50 MiB")
    assert await app.state.objects.size("uploads/u1") is None
    assert not list((app.state.objects.root / ".tmp").iterdir())


async def test_a_link_to_an_object_not_written_yet_is_404(app, http) -> None:
    assert_refused(await http.get(link(app, "GET", "jobs/j1/outputs/f9.json")), 404, "not")

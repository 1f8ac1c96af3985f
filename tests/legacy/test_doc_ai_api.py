"""The doc-AI job routes on the real app with no worker running: what is refused at the door
(and leaves no job and no hold behind), and what a job that has not finished answers."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx
import pytest

from legacy.app import create_app
from legacy.commerce.tenants import create_tenant
from legacy.jobs.queue import QueueLimits
from tests.legacy.documents import make_image, make_pdf

pytestmark = pytest.mark.anyio

SCHEMA = json.dumps({
    "type": "object",
    "properties": {"total": {"type": "number", "description": "Total amount"}},
})  # fmt: skip


class Api:
    def __init__(self, http: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
        self.http, self.pool = http, pool

    async def tenant(self, credits: str = "100") -> dict[str, str]:
        async with self.pool.acquire() as conn:
            _, key = await create_tenant(conn, f"t{uuid.uuid4().hex[:10]}", Decimal(credits))
        return {"api-subscription-key": key}

    async def digitise(self, key: dict[str, str], *documents: bytes, **form: str) -> httpx.Response:
        files = [("file", (f"d{n}.png", data, "image/png")) for n, data in enumerate(documents)]
        return await self.http.post("/doc-ai/v1/job/digitise", files=files or None,
                                    data=form, headers=key)  # fmt: skip

    async def jobs(self) -> int:
        return int(await self.pool.fetchval("SELECT count(*) FROM legacy.jobs"))

    async def reserved(self) -> Decimal:
        return Decimal(
            await self.pool.fetchval("SELECT coalesce(sum(reserved), 0) FROM legacy.wallets")
        )


@pytest.fixture
async def api(database_url, redis_url, tmp_path: Path) -> AsyncIterator[Api]:
    app = create_app(
        database_url=database_url, redis_url=redis_url, object_root=tmp_path, storage_secret="s",
        queue_limits=QueueLimits(per_tenant=3, total=10, workers=1),
    )  # fmt: skip
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://legacy") as http:
                yield Api(http, pool)
    finally:
        await pool.close()


def refused(response: httpx.Response, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    assert words in response.json()["error"]["message"]


async def test_a_job_that_has_not_finished_has_no_results_yet(api: Api) -> None:
    key = await api.tenant()
    started = await api.digitise(key, make_image(["hello"]))
    assert started.status_code == 201
    job_id = started.json()["job_id"]
    status = (await api.http.get(f"/doc-ai/v1/job/{job_id}/status", headers=key)).json()
    assert status["status"] == "pending"
    assert status["usage"] == {"pages_total": 1, "pages_processed": 0, "pages_succeeded": 0,
                               "pages_failed": 0}  # fmt: skip
    for path in ("results", "download-url"):
        early = await api.http.get(f"/doc-ai/v1/job/{job_id}/{path}", headers=key)
        refused(early, 409, "results exist once it is finished")
    assert await api.reserved() == Decimal("1.0000")  # one page held


async def test_unknown_and_foreign_jobs_are_404(api: Api) -> None:
    owner, stranger = await api.tenant(), await api.tenant()
    job_id = (await api.digitise(owner, make_image(["hello"]))).json()["job_id"]
    refused(
        await api.http.get(f"/doc-ai/v1/job/{job_id}/status", headers=stranger),
        404,
        "no document job",
    )
    refused(
        await api.http.get(f"/doc-ai/v1/job/{uuid.uuid4()}/status", headers=owner),
        404,
        "no document job",
    )


@pytest.mark.parametrize(
    ("form", "documents", "status", "words"),
    [
        ({}, 0, 400, "file parts or as upload_ids"),
        ({"upload_ids": str(uuid.uuid4())}, 1, 400, "not both"),
        ({"upload_ids": "not-an-id"}, 0, 400, "is not an upload id"),
        ({"upload_ids": str(uuid.uuid4())}, 0, 400, "no upload"),
    ],
    ids=["nothing", "both", "junk-upload-id", "unknown-upload-id"],
)  # fmt: skip
async def test_documents_must_come_one_way(api: Api, form, documents, status, words) -> None:
    key = await api.tenant()
    images = [make_image(["x"])] * documents
    refused(await api.digitise(key, *images, **form), status, words)
    assert await api.jobs() == 0


@pytest.mark.parametrize(
    ("form", "status", "words"),
    [
        ({"config_id": "invoices-v2"}, 404, "no saved extraction configuration"),
        ({"schema": SCHEMA, "config_id": "x"}, 400, "not both"),
        ({"schema": "{not json"}, 400, "not valid JSON"),
        ({"schema": SCHEMA, "output_format": "xlsx"}, 400, "use json"),
        ({"schema": SCHEMA, "classification": "true"}, 400, "classification is not supported"),
    ],
    ids=["config-id", "both", "schema-not-json", "xlsx", "classification"],
)  # fmt: skip
async def test_extract_refuses_what_it_cannot_do(api: Api, form, status, words) -> None:
    key = await api.tenant()
    files = [("file", ("a.png", make_image(["x"]), "image/png"))]
    response = await api.http.post("/doc-ai/v1/job/extract", files=files, data=form, headers=key)
    refused(response, status, words)
    assert await api.jobs() == 0


async def test_extract_takes_one_document(api: Api) -> None:
    key = await api.tenant()
    files = [("file", (f"{n}.png", make_image(["x"]), "image/png")) for n in range(2)]
    response = await api.http.post(
        "/doc-ai/v1/job/extract", files=files, data={"schema": SCHEMA}, headers=key
    )
    refused(response, 400, "extract takes one document per job")


async def test_an_empty_wallet_is_402_and_leaves_no_job(api: Api) -> None:
    key = await api.tenant(credits="0.5")
    refused(await api.digitise(key, make_pdf([["a"], ["b"]])), 402, "cannot cover")
    assert await api.jobs() == 0
    assert await api.reserved() == 0


async def test_a_full_queue_is_429_with_retry_after_and_leaves_no_job(api: Api) -> None:
    key = await api.tenant()
    pages = [make_image([text]) for text in "abc"]  # the queue counts documents (its tasks)
    assert (await api.digitise(key, *pages)).status_code == 201
    full = await api.digitise(key, make_image(["one more"]))
    refused(full, 429, "limit of 3")
    assert 1 <= int(full.headers["retry-after"]) <= 60
    assert await api.jobs() == 1
    assert await api.reserved() == Decimal("3.0000")  # only the queued job's pages

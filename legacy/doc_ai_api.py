"""Document AI jobs: ``/doc-ai/v1/job/...`` (sdk-contract §1.5; rfcs/0007).

``upload`` hands out a signed PUT link and an ``upload_id``; ``digitise`` and ``extract`` take
documents (multipart ``file`` parts, or ``upload_ids``), check each one at the door (a PDF or
an image this pipeline can read, within its page limit: 400 otherwise, before anything is
billed), hold one credit-priced page per page, and queue one task per document for the worker
(``legacy/vision``: rasterize → OCR → layout; for ``extract``, the schema filled from the
page content). ``status`` and ``results`` read the job back; ``download-url`` signs a link to
the whole result as one JSON object.

Statuses are lower case here (terminal: ``completed``, ``partially_completed``, ``failed``,
``rejected``: every document was refused as sent). Billing: ``doc-ai`` in ``pages``, each
document settled once when it succeeds. What is refused rather than pretended: saved
extraction configurations (``config_id``: none exist), ``classification=true``, and output
formats other than JSON for ``extract``; ``extract`` takes one document per job (its
``result`` is one object).
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Final, Literal
from uuid import UUID

from fastapi import APIRouter, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, StringConstraints

from banyan.contract import SHADOW
from legacy.commerce.billing import Billing, Tenant
from legacy.error_docs import error_responses
from legacy.jobs.queue import TERMINAL_JOB_STATES, FileRecord, JobKind, JobQueue, JobRecord
from legacy.jobs.starting import start_job
from legacy.metering import api_key_from
from legacy.storage import ObjectStore, UrlSigner
from legacy.storage_api import MAX_OBJECT_BYTES
from legacy.stt_api import NullIsAbsent
from legacy.vision.pipeline import DocumentRejected, SchemaRejected, load_schema, page_count

__all__ = ["doc_ai_router"]

MAX_DOCUMENTS: Final = 20
MAX_DOCUMENT_BYTES: Final = MAX_OBJECT_BYTES["uploads"]
LINK_TTL_S: Final = 3600.0
UPLOAD_TYPES: Final = frozenset(
    {"application/pdf", "image/png", "image/jpeg", "image/tiff", "image/webp", "image/bmp"}
)
_PIPELINE: Final[dict[str, Literal["digitise", "extract"]]] = {
    "doc-ai-digitise": "digitise", "doc-ai-extract": "extract",
}  # fmt: skip
_STATUS: Final = {
    "Accepted": "accepted", "Pending": "pending", "Running": "running",
    "Completed": "completed", "PartiallyCompleted": "partially_completed", "Failed": "failed",
}  # fmt: skip

doc_ai_router = APIRouter(prefix="/doc-ai/v1/job", tags=["document ai"])


class UploadRequest(BaseModel):
    content_type: Annotated[str, StringConstraints(max_length=100)] | None = None


async def _tenant(request: Request) -> Tenant:
    billing: Billing = request.app.state.billing
    return await billing.tenant_for_key(api_key_from(request.headers))


@doc_ai_router.post("/upload", responses=error_responses())
async def create_upload_url(request: Request, body: UploadRequest | None = None) -> Any:
    content_type = (body.content_type if body else None) or None
    if content_type is not None and content_type.lower() not in UPLOAD_TYPES:
        raise HTTPException(
            400, f"content_type {content_type!r} is not a document type this API reads; use one"
            f" of {', '.join(sorted(UPLOAD_TYPES))}, or omit it",
        )  # fmt: skip
    tenant = await _tenant(request)
    queue: JobQueue = request.app.state.jobs
    expires_at = datetime.now(UTC) + timedelta(seconds=LINK_TTL_S)
    upload_id: UUID = await queue.pool.fetchval(
        "INSERT INTO legacy.doc_uploads (tenant_id, object_key, content_type, expires_at)"
        " VALUES ($1, '', $2, $3) RETURNING id",
        tenant.id, content_type, expires_at,
    )  # fmt: skip
    key = f"uploads/{upload_id}"
    await queue.pool.execute(
        "UPDATE legacy.doc_uploads SET object_key = $2 WHERE id = $1", upload_id, key
    )
    signer: UrlSigner = request.app.state.signer
    signed = signer.sign("PUT", key, ttl_s=LINK_TTL_S, content_type=content_type)
    return {
        "upload_id": str(upload_id),
        "method": "PUT",
        "url": signed.absolute(str(request.base_url)),
        "headers": {"Content-Type": content_type} if content_type else {},
        "expires_at": signed.expires_at.isoformat(),
    }


async def _documents(
    request: Request, tenant: Tenant, files: list[UploadFile | str] | None,
    upload_ids: str | None,
) -> list[tuple[str, bytes | None, str]]:  # fmt: skip
    """(name, bytes to store or None, object key if already stored) for each document."""
    sent = [f for f in files or [] if f != "null"]
    ids = [part.strip() for part in (upload_ids or "").split(",") if part.strip()]
    if bool(sent) == bool(ids):
        raise HTTPException(400, "send the documents as file parts or as upload_ids, not both")
    if len(sent) + len(ids) > MAX_DOCUMENTS:
        raise HTTPException(400, f"a job takes at most {MAX_DOCUMENTS} documents")
    documents: list[tuple[str, bytes | None, str]] = []
    for upload in sent:
        name = f"document-{len(documents) + 1}"
        if isinstance(upload, str):
            data = upload.encode()
        else:
            data = await upload.read(MAX_DOCUMENT_BYTES + 1)
            name = upload.filename or name
        if len(data) > MAX_DOCUMENT_BYTES:
            raise HTTPException(413, f"{name} is over {MAX_DOCUMENT_BYTES >> 20} MiB")
        documents.append((name, data, ""))
    queue: JobQueue = request.app.state.jobs
    for raw in ids:
        try:
            upload_id = UUID(raw)
        except ValueError:
            raise HTTPException(400, f"upload_ids: {raw[:60]!r} is not an upload id") from None
        row = await queue.pool.fetchrow(
            "SELECT object_key, used_by FROM legacy.doc_uploads WHERE id = $1 AND tenant_id = $2",
            upload_id, tenant.id,
        )  # fmt: skip
        if row is None:
            raise HTTPException(400, f"upload_ids: no upload {upload_id} for this API key")
        if row["used_by"] is not None:
            raise HTTPException(
                400, f"upload {upload_id} was used by job {row['used_by']}; upload it again"
            )
        documents.append((f"upload-{upload_id}", None, row["object_key"]))
    return documents


async def _submit(
    request: Request, kind: JobKind, parameters: dict[str, Any],
    files: list[UploadFile | str] | None, upload_ids: str | None,
) -> JSONResponse:  # fmt: skip
    tenant = await _tenant(request)
    documents = await _documents(request, tenant, files, upload_ids)
    if kind == "doc-ai-extract" and len(documents) != 1:
        raise HTTPException(
            400, "extract takes one document per job (its result is one object); send the"
            " pages as one PDF, or one job per document",
        )  # fmt: skip
    store: ObjectStore = request.app.state.objects
    pages: list[int] = []
    for name, data, key in documents:
        content = data if data is not None else await _uploaded(store, key, name)
        try:
            pages.append(await asyncio.to_thread(page_count, content))
        except DocumentRejected as exc:
            raise HTTPException(400, f"{name}: {exc}") from None
    queue: JobQueue = request.app.state.jobs
    await queue.check_capacity(tenant.id, len(documents))
    job = await queue.create(
        kind, tenant_id=tenant.id, parameters=parameters, request_id=request.state.request_id,
        shadow=request.headers.get(SHADOW) == "1",
    )  # fmt: skip
    started = False
    try:
        records = await queue.register_files(
            job.id, [name for name, _, _ in documents],
            key_of=lambda file_id, i: documents[i][2] or f"jobs/{job.id}/inputs/{file_id}",
        )  # fmt: skip
        for record, (_, data, _) in zip(records, documents, strict=True):
            if data is not None:
                await store.put_bytes(record.object_key, data)
        await queue.pool.execute(
            "UPDATE legacy.doc_uploads SET used_by = $1 WHERE object_key = ANY($2::text[])",
            job.id, [key for _, _, key in documents if key],
        )  # fmt: skip
        estimates = {r.file_id: Decimal(n) for r, n in zip(records, pages, strict=True)}
        started = await start_job(
            request, queue, job, route="doc-ai", unit="pages", estimates=estimates,
            pages={r.file_id: n for r, n in zip(records, pages, strict=True)},
        )  # fmt: skip
    finally:
        if not started:
            await queue.discard(job.id)
    return JSONResponse(
        {"job_id": str(job.id), "status": "pending", "run_id": job.request_id}, status_code=201
    )


async def _uploaded(store: ObjectStore, key: str, name: str) -> bytes:
    if not await store.size(key):
        raise HTTPException(400, f"{name} has not been uploaded: PUT the document to its url")
    return await store.read(key)


# Multipart has no null: a schema-driven client (and the SDKs) spell None "null".
NullIsAbsentStr = Annotated[str | None, NullIsAbsent, Form()]


# A part without a file name arrives as text: it is still the document's bytes (and is
# refused at the door unless they are a PDF or an image); "null" is multipart's None.
Documents = Annotated[list[UploadFile | str] | None, File(description="PDF or image")]
# Bounds sit on the string itself, so an absent ("null") value is not measured.
Short = Annotated[str, StringConstraints(max_length=16)]
Name = Annotated[str, StringConstraints(max_length=64)]


@doc_ai_router.post("/digitise", responses=error_responses(413, 503), status_code=201)
async def digitise(
    request: Request,
    file: Documents = None,
    upload_ids: NullIsAbsentStr = None,
    language: Annotated[Short | None, NullIsAbsent, Form()] = None,
    content_type: Annotated[
        Literal["printed", "handwritten", "mixed"] | None, NullIsAbsent, Form()
    ] = None,
    model: Annotated[Name | None, NullIsAbsent, Form()] = None,
) -> JSONResponse:
    parameters = {"language": language, "content_type": content_type, "model": model}
    return await _submit(
        request, "doc-ai-digitise", {k: v for k, v in parameters.items() if v}, file, upload_ids
    )


@doc_ai_router.post("/extract", responses=error_responses(404, 413, 503), status_code=201)
async def extract(
    request: Request,
    file: Documents = None,
    upload_ids: NullIsAbsentStr = None,
    schema_text: Annotated[
        str | None,
        NullIsAbsent,
        Form(alias="schema", description="The extraction JSON schema, as a string"),
    ] = None,
    config_id: NullIsAbsentStr = None,
    output_format: Annotated[Literal["json", "csv", "xlsx"] | None, NullIsAbsent, Form()] = None,
    classification: Annotated[Literal["true", "false"] | None, NullIsAbsent, Form()] = None,
    model: Annotated[Name | None, NullIsAbsent, Form()] = None,
) -> JSONResponse:
    if (schema_text is None) == (config_id is None):
        raise HTTPException(400, "send the extraction schema or a config_id, not both")
    if config_id is not None:
        raise HTTPException(
            404, f"no saved extraction configuration {config_id[:60]!r}: this platform keeps"
            " none; send the schema inline",
        )  # fmt: skip
    if output_format not in (None, "json"):
        raise HTTPException(400, f"output_format {output_format} is not supported; use json")
    if classification == "true":
        raise HTTPException(400, "classification is not supported; send classification=false")
    assert schema_text is not None
    try:
        parsed = load_schema(schema_text)
    except SchemaRejected as exc:
        raise HTTPException(400, f"schema: {exc}") from None
    parameters: dict[str, Any] = {"schema": parsed}
    if model:
        parameters["model"] = model
    return await _submit(request, "doc-ai-extract", parameters, file, upload_ids)


async def _job(request: Request, job_id: UUID) -> JobRecord:
    tenant = await _tenant(request)
    queue: JobQueue = request.app.state.jobs
    job = await queue.get(job_id, tenant.id)
    if job is None or job.kind not in _PIPELINE:
        raise HTTPException(404, f"no document job {job_id} for this API key")
    return job


def _status(job: JobRecord) -> str:
    if job.state == "Failed" and all(f.state == "API Error" for f in job.files):
        return "rejected"
    return _STATUS[job.state]


def _usage(job: JobRecord) -> dict[str, int]:
    done = [f for f in job.files if f.state in ("Success", "API Error", "Internal Server Error")]
    total = sum(f.pages_total or 0 for f in job.files)
    processed = sum(f.pages_total or 0 for f in done)
    succeeded = sum(f.pages_succeeded or 0 for f in done if f.state == "Success")
    return {
        "pages_total": total,
        "pages_processed": processed,
        "pages_succeeded": succeeded,
        "pages_failed": processed - succeeded,
    }


@doc_ai_router.get("/{job_id}/status", responses=error_responses(404))
async def get_status(request: Request, job_id: UUID) -> dict[str, Any]:
    job = await _job(request, job_id)
    body: dict[str, Any] = {
        "job_id": str(job.id),
        "status": _status(job),
        "pipeline": _PIPELINE[job.kind],
        "usage": _usage(job),
        "created_at": job.created_at.isoformat(),
        "updated_at": job.updated_at.isoformat(),
    }
    if job.error_message and job.state in TERMINAL_JOB_STATES:
        body["error_message"] = job.error_message
    return body


async def _finished(request: Request, job_id: UUID) -> JobRecord:
    job = await _job(request, job_id)
    if job.state not in TERMINAL_JOB_STATES:
        raise HTTPException(
            409, f"job {job.id} is {_status(job)}: results exist once it is finished"
        )
    return job


async def _outputs(request: Request, job: JobRecord) -> list[tuple[FileRecord, dict[str, Any]]]:
    store: ObjectStore = request.app.state.objects
    return [
        (f, json.loads(await store.read(f.output_key)) if f.output_key else {}) for f in job.files
    ]


Format = Annotated[Literal["md", "html", "json"], Query(description="Page content format")]


async def _results(request: Request, job: JobRecord, fmt: str) -> dict[str, Any]:
    outputs = await _outputs(request, job)
    body: dict[str, Any] = {
        "type": _PIPELINE[job.kind], "job_id": str(job.id), "status": _status(job),
        "usage": _usage(job),
    }  # fmt: skip
    if job.kind == "doc-ai-extract":
        (_, output), *_ = outputs
        extraction = output.get("extraction") or {"result": {}, "annotations": {}}
        body.update(result=extraction["result"], annotations=extraction["annotations"], version=1)
        return body
    documents = []
    for f, output in outputs:
        document: dict[str, Any] = {"file_name": f.name}
        if f.state == "Success":
            document["pages"] = [
                {"page_number": page["page_number"], "content": _content(page, fmt)}
                for page in output["pages"]
            ]
        else:
            document["pages"] = []
            document["error_message"] = f.error_message
        documents.append(document)
    body["documents"] = documents
    return body


def _content(page: dict[str, Any], fmt: str) -> str:
    if fmt == "md":
        return str(page["markdown"])
    if fmt == "html":
        return str(page["html"])
    return json.dumps(page["layout"], ensure_ascii=False)


@doc_ai_router.get("/{job_id}/results", responses=error_responses(404, 409))
async def get_results(request: Request, job_id: UUID, format: Format = "json") -> Any:
    return await _results(request, await _finished(request, job_id), format)


@doc_ai_router.get("/{job_id}/download-url", responses=error_responses(404, 409))
async def get_download_url(request: Request, job_id: UUID) -> dict[str, Any]:
    job = await _finished(request, job_id)
    key = f"jobs/{job.id}/outputs/results.json"
    store: ObjectStore = request.app.state.objects
    if await store.size(key) is None:
        body = await _results(request, job, "json")
        await store.put_bytes(key, json.dumps(body, ensure_ascii=False, indent=2).encode())
    signer: UrlSigner = request.app.state.signer
    signed = signer.sign("GET", key, ttl_s=LINK_TTL_S)
    return {
        "method": "GET",
        "url": signed.absolute(str(request.base_url)),
        "headers": {},
        "expires_at": signed.expires_at.isoformat(),
    }

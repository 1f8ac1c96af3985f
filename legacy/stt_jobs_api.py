"""Batch speech-to-text jobs: ``/speech-to-text/job/v1`` and ``/speech-to-text-translate/job/v1``
(sdk-contract §1.5, §1.9; rfcs/0007).

The flow the SDK's ``create_job`` → ``upload_files`` → ``start`` → ``wait_until_complete`` →
``download_outputs`` drives: initialise (an ``Accepted`` job), ``upload-files`` (a signed PUT
URL per file name, served by ``storage_api.py``), ``start`` (each uploaded file held and
queued: ``Pending``), the worker (``Running``, then ``Completed`` or ``Failed``), and
``download-files`` (a signed GET URL per output, ``<input name>.json``, the REST API's answer
for that file). A job some of whose files failed is ``Completed`` with its failures counted
and each failed file's ``state`` and ``error_message`` in ``job_details``: this API has no
partial state (the SDK's helpers stop on ``completed``/``failed``).

Billing: ``speech-to-text-job`` (``-translate-job``) in ``audio_seconds``, each file settled
once when it succeeds (request id ``job:<job_id>:<file_id>``); the start holds each file's
duration as its header declares it. Status calls need the API key but are not billed.
A ``callback`` ({url, auth_token}) is POSTed the job's status once it ends, by the worker
(``jobs/callbacks.py``: at least once, retried, ``Authorization: Bearer <auth_token>``).
Not supported: diarization (the simulated recogniser knows no speakers: refused with 400
rather than answered with invented speakers); ``ptu_id`` (dedicated capacity) is accepted and
has no effect.
"""

from __future__ import annotations

import asyncio
from decimal import ROUND_CEILING, Decimal
from typing import Annotated, Any, Final, Literal
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    UrlConstraints,
    ValidationError,
)

from banyan.contract import SHADOW
from legacy.commerce.billing import Billing, Tenant
from legacy.error_docs import error_responses
from legacy.jobs.queue import JobKind, JobQueue, JobRecord
from legacy.jobs.starting import start_job
from legacy.jobs.status import STORAGE, public_state, stt_status
from legacy.metering import api_key_from
from legacy.speech.decode import probe_seconds
from legacy.storage import ObjectStore, UrlSigner
from legacy.stt_api import MAX_KEYTERM_CHARS, MAX_KEYTERMS, InputAudioCodec, SttLanguage, SttMode

__all__ = ["stt_jobs_router"]

# As the platform's published limit (docs.sarvam.ai, Batch API: 20 files per job).
MAX_FILES_PER_JOB: Final = 20
LINK_TTL_S: Final = 3600.0

FileName = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^/\\]+$")]


class SttJobParameters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language_code: SttLanguage | None = None
    model: Literal["saaras:v3", "saaras:v4", "saarika:v2.5"] | None = None
    mode: SttMode | None = None
    with_timestamps: bool | None = None
    with_diarization: bool | None = None
    num_speakers: Annotated[int, Field(ge=1, le=16)] | None = None
    input_audio_codec: InputAudioCodec | None = None
    keyterms: (
        Annotated[
            list[Annotated[str, StringConstraints(min_length=1, max_length=MAX_KEYTERM_CHARS)]],
            Field(max_length=MAX_KEYTERMS),
        ]
        | None
    ) = None


class SttTranslateJobParameters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: Annotated[str, StringConstraints(max_length=4000)] | None = None
    model: Literal["saaras:v2.5"] | None = None
    with_diarization: bool | None = None
    num_speakers: Annotated[int, Field(ge=1, le=16)] | None = None
    input_audio_codec: InputAudioCodec | None = None


class Callback(BaseModel):
    url: Annotated[AnyHttpUrl, UrlConstraints(max_length=2048)]
    auth_token: Annotated[str, StringConstraints(max_length=1024)] | None = None


class InitSttJob(BaseModel):
    job_parameters: SttJobParameters = Field(default_factory=SttJobParameters)
    callback: Callback | None = None


class InitSttTranslateJob(BaseModel):
    job_parameters: SttTranslateJobParameters = Field(default_factory=SttTranslateJobParameters)
    callback: Callback | None = None


class FilesRequest(BaseModel):
    job_id: UUID
    files: Annotated[list[FileName], Field(min_length=1, max_length=MAX_FILES_PER_JOB)]


PtuId = Annotated[int | None, Query(description="Dedicated capacity id (accepted; no effect)")]


async def _tenant(request: Request) -> Tenant:
    billing: Billing = request.app.state.billing
    return await billing.tenant_for_key(api_key_from(request.headers))


async def _job(request: Request, job_id: UUID, kind: JobKind) -> JobRecord:
    tenant = await _tenant(request)
    queue: JobQueue = request.app.state.jobs
    job = await queue.get(job_id, tenant.id)
    if job is None or job.kind != kind:
        raise HTTPException(404, f"no job {job_id} (job ids are per API key's tenant)")
    return job


def _links(request: Request, files: dict[str, str], method: str) -> dict[str, Any]:
    signer: UrlSigner = request.app.state.signer
    base = str(request.base_url)
    urls = {}
    for name, key in files.items():
        signed = signer.sign(method, key, ttl_s=LINK_TTL_S)
        urls[name] = {
            "file_url": signed.absolute(base),
            "file_metadata": {"expires_at": signed.expires_at.isoformat()},
        }
    return urls


def _router(prefix: str, kind: JobKind, route: str, init_model: type[BaseModel]) -> APIRouter:
    router = APIRouter(prefix=prefix, tags=["speech jobs"])

    async def initialise(request: Request, ptu_id: PtuId = None) -> dict[str, Any]:
        try:
            body = init_model.model_validate(await _json_body(request))
        except ValidationError as exc:  # the envelope's 422, naming each field, as for a body
            errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
            raise RequestValidationError(errors) from None
        params = body.job_parameters.model_dump(exclude_none=True)  # type: ignore[attr-defined]
        if params.get("with_diarization"):
            raise HTTPException(
                400, "with_diarization is not supported: this platform's recogniser does not"
                " tell speakers apart; send with_diarization=false",
            )  # fmt: skip
        if params.get("keyterms") and params.get("model") != "saaras:v4":
            raise HTTPException(400, "keyterms are only supported with model saaras:v4")
        tenant = await _tenant(request)
        queue: JobQueue = request.app.state.jobs
        given = body.callback  # type: ignore[attr-defined]
        callback = given.model_dump(mode="json") if given else None
        job = await queue.create(
            kind, tenant_id=tenant.id, parameters=params, request_id=request.state.request_id,
            shadow=request.headers.get(SHADOW) == "1", callback=callback,
        )  # fmt: skip
        return {
            "job_id": str(job.id),
            "storage_container_type": STORAGE,
            "job_parameters": params,
            "job_state": job.state,
        }

    async def upload_files(request: Request, body: FilesRequest, ptu_id: PtuId = None) -> Any:
        job = await _job(request, body.job_id, kind)
        if job.state != "Accepted":
            raise HTTPException(
                400, f"job {job.id} is {job.state}: files can only be added before it starts"
            )
        if len(set(body.files)) != len(body.files):
            raise HTTPException(400, "files: each file name may appear once")
        known = {f.name for f in job.files}
        if len(known | set(body.files)) > MAX_FILES_PER_JOB:
            raise HTTPException(400, f"a job takes at most {MAX_FILES_PER_JOB} files")
        queue: JobQueue = request.app.state.jobs
        records = await queue.register_files(
            job.id, body.files, key_of=lambda file_id, _: f"jobs/{job.id}/inputs/{file_id}"
        )
        return {
            "job_id": str(job.id),
            "job_state": job.state,
            "upload_urls": _links(request, {f.name: f.object_key for f in records}, "PUT"),
            "storage_container_type": STORAGE,
        }

    async def start(request: Request, job_id: UUID, ptu_id: PtuId = None) -> dict[str, Any]:
        job = await _job(request, job_id, kind)
        if job.state != "Accepted":
            return stt_status(job)  # started already: starting again changes nothing
        if not job.files:
            raise HTTPException(
                400, "the job has no files: ask upload-files for links and upload to them first"
            )
        store: ObjectStore = request.app.state.objects
        estimates: dict[UUID, Decimal] = {}
        for f in job.files:
            if not await store.size(f.object_key):
                raise HTTPException(
                    400, f"{f.name} was not uploaded (or is empty): PUT it to its upload link"
                    " first, or ask upload-files for a new link",
                )  # fmt: skip
            data = await store.read(f.object_key)
            seconds = await asyncio.to_thread(
                probe_seconds, data, codec=job.parameters.get("input_audio_codec")
            )
            estimates[f.file_id] = Decimal(str(seconds or 0)).quantize(
                Decimal("0.001"), rounding=ROUND_CEILING
            )
        queue: JobQueue = request.app.state.jobs
        await start_job(request, queue, job, route=route, unit="audio_seconds", estimates=estimates)
        started = await queue.get(job.id, job.tenant_id)
        assert started is not None
        return stt_status(started)

    async def status(request: Request, job_id: UUID) -> dict[str, Any]:
        return stt_status(await _job(request, job_id, kind))

    async def download_files(request: Request, body: FilesRequest, ptu_id: PtuId = None) -> Any:
        job = await _job(request, body.job_id, kind)
        outputs = {f.output_name: f.output_key for f in job.files if f.state == "Success"}
        missing = [name for name in body.files if name not in outputs]
        if missing:
            ready = ", ".join(sorted(n for n in outputs if n)) or "none yet"
            raise HTTPException(
                400, f"no output named {', '.join(missing)} in job {job.id} (ready: {ready})"
            )
        chosen = {name: outputs[name] for name in body.files}
        return {
            "job_id": str(job.id),
            "job_state": public_state(job),
            "download_urls": _links(request, chosen, "GET"),  # type: ignore[arg-type]
            "storage_container_type": STORAGE,
        }

    errors = error_responses(404, 503)
    router.add_api_route("", initialise, methods=["POST"], responses=errors)
    router.add_api_route("/upload-files", upload_files, methods=["POST"], responses=errors)
    router.add_api_route("/{job_id}/start", start, methods=["POST"], responses=errors)
    router.add_api_route("/{job_id}/status", status, methods=["GET"], responses=errors)
    router.add_api_route("/download-files", download_files, methods=["POST"], responses=errors)
    return router


async def _json_body(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise HTTPException(400, 'the body must be JSON: {"job_parameters": {...}}') from None


def stt_jobs_router() -> APIRouter:
    router = APIRouter()
    router.include_router(
        _router("/speech-to-text/job/v1", "stt", "speech-to-text-job", InitSttJob)
    )
    router.include_router(
        _router(
            "/speech-to-text-translate/job/v1", "stt-translate", "speech-to-text-translate-job",
            InitSttTranslateJob,
        )
    )  # fmt: skip
    return router

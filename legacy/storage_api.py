"""``PUT`` and ``GET /storage/v1/objects/{key}``: the upload and download links of the job APIs.

No API key: the SDK helpers send none (sdk-contract §1.9). The signed query string is the only
credential (``storage/signing.py``); every refusal is a 403 in the platform's envelope saying
what was wrong with the URL. Uploads stream to a temporary file and are renamed into place, so
a cut-off or oversized upload (413) leaves nothing behind; re-uploading to a still valid link
replaces the object, as a blob store would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import StreamingResponse

from legacy.error_docs import error_responses
from legacy.storage import ObjectMissing, ObjectStore, ObjectTooLarge, SignatureRejected, UrlSigner
from legacy.storage.objects import check_key

__all__ = ["MAX_OBJECT_BYTES", "storage_router"]

# By the key's first segment: documents for doc-ai (uploads/), job inputs (jobs/).
MAX_OBJECT_BYTES = {"uploads": 50 * 1024 * 1024, "jobs": 100 * 1024 * 1024}

storage_router = APIRouter(tags=["storage"])

Exp = Annotated[str | None, Query(description="Expiry, unix seconds (signed)")]
Sig = Annotated[str | None, Query(description="HMAC-SHA256 of method, key and exp")]
Ct = Annotated[str | None, Query(description="The Content-Type an upload must carry (signed)")]


def _checked(request: Request, method: str, key: str, exp: str | None, sig: str | None,
             ct: str | None) -> str:  # fmt: skip
    try:
        check_key(key)
    except ValueError:
        raise HTTPException(403, "this object URL names no object this platform made") from None
    signer: UrlSigner = request.app.state.signer
    try:
        signer.verify(
            method, key, exp=exp, sig=sig, signed_content_type=ct,
            sent_content_type=request.headers.get("content-type"),
        )  # fmt: skip
    except SignatureRejected as exc:
        raise HTTPException(403, str(exc)) from None
    return key


@storage_router.put(
    "/storage/v1/objects/{key:path}", status_code=201, responses=error_responses(403, 413)
)
async def put_object(request: Request, key: str, exp: Exp = None, sig: Sig = None,
                     ct: Ct = None) -> Response:  # fmt: skip
    return await _put_object(request, key, exp, sig, ct)


@storage_router.get("/storage/v1/objects/{key:path}", responses=error_responses(403, 404))
async def get_object(request: Request, key: str, exp: Exp = None, sig: Sig = None) -> Response:
    return await _get_object(request, key, exp, sig)


@storage_router.api_route(
    "/storage/v1/objects/{key:path}", methods=["POST", "DELETE", "PATCH", "OPTIONS"],
    include_in_schema=False,
)  # fmt: skip
async def other_method(request: Request) -> Response:
    """A link takes GET and PUT; anything else is 405 naming both (Starlette's own 405 names
    only the first route that matched the path)."""
    raise HTTPException(
        405, f"method {request.method} is not allowed on an object link; use GET or PUT",
        headers={"Allow": "GET, PUT"},
    )  # fmt: skip


async def _put_object(request: Request, key: str, exp: str | None, sig: str | None,
                      ct: str | None) -> Response:  # fmt: skip
    _checked(request, "PUT", key, exp, sig, ct)
    limit = MAX_OBJECT_BYTES.get(key.split("/", 1)[0], min(MAX_OBJECT_BYTES.values()))
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"the upload is {declared} bytes; at most {limit >> 20} MiB")
    store: ObjectStore = request.app.state.objects
    try:
        size = await store.put_stream(key, request.stream(), max_bytes=limit)
    except ObjectTooLarge:
        raise HTTPException(413, f"the upload is over {limit >> 20} MiB") from None
    return Response(status_code=201, headers={"x-object-size": str(size)})


async def _get_object(request: Request, key: str, exp: str | None, sig: str | None) -> Response:
    _checked(request, "GET", key, exp, sig, None)
    store: ObjectStore = request.app.state.objects
    size = await store.size(key)
    if size is None:
        raise HTTPException(404, "this object does not exist (yet): is the job finished?")
    media = "application/json" if key.endswith(".json") else "application/octet-stream"
    try:
        chunks = store.stream(key)
        first = await anext(chunks, b"")
    except ObjectMissing:
        raise HTTPException(404, "this object was deleted") from None

    async def body() -> AsyncIterator[bytes]:
        yield first
        async for chunk in chunks:
            yield chunk

    return StreamingResponse(body(), media_type=media, headers={"content-length": str(size)})

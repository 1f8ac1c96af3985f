"""How a batch speech job looks from outside: the body of its status call (sdk-contract §1.5),
which is also what its callback is sent (``callbacks.py``)."""

from __future__ import annotations

from typing import Any, Final

from legacy.jobs.queue import TERMINAL_JOB_STATES, FileRecord, JobRecord

__all__ = ["STORAGE", "public_state", "stt_status"]

STORAGE: Final = "Local"


def public_state(job: JobRecord) -> str:
    # No partial state in this API: a job with some failed files is Completed with counts.
    return "Completed" if job.state == "PartiallyCompleted" else job.state


def _detail(f: FileRecord) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "inputs": [{"file_name": f.name, "file_id": str(f.file_id)}],
        "outputs": [],
    }
    if f.state == "Success" and f.output_name:
        detail["outputs"] = [{"file_name": f.output_name, "file_id": str(f.file_id)}]
    if f.state in ("Success", "API Error", "Internal Server Error"):
        detail["state"] = f.state
    if f.state != "Success" and f.error_message:
        detail["error_message"] = f.error_message
        detail["exception_name"] = f.exception_name
    return detail


def stt_status(job: JobRecord) -> dict[str, Any]:
    succeeded = sum(f.state == "Success" for f in job.files)
    failed = sum(f.state in ("API Error", "Internal Server Error") for f in job.files)
    body: dict[str, Any] = {
        "job_state": public_state(job),
        "created_at": job.created_at.isoformat(),
        "updated_at": job.updated_at.isoformat(),
        "job_id": str(job.id),
        "total_files": len(job.files),
        "successful_files_count": succeeded,
        "failed_files_count": failed,
        "storage_container_type": STORAGE,
        "job_details": [_detail(f) for f in job.files],
    }
    if job.error_message and job.state in TERMINAL_JOB_STATES:
        body["error_message"] = job.error_message
    return body

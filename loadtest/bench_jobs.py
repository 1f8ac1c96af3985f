"""Batch jobs through a whole lab: how long a job takes from submit to done, and throughput.

Starts a lab (``banyan up``: temporary state directory, free ports; one worker process with
its default two slots), then, directly on legacy with the demo tenant's key:

* ``digitise 1 page``: a generated one-page image (``tests/legacy/documents.py``) submitted
  with ``POST /doc-ai/v1/job/digitise`` and polled every 20 ms until ``completed``; repeated.
  Most of it is the real OCR engine (RapidOCR) on the inference server.
* ``stt 1 file``: a batch speech-to-text job of one file of synthesized speech (eSpeak NG,
  ~10 s), from ``start`` to ``Completed``; repeated.
* ``stt 8 files``: one job of eight such files: files per second with two worker slots.

Reported: the median and spread of the repeats, with the lab's machine. Polling adds up to
20 ms to each latency. Reports, never gates; loopback only, every loop bounded by count.

    .venv/bin/python loadtest/bench_jobs.py            # ~2 min
    .venv/bin/python loadtest/bench_jobs.py --repeats 3
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loadtest.bench_candidate import start_lab, stop_lab
from tests.legacy.documents import make_image

POLL_S = 0.02
TIMEOUT_S = 300.0


def speech_wav(http: httpx.Client) -> bytes:
    """About 10 s of English speech at 16 kHz, from the lab's own TTS route (eSpeak NG)."""
    answer = http.post("/text-to-speech", json={
        "text": "The quarterly report is ready. Revenue grew by twelve percent this year, and"
        " costs stayed flat. We will meet on Monday to plan the next quarter.",
        "language_code": "en-IN", "speech_sample_rate": 16000,
        "output_audio_codec": "wav",
    })  # fmt: skip
    answer.raise_for_status()
    return base64.b64decode(answer.json()["audios"][0])


def until(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("the job did not finish in time")
        time.sleep(POLL_S)


def digitise_once(http: httpx.Client, page: bytes) -> float:
    started = time.perf_counter()
    job = http.post("/doc-ai/v1/job/digitise", files=[("file", ("p.png", page, "image/png"))])
    job.raise_for_status()
    job_id = job.json()["job_id"]
    until(lambda: http.get(f"/doc-ai/v1/job/{job_id}/status").json()["status"] == "completed")
    return time.perf_counter() - started


def stt_job(http: httpx.Client, wav: bytes, files: int) -> float:
    job_id = http.post("/speech-to-text/job/v1", json={"job_parameters": {}}).json()["job_id"]
    names = [f"f{n}.wav" for n in range(files)]
    links = http.post(
        "/speech-to-text/job/v1/upload-files", json={"job_id": job_id, "files": names}
    )
    for name in names:
        put = httpx.put(links.json()["upload_urls"][name]["file_url"], content=wav)
        put.raise_for_status()
    started = time.perf_counter()
    http.post(f"/speech-to-text/job/v1/{job_id}/start").raise_for_status()

    def done() -> bool:
        state = http.get(f"/speech-to-text/job/v1/{job_id}/status").json()["job_state"]
        if state == "Failed":
            raise RuntimeError(f"job {job_id} failed")
        return bool(state == "Completed")

    until(done)
    return time.perf_counter() - started


def spread(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    return f"{statistics.median(ms):.0f} ms (min {ms[0]:.0f}, max {ms[-1]:.0f}, n={len(ms)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    page = make_image(["# Quarterly Report", "Revenue grew by twelve percent",
                       "Costs stayed flat this year"])  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-jobs-") as tmp:
        process, lab = start_lab(Path(tmp) / "state", Path(tmp) / "lab.log")
        try:
            headers = {"api-subscription-key": lab["demo_api_key"]}
            with httpx.Client(base_url=lab["legacy_url"], headers=headers, timeout=60) as http:
                wav = speech_wav(http)
                digitise_once(http, page)  # the OCR engine loads on its first page
                ocr = [digitise_once(http, page) for _ in range(args.repeats)]
                one = [stt_job(http, wav, 1) for _ in range(args.repeats)]
                eight = [stt_job(http, wav, 8) for _ in range(max(1, args.repeats // 3))]
        finally:
            stop_lab(process)
    cpu = os.cpu_count()
    print(f"machine: {cpu} cores; one worker process, 2 slots; poll every {POLL_S * 1000:.0f} ms")
    print(f"digitise 1 page (1240x~400 px image), submit to completed: {spread(ocr)}")
    print(f"stt 1 file ({len(wav) / 32000:.1f} s speech), start to Completed: {spread(one)}")
    rates = [8 / s for s in eight]
    print(f"stt 8 files, start to Completed: {spread(eight)};"
          f" {statistics.median(rates):.2f} files/s")  # fmt: skip


if __name__ == "__main__":
    main()

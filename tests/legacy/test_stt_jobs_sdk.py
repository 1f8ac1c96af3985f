"""Batch speech-to-text jobs with the real sarvamai SDK's helpers, direct and through the proxy:
create → upload (signed PUT links) → start → wait → download (signed GET links), worked by
the platform's worker process; each output is the REST API's answer for that file, and each
file is billed once."""

from __future__ import annotations

import asyncio
import http.server
import json
import threading
import time
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx
import pytest
from sarvamai.core.api_error import ApiError

from tests.legacy.test_stt_sdk import billed_seconds


def _top_up(platform, key: str, credits: Decimal) -> None:
    from legacy.commerce.keys import key_hash

    async def add() -> None:
        conn = await asyncpg.connect(platform.database_url)
        try:
            await conn.execute(
                "UPDATE legacy.wallets SET balance = balance + $2 WHERE tenant_id ="
                " (SELECT tenant_id FROM legacy.api_keys WHERE key_hash = $1)",
                key_hash(key), credits,
            )  # fmt: skip
        finally:
            await conn.close()

    asyncio.run(add())


def job_ledger(platform, job_id: str) -> list[tuple[str, str, Decimal]]:
    """(request id, route, quantity) of the live ledger rows of one job."""

    async def fetch() -> list[tuple[str, str, Decimal]]:
        conn = await asyncpg.connect(platform.database_url)
        try:
            rows = await conn.fetch(
                "SELECT request_id, route, quantity FROM legacy.ledger"
                " WHERE request_id LIKE $1 ORDER BY request_id",
                f"job:{job_id}:%",
            )
        finally:
            await conn.close()
        return [(r["request_id"], r["route"], r["quantity"]) for r in rows]

    return asyncio.run(fetch())


def test_a_batch_job_transcribes_each_file_as_the_rest_api_does(
    client, base_url: str, platform, speech, tmp_path: Path
) -> None:
    sdk = client(base_url, platform.make_tenant())
    short = speech.pcm[: len(speech.pcm) // 2]
    files = {"whole.wav": speech.wav(), "half.wav": _wav(short)}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)

    job = sdk.speech_to_text_job.create_job(
        model="saaras:v3", language_code="hi-IN", with_timestamps=True
    )
    assert job.get_status().job_state == "Accepted"
    assert job.upload_files([str(tmp_path / name) for name in files])
    started = job.start()
    assert started.job_state in ("Pending", "Running", "Completed")
    final = job.wait_until_complete(poll_interval=1, timeout=120)
    assert final.job_state == "Completed", final
    assert (final.successful_files_count, final.failed_files_count) == (2, 0)
    assert final.storage_container_type == "Local"

    out = tmp_path / "out"
    assert job.download_outputs(str(out))
    for name, data in files.items():
        output = json.loads((out / f"{name}.json").read_text())
        direct = sdk.speech_to_text.transcribe(
            file=(name, data, "audio/wav"), model="saaras:v3", language_code="hi-IN",
            with_timestamps=True,
        )  # fmt: skip
        assert output["transcript"] == direct.transcript
        assert output["timestamps"]["words"] == direct.timestamps.words
        assert output["language_code"] == "hi-IN"

    ledger = job_ledger(platform, job.job_id)
    assert [route for _, route, _ in ledger] == ["speech-to-text-job"] * 2
    by_file = {d.inputs[0].file_id: d.inputs[0].file_name for d in final.job_details}
    expected = {"whole.wav": billed_seconds(speech.pcm), "half.wav": billed_seconds(short)}
    assert {by_file[rid.rsplit(":", 1)[1]]: qty for rid, _, qty in ledger} == expected


def test_a_file_that_is_not_audio_fails_alone_and_is_not_billed(
    client, base_url: str, platform, speech, tmp_path: Path
) -> None:
    sdk = client(base_url, platform.make_tenant())
    (tmp_path / "speech.wav").write_bytes(speech.wav())
    (tmp_path / "notes.wav").write_bytes(b"these are not audio samples" * 100)
    job = sdk.speech_to_text_translate_job.create_job()
    job.upload_files([str(tmp_path / "speech.wav"), str(tmp_path / "notes.wav")])
    job.start()
    final = job.wait_until_complete(poll_interval=1, timeout=120)
    assert final.job_state == "Completed"
    assert (final.successful_files_count, final.failed_files_count) == (1, 1)
    failed = next(d for d in final.job_details if d.inputs[0].file_name == "notes.wav")
    assert failed.state == "API Error"
    assert "could not read the file as audio" in failed.error_message
    results = job.get_file_results()
    assert [f["file_name"] for f in results["successful"]] == ["speech.wav"]
    ledger = job_ledger(platform, job.job_id)
    assert [(route, qty) for _, route, qty in ledger] == [
        ("speech-to-text-translate-job", billed_seconds(speech.pcm))
    ]


def test_starting_before_uploading_says_which_file_is_missing(
    client, base_url: str, platform
) -> None:
    sdk = client(base_url, platform.make_tenant())
    job = sdk.speech_to_text_job.create_job()
    sdk.speech_to_text_job.get_upload_links(job_id=job.job_id, files=["a.wav"])
    with pytest.raises(ApiError) as refused:
        job.start()
    assert refused.value.status_code == 400
    assert "a.wav was not uploaded" in refused.value.body["error"]["message"]
    assert job.get_status().job_state == "Accepted"  # nothing lost: upload, then start


def test_an_empty_wallet_is_refused_at_start_and_the_job_can_start_later(
    client, base_url: str, platform, speech, tmp_path: Path
) -> None:
    key = platform.make_tenant(credits="0")
    sdk = client(base_url, key)
    (tmp_path / "speech.wav").write_bytes(speech.wav())
    job = sdk.speech_to_text_job.create_job()
    job.upload_files([str(tmp_path / "speech.wav")])
    with pytest.raises(ApiError) as refused:
        job.start()
    assert refused.value.status_code == 402
    assert job.get_status().job_state == "Accepted"
    _top_up(platform, key, Decimal(10))
    job.start()
    assert job.wait_until_complete(poll_interval=1, timeout=120).job_state == "Completed"


def test_jobs_are_private_to_their_tenant(client, base_url: str, platform) -> None:
    owner = client(base_url, platform.make_tenant())
    stranger = client(base_url, platform.make_tenant())
    job = owner.speech_to_text_job.create_job()
    response = httpx.get(
        f"{base_url}/speech-to-text/job/v1/{job.job_id}/status",
        headers={"api-subscription-key": stranger._client_wrapper.api_subscription_key},
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found_error"


def test_diarization_is_refused_rather_than_invented(client, base_url: str, platform) -> None:
    sdk = client(base_url, platform.make_tenant())
    with pytest.raises(ApiError) as refused:
        sdk.speech_to_text_job.create_job(with_diarization=True)
    assert refused.value.status_code == 400
    assert "with_diarization" in refused.value.body["error"]["message"]


def _wav(pcm: bytes) -> bytes:
    from legacy.speech.codecs import encode

    return encode(pcm, 16_000, "wav")


def test_a_job_with_a_callback_posts_its_status_when_it_ends(
    client, base_url: str, platform, speech, tmp_path: Path
) -> None:
    received: list[tuple[str | None, dict]] = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["content-length"])
            received.append((self.headers["authorization"], json.loads(self.rfile.read(length))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=hook.serve_forever, daemon=True)
    thread.start()
    try:
        sdk = client(base_url, platform.make_tenant())
        url = f"http://127.0.0.1:{hook.server_address[1]}/jobs"
        job = sdk.speech_to_text_job.create_job(callback={"url": url, "auth_token": "tok"})
        (tmp_path / "speech.wav").write_bytes(speech.wav())
        job.upload_files([str(tmp_path / "speech.wav")])
        job.start()
        assert job.wait_until_complete(poll_interval=1, timeout=120).job_state == "Completed"
        deadline = time.monotonic() + 10
        while not received and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        hook.shutdown()
        hook.server_close()
    ((token, body),) = received
    assert token == "Bearer tok"
    assert body["job_id"] == job.job_id
    assert body["job_state"] == "Completed"
    with pytest.raises(ApiError) as bad:
        sdk.speech_to_text_job.create_job(callback={"url": "ftp://example.com/x"})
    assert bad.value.status_code == 422
    assert "callback.url" in bad.value.body["error"]["message"]

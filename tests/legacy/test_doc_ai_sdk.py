"""Document AI jobs with the real sarvamai SDK, direct and through the proxy: generated pages
and PDFs with known text, read back by the platform's worker (rasterize → real OCR → layout),
and an invoice's fields extracted into a caller's schema; billed once per page."""

from __future__ import annotations

import asyncio
import json
import time

import asyncpg
import httpx
import jsonschema
import pytest
from sarvamai.core.api_error import ApiError

from tests.legacy.documents import make_image, make_invoice, make_pdf

LINES = ["# Quarterly Report", "Revenue grew by twelve percent", "Costs stayed flat this year"]
INVOICE_SCHEMA = {
    "type": "object",
    "properties": {
        "invoice_number": {"type": "string", "description": "Invoice number"},
        "customer_name": {"type": "string", "description": "Customer name"},
        "total_amount": {"type": "number", "description": "Total amount"},
        "paid": {"type": "boolean", "description": "Paid"},
    },
    "required": ["invoice_number", "total_amount"],
}


def wait(sdk, job_id: str, within: float = 120) -> str:
    deadline = time.monotonic() + within
    while (status := sdk.doc_ai.get_status(job_id).status) not in (
        "completed", "partially_completed", "failed", "rejected",
    ):  # fmt: skip
        assert time.monotonic() < deadline, f"job {job_id} still {status}"
        time.sleep(0.5)
    return status


def job_pages(platform, job_id: str) -> list[int]:
    """The pages billed for each document of one job (one live ledger row per document)."""

    async def fetch() -> list[int]:
        conn = await asyncpg.connect(platform.database_url)
        try:
            rows = await conn.fetch(
                "SELECT quantity FROM legacy.ledger WHERE request_id LIKE $1 AND unit = 'pages'",
                f"job:{job_id}:%",
            )
        finally:
            await conn.close()
        return [int(r["quantity"]) for r in rows]

    return asyncio.run(fetch())


def pages_billed(platform) -> list[object]:
    return [qty for unit, qty in platform.ledger_rows("doc-ai") if unit == "pages"]


def test_digitise_returns_the_text_of_an_image_and_a_pdf(client, base_url, platform) -> None:
    sdk = client(base_url, platform.make_tenant())
    pdf = make_pdf([LINES, ["Second page", "Nothing else here"]])
    started = sdk.doc_ai.digitise(
        file=[("report.png", make_image(LINES), "image/png"),
              ("report.pdf", pdf, "application/pdf")],
        language="en-IN",
    )  # fmt: skip
    assert started.status == "pending"
    assert wait(sdk, started.job_id) == "completed"
    status = sdk.doc_ai.get_status(started.job_id)
    assert status.pipeline == "digitise"
    assert status.usage.pages_total == 3
    assert status.usage.pages_succeeded == 3

    results = sdk.doc_ai.get_results(started.job_id, format="md")
    image_doc, pdf_doc = results.documents
    assert image_doc.file_name == "report.png"
    markdown = image_doc.pages[0].content
    assert "# Quarterly Report" in markdown
    for line in LINES[1:]:
        assert line in markdown
    assert [p.page_number for p in pdf_doc.pages] == [1, 2]
    assert "Nothing else here" in pdf_doc.pages[1].content
    html = sdk.doc_ai.get_results(started.job_id, format="html").documents[0].pages[0].content
    assert "Revenue grew by twelve percent" in html
    assert html.lstrip().startswith("<")

    billed = job_pages(platform, started.job_id)
    assert sorted(billed) == [1, 2]  # one ledger row per document, in pages

    link = sdk.doc_ai.get_download_url(started.job_id)
    downloaded = httpx.get(link.url)
    assert downloaded.status_code == 200
    assert downloaded.json()["documents"][1]["file_name"] == "report.pdf"


def test_extract_fills_the_schema_from_an_invoice(client, base_url, platform) -> None:
    sdk = client(base_url, platform.make_tenant())
    image, invoice = make_invoice()
    started = sdk.doc_ai.extract(
        file=[("invoice.png", image, "image/png")], schema=json.dumps(INVOICE_SCHEMA),
        output_format="json",
    )  # fmt: skip
    assert wait(sdk, started.job_id) == "completed"
    results = sdk.doc_ai.get_results(started.job_id)
    jsonschema.validate(results.result, INVOICE_SCHEMA)
    assert results.result["invoice_number"] == invoice.number
    assert results.result["total_amount"] == invoice.total
    assert results.result["customer_name"] == invoice.customer
    assert results.result["paid"] is True
    assert results.annotations["invoice_number"]["sources"]
    assert results.version == 1


def test_a_presigned_upload_is_digitised_by_its_upload_id(client, base_url, platform) -> None:
    sdk = client(base_url, platform.make_tenant())
    upload = sdk.doc_ai.create_upload_url(content_type="image/png")
    assert upload.method == "PUT"
    put = httpx.put(upload.url, content=make_image(LINES), headers=upload.headers)
    assert put.status_code == 201
    wrong_type = httpx.put(upload.url, content=b"x", headers={"content-type": "image/jpeg"})
    assert wrong_type.status_code == 403
    started = sdk.doc_ai.digitise(upload_ids=upload.upload_id, language="en-IN")
    assert wait(sdk, started.job_id) == "completed"
    page = sdk.doc_ai.get_results(started.job_id, format="md").documents[0].pages[0]
    assert "Revenue grew by twelve percent" in page.content
    with pytest.raises(ApiError) as reused:  # an upload feeds one job
        sdk.doc_ai.digitise(upload_ids=upload.upload_id)
    assert reused.value.status_code == 400


def test_documents_that_cannot_be_read_are_refused_at_the_door(client, base_url, platform) -> None:
    sdk = client(base_url, platform.make_tenant())
    before = len(pages_billed(platform))
    with pytest.raises(ApiError) as refused:
        sdk.doc_ai.digitise(file=[("notes.pdf", b"%PDF-1.7 this is not a pdf", "application/pdf")])
    assert refused.value.status_code == 400
    assert "notes.pdf" in refused.value.body["error"]["message"]
    with pytest.raises(ApiError) as bad_schema:
        sdk.doc_ai.extract(
            file=[("x.png", make_image(["x"]), "image/png")],
            schema=json.dumps({"type": "object", "properties": {"a": {"type": "string"}}}),
        )  # fmt: skip
    assert bad_schema.value.status_code == 400
    assert "description" in bad_schema.value.body["error"]["message"]
    assert len(pages_billed(platform)) == before


def test_a_required_field_the_document_lacks_rejects_the_job_unbilled(
    client, base_url, platform
) -> None:
    sdk = client(base_url, platform.make_tenant())
    image, _ = make_invoice()
    schema = {
        **INVOICE_SCHEMA,
        "properties": {
            **INVOICE_SCHEMA["properties"],
            "purchase_order": {"type": "string", "description": "Purchase order number"},
        },
        "required": ["purchase_order"],
    }
    started = sdk.doc_ai.extract(
        file=[("invoice.png", image, "image/png")], schema=json.dumps(schema)
    )
    assert wait(sdk, started.job_id) == "rejected"
    status = sdk.doc_ai.get_status(started.job_id)
    assert "purchase_order" in status.error_message
    assert job_pages(platform, started.job_id) == []

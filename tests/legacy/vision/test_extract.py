"""Filling a schema from laid-out pages (synthetic OCR lines through the real layout)."""

from __future__ import annotations

import jsonschema
import pytest

from legacy.vision.errors import DocumentRejected, ExtractionInvalid, SchemaRejected
from legacy.vision.extract import extract
from legacy.vision.layout import Page, build_page
from legacy.vision.ocr_client import OcrLine, OcrPage
from tests.legacy.vision.test_layout import PITCH, invoice_table, line


def laid_out(*lines: OcrLine, number: int = 1) -> Page:
    return build_page(OcrPage(number, 1240, 1754, tuple(lines)))


def text_page(*texts: str, number: int = 1) -> Page:
    """One line per text, a blank line between paragraphs where a text is empty."""
    return laid_out(*(line(t, 60, 60 + i * PITCH) for i, t in enumerate(texts) if t), number=number)


def field(kind: str = "string", description: str = "a field", **extra: object) -> dict[str, object]:
    return {"type": kind, "description": description, **extra}


INVOICE = laid_out(
    line("Invoice number: 4417", 60, 60),
    line("Customer name: Asha Rao", 60, 60 + PITCH),
    line("Vendor name: Banyan Supplies", 60, 60 + 2 * PITCH),
    line("Paid: Yes", 60, 60 + 3 * PITCH),
    *invoice_table(60 + 5 * PITCH),
    line("Total amount: 1,250.00", 60, 60 + 9 * PITCH),
    line("All amounts in INR.", 60, 60 + 10 * PITCH),
)

SCHEMA: dict[str, object] = {
    "type": "object",
    "properties": {
        "invoice_number": field(description="The invoice's number"),
        "customer": field(
            "object", "Who is billed", properties={"name": field(description="Full name")}
        ),
        "paid": field("boolean", "Whether the invoice is paid"),
        "currency": field(enum=["INR", "USD"], description="Currency of the amounts"),
        "total_amount": field("number", "Total amount payable"),
        "items": field(
            "array",
            "Line items",
            items={
                "type": "object",
                "properties": {
                    "description": field(description="What was sold"),
                    "quantity": field("integer", "How many"),
                    "amount": field("number", "Line total"),
                },
                "required": ["description", "amount"],
            },
        ),
        "due_date": field(description="When payment is due"),
    },
    "required": ["invoice_number", "total_amount"],
}


def test_an_invoice_is_filled_from_key_values_and_its_table() -> None:
    extraction = extract([INVOICE], SCHEMA)
    assert extraction.result == {
        "invoice_number": "4417",
        "customer": {"name": "Asha Rao"},
        "paid": True,
        "currency": "INR",
        "total_amount": 1250.0,
        "items": [
            {"description": "Consulting services", "quantity": 2, "amount": 1000.0},
            {"description": "Travel expenses", "amount": 250.0},  # its quantity cell is empty
        ],
    }  # due_date is nowhere in the document: absent, not null
    jsonschema.validate(extraction.result, SCHEMA)


def test_annotations_mirror_the_result_with_confidence_and_sources() -> None:
    notes = extract([INVOICE], SCHEMA).annotations
    assert set(notes) == {"invoice_number", "customer", "paid", "currency", "total_amount", "items"}
    assert notes["invoice_number"] == {
        "confidence": 0.98,
        "sources": [{"page": 1, "box": [60, 60, 360, 90], "text": "Invoice number: 4417"}],
    }
    assert set(notes["customer"]) == {"name"}
    assert notes["currency"]["confidence"] == 0.49  # a mention, no label
    items = notes["items"]
    assert isinstance(items, list)
    assert len(items) == 2
    assert set(items[1]) == {"description", "amount"}
    assert items[0]["amount"]["sources"][0]["text"] == "1,000.00"


def test_a_required_field_not_in_the_document_rejects_it_by_name() -> None:
    schema = {
        "type": "object",
        "properties": {"policy_number": field()},
        "required": ["policy_number"],
    }
    with pytest.raises(DocumentRejected) as rejected:
        extract([INVOICE], schema)
    assert "required field(s) 'policy_number'" in str(rejected.value)
    insured = field("object", properties={"age": field("integer")}, required=["age"])
    nested = {"type": "object", "properties": {"insured": insured}, "required": ["insured"]}
    with pytest.raises(DocumentRejected, match=r"'insured\.age'"):
        extract([INVOICE], nested)


def test_a_value_below_its_label_and_the_first_of_equal_matches() -> None:
    schema: dict[str, object] = {"type": "object", "properties": {"policy_number": field()}}
    below = extract([text_page("Policy number", "PX-2231")], schema)
    assert below.result == {"policy_number": "PX-2231"}
    assert below.annotations["policy_number"]["confidence"] == 0.882
    assert [s["text"] for s in below.annotations["policy_number"]["sources"]] == [
        "Policy number",
        "PX-2231",
    ]
    twice = text_page("Policy number: PX-1", "", "Policy No. PX-2")
    assert extract([twice], schema).result == {"policy_number": "PX-1"}


def test_values_that_break_the_fields_own_rules_are_not_taken() -> None:
    page = text_page("Phone: call us", "Order total: 12")
    schema = {
        "type": "object",
        "properties": {
            "phone": field(pattern=r"^\+?[0-9 ]+$"),
            "order_total": field("number", minimum=100),
        },
    }
    assert extract([page], schema).result == {}


def test_lists_come_from_a_labelled_line_or_a_table_column() -> None:
    page = text_page("Tags: urgent, export; paid")
    tags, amounts = (
        field("array", items={"type": "string"}),
        field("array", items={"type": "number"}),
    )
    schema = {"type": "object", "properties": {"tags": tags, "amounts": amounts}}
    assert extract([page], schema).result == {"tags": ["urgent", "export", "paid"]}
    assert extract([INVOICE], schema).result["amounts"] == [1000.0, 250.0]


def test_a_table_continued_on_the_next_page_adds_its_rows() -> None:
    second = laid_out(*invoice_table(60), number=2)
    result = extract([INVOICE, second], SCHEMA)
    items = result.result["items"]
    assert isinstance(items, list)
    assert len(items) == 4
    assert result.annotations["items"][2]["amount"]["sources"][0]["page"] == 2


def test_extraction_is_deterministic() -> None:
    assert extract([INVOICE], SCHEMA) == extract([INVOICE], SCHEMA)


def test_the_schema_is_checked_first() -> None:
    with pytest.raises(SchemaRejected):
        extract([INVOICE], {"type": "object", "properties": {"a": {"type": "string"}}})


def test_a_result_that_breaks_its_schema_is_never_returned() -> None:
    schema = {"type": "object", "properties": {"paid": field("boolean")}, "minProperties": 2}
    with pytest.raises(ExtractionInvalid):
        extract([INVOICE], schema)


def test_a_label_without_a_value_does_not_take_the_next_label() -> None:
    page = text_page("Policy number:", "Insured name: Asha Rao")
    schema = {"type": "object", "properties": {"policy_number": field()}}
    assert extract([page], schema).result == {}

"""Recognising a field in text: label words, key scores, and values coerced to the type."""

from __future__ import annotations

import pytest

from legacy.vision.fields import coerce, key_words, label_of, score

PLAIN = label_of("note", "A note")


def test_labels_come_from_the_name_the_description_and_the_parents() -> None:
    label = label_of("invoiceNumber", "The number of the invoice", ("billing_details",))
    assert label.name == {"invoice", "number"}
    assert label.description == {"number", "invoice"}
    assert label.context == {"billing", "detail"}
    assert label.identifier


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("Invoice No.", ["invoice", "number"]),
        ("Inv #", ["invoice", "number"]),
        ("Total Amt", ["total", "amount"]),
        ("Qty of items", ["quantity", "item"]),
    ],
)
def test_key_words_spell_out_abbreviations_and_drop_filler(key: str, expected: list[str]) -> None:
    assert key_words(key) == expected


def test_scores_prefer_exact_keys_and_use_context_and_description() -> None:
    total = label_of("total_amount", "Total amount payable")
    assert score(frozenset(key_words("Total amount")), total) == 1.0
    assert score(frozenset(key_words("Total")), total) == 0.5
    assert score(frozenset(key_words("Total tax")), total) == 0.25
    assert score(frozenset(key_words("Subtotal")), total) == 0.0
    assert score(frozenset(key_words("Amount 4417")), total) == 0.0  # a figure: not a key
    name = label_of("name", "Full name", ("customer",))
    assert score(frozenset(key_words("Customer name")), name) > score(
        frozenset(key_words("Name")), name
    )
    assert score(frozenset(key_words("Vendor name")), name) == 0.5
    birth = label_of("dob", "Date of birth")
    assert score(frozenset(key_words("Date of birth")), birth) == pytest.approx(0.9)


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("1,250.00", "number", 1250.0),
        ("Rs.1,25,000", "number", 125000),
        ("INR 99.5 only", "number", 99.5),
        ("-5 degrees", "number", -5),
        ("12.5%", "number", 12.5),
        ("none", "number", None),
        ("1,250.00", "integer", 1250),
        ("2.5", "integer", None),
        ("3 pcs", "integer", 3),
        ("Yes", "boolean", True),
        ("no, not yet", "boolean", False),
        ("TRUE", "boolean", True),
        ("maybe", "boolean", None),
        (": Asha Rao ", "string", "Asha Rao"),
        ("", "string", None),
    ],
)
def test_values_are_coerced_to_the_fields_type(text: str, kind: str, expected: object) -> None:
    assert coerce(text, {"type": kind}, PLAIN) == expected


def test_enums_match_case_insensitively_as_whole_words_longest_first() -> None:
    spec: dict[str, object] = {"type": "string", "enum": ["Paid", "Partly paid", "Unpaid"]}
    assert coerce("PARTLY PAID on 3 May", spec, PLAIN) == "Partly paid"
    assert coerce("unpaid", spec, PLAIN) == "Unpaid"
    assert coerce("prepaid", spec, PLAIN) is None
    assert coerce("Currency: inr", {"type": "string", "enum": ["INR", "USD"]}, PLAIN) == "INR"


def test_an_identifier_is_one_word() -> None:
    number = label_of("invoice_number", "The invoice's number")
    assert coerce("4417 was paid on time.", {"type": "string"}, number) == "4417"
    assert coerce("4417 was paid on time.", {"type": "string"}, PLAIN) == "4417 was paid on time."

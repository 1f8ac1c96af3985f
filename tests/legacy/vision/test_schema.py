"""Extraction schemas: the SDK's documented rules, each refused with a message naming it."""

from __future__ import annotations

import copy

import pytest

from legacy.vision.errors import SchemaRejected
from legacy.vision.schema import check_schema, load_schema

# The SDK's own example (sarvamai doc_ai.extract), which must pass.
SDK_EXAMPLE = (
    '{"type":"object","properties":{"policy_number":{"type":"string","description":"Insurance '
    'policy number"},"insured_name":{"type":"string","description":"Name of the insured '
    'person"},"sum_insured":{"type":"number","description":"Total sum insured, in INR"}}}'
)


def field(kind: str = "string", **extra: object) -> dict[str, object]:
    return {"type": kind, "description": "a field", **extra}


def nested(depth: int) -> dict[str, object]:
    """A schema whose deepest field is at ``depth`` (the root's properties are at 1)."""
    spec: dict[str, object] = field()
    for _ in range(depth - 1):
        spec = field("object", properties={"inner": spec})
    return {"type": "object", "properties": {"outer": spec}}


def test_the_sdks_example_and_every_supported_type_pass() -> None:
    assert load_schema(SDK_EXAMPLE)["type"] == "object"
    check_schema(
        {
            "type": "object",
            "properties": {
                "name": field(),
                "total": field("number", minimum=0),
                "count": field("integer"),
                "paid": field("boolean"),
                "status": field(enum=["open", "paid"]),
                "customer": field("object", properties={"city": field()}, required=["city"]),
                "tags": field("array", items={"type": "string"}),
                "lines": field(
                    "array", items={"type": "object", "properties": {"amount": field("number")}}
                ),
            },
            "required": ["name"],
        }
    )


def test_nesting_is_allowed_to_depth_4_and_refused_beyond() -> None:
    check_schema(nested(4))
    with pytest.raises(SchemaRejected) as refused:
        check_schema(nested(5))
    assert "field 'outer.inner.inner.inner.inner' is nested 5 deep; at most 4" in str(refused.value)


def test_array_items_count_as_a_level() -> None:
    items = {"type": "object", "properties": {"a": field("object", properties={"b": field()})}}
    check_schema({"type": "object", "properties": {"list": field("array", items=items)}})
    deeper = copy.deepcopy(items)
    deeper["properties"]["a"]["properties"]["b"] = field("object", properties={"c": field()})
    with pytest.raises(SchemaRejected, match=r"'list\[\]\.a\.b\.c' is nested 5 deep"):
        check_schema({"type": "object", "properties": {"list": field("array", items=deeper)}})


def one(spec: object) -> dict[str, object]:
    """A schema whose one field, ``a``, is ``spec``."""
    return {"type": "object", "properties": {"a": spec}}


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ([], "the schema must be a JSON object"),
        ({"properties": {"a": field()}}, 'root must have "type": "object"'),
        ({"type": "array", "items": field()}, 'root must have "type": "object"'),
        ({"type": "object"}, 'the schema\'s root needs "properties"'),
        ({"type": "object", "properties": {}}, "at least one field"),
        (one("text"), "field 'a' must be an object"),
        (one({"description": "x"}), "field 'a' needs a \"type\""),
        (one(field("date")), "one of string, number, integer, boolean, object, array"),
        (one(field(["string", "null"])), "field 'a' needs a \"type\""),
        (one({"type": "string"}), "field 'a' needs a non-empty \"description\""),
        (one(field(description="  ")), 'non-empty "description"'),
        (one(field("object")), "field 'a' needs \"properties\""),
        (one(field("object", properties={"b": {"type": "number"}})), "'a.b' needs a non-empty"),
        (one(field("array")), "field 'a' is an array and needs \"items\""),
        (one(field("array", items={})), "field 'a[]' needs a \"type\""),
        (one(field(enum=[])), '"enum" that is not a non-empty list'),
        (one(field(enum=["x", 1])), "enum values that are not all strings"),
        (one(field("integer", enum=[True])), "not all integers"),
        (one(field("object", properties={"b": field()}, enum=[{}])), "cannot have an enum"),
        (
            {"type": "object", "properties": {"a": field()}, "required": ["b"]},
            '"required" that names a field it does not declare',
        ),
        (one(field(anyOf=[{"type": "string"}])), "field 'a' uses anyOf"),
        (one(field(**{"$ref": "#/x"})), "field 'a' uses $ref"),
        (one(field(minimum="zero")), "not valid JSON Schema at properties/a/minimum"),
    ],
)
def test_each_rule_is_refused_with_a_clear_message(schema: object, message: str) -> None:
    with pytest.raises(SchemaRejected) as refused:
        check_schema(schema)
    assert message in str(refused.value)


def test_a_schema_that_is_not_json_is_refused() -> None:
    with pytest.raises(SchemaRejected, match="the schema is not valid JSON"):
        load_schema('{"type": "object",')

"""Values generated from JSON Schemas validate against them."""

from __future__ import annotations

import json
import random

import jsonschema
import pytest

from legacy.inference.jsongen import value_for
from legacy.inference.sentences import SENTENCES

SCHEMAS = [
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    {"type": "array", "items": {"type": "integer", "minimum": 3, "maximum": 5}, "minItems": 4,
     "maxItems": 6},
    {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
    {"type": "integer", "multipleOf": 7, "minimum": 10, "maximum": 40},
    {"type": "number", "maximum": -50},
    {"enum": ["a", 2, None]},
    {"const": {"x": [1, 2]}},
    {"type": ["null", "boolean"]},
    {"type": "string", "minLength": 120, "maxLength": 130},
    {"type": "string", "maxLength": 3},
    {"type": "string", "format": "date-time"},
    {"anyOf": [{"type": "string", "format": "email"}, {"type": "integer"}]},
    {"oneOf": [{"type": "object", "properties": {"k": {"const": 1}}, "required": ["k"]}]},
    {"allOf": [{"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
               {"properties": {"b": {"type": "boolean"}}, "required": ["b"]}]},
    {"type": "array", "prefixItems": [{"type": "string"}, {"type": "number"}], "items": False},
    {"$defs": {"tag": {"type": "string", "enum": ["x", "y"]}},
     "type": "object", "properties": {"tags": {"type": "array", "items": {"$ref": "#/$defs/tag"},
                                               "minItems": 1}}, "required": ["tags"]},
    {"definitions": {"node": {"type": "object", "properties": {
        "name": {"type": "string"},
        "children": {"type": "array", "items": {"$ref": "#/definitions/node"}}},
        "required": ["name"]}}, "$ref": "#/definitions/node"},
    {"type": "object", "required": ["undescribed"]},
    {},
]  # fmt: skip


@pytest.mark.parametrize("schema", SCHEMAS)
@pytest.mark.parametrize("seed", range(5))
def test_the_value_is_valid(schema: dict, seed: int) -> None:
    value = value_for(schema, random.Random(seed), SENTENCES["Deva"])
    jsonschema.validate(value, schema, format_checker=jsonschema.FormatChecker())


def test_the_same_seed_gives_the_same_value() -> None:
    schema = SCHEMAS[0] | {"properties": {"city": {"type": "string"}, "n": {"type": "number"}}}
    first = value_for(schema, random.Random(1), SENTENCES["Latn"])
    assert first == value_for(schema, random.Random(1), SENTENCES["Latn"])


@pytest.mark.parametrize(
    "schema",
    [
        {"$defs": {"n": {"type": "object", "properties": {"c": {"$ref": "#/$defs/n"}},
                         "required": ["c"]}}, "$ref": "#/$defs/n"},
        {"type": "string", "minLength": 10**12},
        {"type": "array", "items": {"type": "array", "minItems": 10**9}, "minItems": 10**9},
        {"type": "number", "multipleOf": 1e-320, "minimum": 1},
        {"type": "integer", "minimum": float("nan"), "maximum": float("inf")},
        {"type": "integer", "minimum": 10, "maximum": 1},
        {"$ref": "#/nowhere"},
        {"$ref": "#"},
        {"type": "object", "properties": "nope", "required": "nope"},
    ],
)  # fmt: skip
def test_hostile_schemas_end_quickly_with_a_bounded_value(schema: dict) -> None:
    value = value_for(schema, random.Random(0), SENTENCES["Latn"])
    assert len(json.dumps(value)) < 1_000_000

"""Extraction schemas: the rules a caller's JSON Schema must follow before a job is accepted.

The rules are the sarvamai SDK's, as documented for ``doc_ai.extract``: the root must be
``"type": "object"`` with non-empty ``properties``; every field needs a ``type`` and a
non-empty ``description``; the types are ``string``, ``number``, ``integer``, ``boolean``,
``object`` (with ``properties``) and ``array`` (with ``items``); ``enum`` is optional;
nesting is at most 4 deep. Then the schema must be valid JSON Schema (draft 2020-12).

Where the SDK leaves a rule open, this module decides, and says so in the message:

* **Depth** counts the containers around a field's value in the result, the root object
  included: a root property is at depth 1, ``items[].name`` (an array of objects) at depth 3.
  A field deeper than 4 is refused.
* **Array items** are not fields: they need a ``type`` but no description (the array has one);
  an object's properties inside them are fields again.
* A ``type`` is one name (not a list), an ``enum`` a non-empty list of values of that type, and
  ``required`` names only declared properties. ``$ref`` and the combinators (``anyOf``,
  ``oneOf``, ``allOf``, ``not``) are refused: write the field out with one type.

Other JSON Schema keywords (``pattern``, ``minimum``, ``format``...) are allowed; a value
found in a document that breaks them is treated as not found.
"""

from __future__ import annotations

import json
from typing import Final, cast

from jsonschema.exceptions import SchemaError
from jsonschema.validators import Draft202012Validator

from legacy.vision._types import JsonObject
from legacy.vision.errors import SchemaRejected

__all__ = ["MAX_DEPTH", "TYPES", "check_schema", "load_schema"]

TYPES: Final = ("string", "number", "integer", "boolean", "object", "array")
MAX_DEPTH: Final = 4
_REFUSED_KEYWORDS: Final = ("$ref", "anyOf", "oneOf", "allOf", "not")
_ENUM_TYPES: Final[dict[str, tuple[type, ...]]] = {
    "string": (str,), "number": (int, float), "integer": (int,), "boolean": (bool,),
}  # fmt: skip


def load_schema(text: str | bytes) -> JsonObject:
    """The schema in ``text`` (a JSON string, as the request carries it), checked."""
    try:
        schema = json.loads(text)
    except ValueError as exc:
        raise SchemaRejected(f"the schema is not valid JSON: {exc}") from exc
    check_schema(schema)
    return cast(JsonObject, schema)


def check_schema(schema: object) -> None:
    """Returns if ``schema`` follows every rule; else raises SchemaRejected naming the field
    (as a path like ``items[].price``) and the rule it breaks."""
    if not isinstance(schema, dict):
        raise SchemaRejected("the schema must be a JSON object")
    if schema.get("type") != "object":
        raise SchemaRejected('the schema\'s root must have "type": "object"')
    _check_properties(schema, "", 1)
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(part) for part in exc.path) or "the root"
        raise SchemaRejected(
            f"the schema is not valid JSON Schema at {where}: {exc.message}"
        ) from exc


def _check_properties(spec: dict[str, object], path: str, depth: int) -> None:
    properties = spec.get("properties")
    owner = f"field {path!r}" if path else "the schema's root"
    if not isinstance(properties, dict) or not properties:
        raise SchemaRejected(f'{owner} needs "properties": an object with at least one field')
    required = spec.get("required", [])
    if not isinstance(required, list) or any(name not in properties for name in required):
        raise SchemaRejected(f'{owner} has a "required" that names a field it does not declare')
    for name, field in properties.items():
        _check_field(field, f"{path}.{name}" if path else name, depth, described=True)


def _check_field(field: object, path: str, depth: int, *, described: bool) -> None:
    if depth > MAX_DEPTH:
        raise SchemaRejected(
            f"field {path!r} is nested {depth} deep; at most {MAX_DEPTH} levels are allowed "
            "(the root object and each object or array around a value count as one)"
        )
    if not isinstance(field, dict):
        raise SchemaRejected(f"field {path!r} must be an object with a type and a description")
    for keyword in _REFUSED_KEYWORDS:
        if keyword in field:
            raise SchemaRejected(f"field {path!r} uses {keyword}: write it out with one type")
    kind = field.get("type")
    if kind not in TYPES:
        raise SchemaRejected(
            f'field {path!r} needs a "type", one of {", ".join(TYPES)} (found {kind!r})'
        )
    description = field.get("description")
    if described and (not isinstance(description, str) or not description.strip()):
        raise SchemaRejected(f'field {path!r} needs a non-empty "description"')
    if "enum" in field:
        _check_enum(field["enum"], str(kind), path)
    if kind == "object":
        _check_properties(field, path, depth + 1)
    elif kind == "array":
        items = field.get("items")
        if not isinstance(items, dict):
            raise SchemaRejected(f'field {path!r} is an array and needs "items": its type')
        _check_field(items, f"{path}[]", depth + 1, described=False)


def _check_enum(enum: object, kind: str, path: str) -> None:
    allowed = _ENUM_TYPES.get(kind)
    if allowed is None:
        raise SchemaRejected(
            f"field {path!r} is an {kind} and cannot have an enum (string, number, integer and "
            "boolean fields can)"
        )
    if not isinstance(enum, list) or not enum:
        raise SchemaRejected(f'field {path!r} has an "enum" that is not a non-empty list')
    if any(isinstance(v, bool) != (kind == "boolean") or not isinstance(v, allowed) for v in enum):
        raise SchemaRejected(f"field {path!r} has enum values that are not all {kind}s")

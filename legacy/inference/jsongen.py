"""JSON values that satisfy a JSON Schema: tool-call arguments and structured outputs.

The simulator must return arguments valid against a function's ``parameters`` and outputs
valid against a ``json_schema`` response format, as a constrained-decoding model would. This
builds one value from the schema, drawing choices from a seeded RNG and text from the answer's
sentence bank (so strings are in the conversation's script).

Covered: ``type`` (one or a list), ``enum``, ``const``, objects (every property, so required
ones are there; nested), arrays (``items``, ``prefixItems``, ``minItems``/``maxItems``),
strings (``minLength``/``maxLength``; ``format`` date, date-time, time, email, uri, uuid),
integers and numbers (``minimum``/``maximum``, exclusive bounds, ``multipleOf``), booleans,
null, ``anyOf``/``oneOf`` (the first branch), ``allOf`` (merged), local ``$ref``
(``#/$defs/…``, ``#/definitions/…``). Not covered: ``pattern`` (a regex has no general
inverse; such a string is best-effort), ``not``, conditionals. Recursive schemas stop adding
optional parts past a depth, so generation always ends; a schema with no finite instance
(a required property that requires itself) gets ``null`` at a hard depth, and sizes a schema
asks for are capped (strings 4096 characters, arrays 64 items): a schema is client input.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from typing import Final

__all__ = ["JsonValue", "value_for"]

JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]
_MAX_DEPTH: Final = 6
_HARD_DEPTH: Final = 24
_MAX_STRING: Final = 4096
_MAX_ITEMS: Final = 64
_FORMATS: Final[Mapping[str, str]] = {
    "date": "2026-01-15",
    "date-time": "2026-01-15T10:30:00Z",
    "time": "10:30:00",
    "email": "user@example.com",
    "uri": "https://example.com/",
    "uuid": "123e4567-e89b-42d3-a456-426614174000",
}


def value_for(schema: object, rng: random.Random, sentences: Sequence[str]) -> JsonValue:
    """A value valid against ``schema`` (within the coverage above); deterministic for a
    given RNG state."""
    root = schema if isinstance(schema, Mapping) else {}
    return _Builder(root, rng, sentences).build(root, 0)


class _Builder:
    def __init__(
        self, root: Mapping[str, object], rng: random.Random, sentences: Sequence[str]
    ) -> None:
        self.root = root
        self.rng = rng
        self.sentences = sentences

    def build(self, schema: object, depth: int) -> JsonValue:
        if depth > _HARD_DEPTH:
            return None
        node = self.resolve(schema)
        if "const" in node:
            return _json(node["const"])
        choices = node.get("enum")
        if isinstance(choices, list) and choices:
            return _json(self.rng.choice(choices))
        for key in ("anyOf", "oneOf"):
            branches = node.get(key)
            if isinstance(branches, list) and branches:
                return self.build({**_without(node, key), **self.resolve(branches[0])}, depth)
        parts = node.get("allOf")
        if isinstance(parts, list):
            merged: dict[str, object] = dict(_without(node, "allOf"))
            for part in parts:
                merged = _merge(merged, self.resolve(part))
            return self.build(merged, depth)
        kind = _type_of(node)
        if kind == "object":
            return self.an_object(node, depth)
        if kind == "array":
            return self.an_array(node, depth)
        if kind in ("integer", "number"):
            try:
                number = self.number(node, integer=kind == "integer")
                return int(number) if kind == "integer" else number
            except (ValueError, OverflowError):  # bounds no float can meet (NaN, 1e-320 steps)
                return 0
        if kind == "boolean":
            return self.rng.random() < 0.5
        if kind == "null":
            return None
        return self.string(node)

    def resolve(self, schema: object) -> Mapping[str, object]:
        node = schema if isinstance(schema, Mapping) else {}
        for _ in range(32):  # a chain of refs, never a loop forever
            ref = node.get("$ref")
            if not isinstance(ref, str) or not ref.startswith("#/"):
                break
            target: object = self.root
            for part in ref[2:].split("/"):
                target = target.get(part, {}) if isinstance(target, Mapping) else {}
            node = {**_without(node, "$ref"), **(target if isinstance(target, Mapping) else {})}
        return node

    def an_object(self, node: Mapping[str, object], depth: int) -> JsonValue:
        properties = node.get("properties")
        props = properties if isinstance(properties, Mapping) else {}
        required = node.get("required")
        needed = set(required) if isinstance(required, list) else set()
        result: dict[str, JsonValue] = {}
        for name, sub in props.items():
            if depth < _MAX_DEPTH or name in needed:
                result[str(name)] = self.build(sub, depth + 1)
        for name in needed - set(result):  # required but not described: any value will do
            result[str(name)] = self.string({})
        return result

    def an_array(self, node: Mapping[str, object], depth: int) -> JsonValue:
        low = min(max(_int(node.get("minItems"), 0), 0), _MAX_ITEMS)
        high = min(_int(node.get("maxItems"), max(low, 3)), _MAX_ITEMS)
        prefix = node.get("prefixItems")
        items: list[JsonValue] = (
            [self.build(sub, depth + 1) for sub in prefix] if isinstance(prefix, list) else []
        )
        wanted = low if depth >= _MAX_DEPTH else self.rng.randint(low, max(low, min(high, 3)))
        item_schema = node.get("items", {})
        while len(items) < wanted and isinstance(item_schema, Mapping):
            items.append(self.build(item_schema, depth + 1))
        return items[:high] if high >= low else items

    def number(self, node: Mapping[str, object], *, integer: bool) -> float:
        low = _float(node.get("minimum"), -math.inf)
        high = _float(node.get("maximum"), math.inf)
        step = 1.0 if integer else 0.01
        low = max(low, _float(node.get("exclusiveMinimum"), -math.inf) + step)
        high = min(high, _float(node.get("exclusiveMaximum"), math.inf) - step)
        low = low if math.isfinite(low) else (min(0.0, high - 100) if math.isfinite(high) else 0.0)
        high = high if math.isfinite(high) else low + 100
        multiple = _float(node.get("multipleOf"), 0.0)
        if multiple > 0:
            count = self.rng.randint(math.ceil(low / multiple), max(math.ceil(low / multiple),
                                     math.floor(high / multiple)))  # fmt: skip
            value = count * multiple
            return float(round(value)) if integer else value
        if integer:
            return float(self.rng.randint(math.ceil(low), max(math.ceil(low), math.floor(high))))
        return round(self.rng.uniform(low, high), 2) if high > low else low

    def string(self, node: Mapping[str, object]) -> str:
        fmt = node.get("format")
        if isinstance(fmt, str) and fmt in _FORMATS:
            return _FORMATS[fmt]
        text = self.rng.choice(self.sentences) if self.sentences else "text"
        low = min(max(_int(node.get("minLength"), 0), 0), _MAX_STRING)
        high = min(_int(node.get("maxLength"), len(text) + low), _MAX_STRING)
        while len(text) < low:
            text += " " + (self.rng.choice(self.sentences) if self.sentences else "text")
        return text[: max(low, high)]


def _type_of(node: Mapping[str, object]) -> str:
    kind = node.get("type")
    if isinstance(kind, list):
        named = [k for k in kind if isinstance(k, str) and k != "null"]
        return named[0] if named else "null"
    if isinstance(kind, str):
        return kind
    if "properties" in node:
        return "object"
    if "items" in node or "prefixItems" in node:
        return "array"
    return "string"


def _without(node: Mapping[str, object], key: str) -> dict[str, object]:
    return {k: v for k, v in node.items() if k != key}


def _merge(left: Mapping[str, object], right: Mapping[str, object]) -> dict[str, object]:
    merged = {**left, **right}
    for key in ("properties",):
        a, b = left.get(key), right.get(key)
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            merged[key] = {**a, **b}
    a_req, b_req = left.get("required"), right.get("required")
    if isinstance(a_req, list) and isinstance(b_req, list):
        merged["required"] = [*a_req, *(r for r in b_req if r not in a_req)]
    return merged


def _int(value: object, default: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    return int(value) if math.isfinite(value) else default


def _float(value: object, default: float) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return default


def _json(value: object) -> JsonValue:
    """A schema's literal (``const``, an ``enum`` member), kept as the JSON it already is."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [_json(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _json(v) for k, v in value.items()}
    return str(value)

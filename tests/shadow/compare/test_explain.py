"""DeepDiff explanations of stored examples: the route's rules apply, the output stays small."""

from __future__ import annotations

import json

import orjson

from shadow.compare import explain as explain_module
from shadow.compare.config import CompareConfig, parse_compare
from shadow.compare.explain import MAX_BYTES, explain


def run(control: object, candidate: object, config: CompareConfig | None = None) -> dict:
    result = explain(orjson.dumps(control), orjson.dumps(candidate), config or CompareConfig())
    assert json.loads(json.dumps(result)) == result  # JSON-safe as it is
    return result


def test_public_surface_is_pinned() -> None:
    assert set(explain_module.__all__) == {"MAX_BYTES", "explain"}


def test_reports_in_our_path_notation() -> None:
    control = {"choices": [{"message": {"content": "hi"}}], "n": True, "gone": [1]}
    candidate = {"choices": [{"message": {"content": "ho"}}], "n": 1, "debug": {"w": 1}}
    assert run(control, candidate) == {
        "values_changed": {"choices[0].message.content": {"control": "hi", "candidate": "ho"}},
        "type_changes": {"n": {"control": True, "candidate": 1}},
        "dictionary_item_added": {"debug": {"candidate": {"w": 1}}},
        "dictionary_item_removed": {"gone": {"control": [1]}},
    }


def test_equal_numbers_of_two_types_are_no_difference() -> None:
    assert run({"x": 1, "l": [2]}, {"x": 1.0, "l": [2.0]}) == {}


def test_ignore_rules_by_path_and_by_regex() -> None:
    rules = parse_compare(
        {"ignore": [{"name": "rid", "path": "data[*].id"},
                    {"name": "times", "regex": r"^timestamps\.start\[\d+\]$"}]},
        route="t",
    )  # fmt: skip
    control = {"data": [{"id": "a", "v": 1}], "timestamps": {"start": [1, 2], "end": [3]}}
    candidate = {"data": [{"id": "b", "v": 1}], "timestamps": {"start": [1, 5], "end": [4]}}
    assert run(control, candidate, rules) == {
        "values_changed": {"timestamps.end[0]": {"control": 3, "candidate": 4}}
    }
    assert len(run(control, candidate)["values_changed"]) == 3


def test_tolerance_per_field_and_unordered_lists() -> None:
    rules = parse_compare(
        {"tolerance": {"score": 0.1, "default": 0}, "unordered": ["tags[*]"]}, route="t"
    )
    control = {"score": 1.0, "other": 1.0, "tags": ["x", "y"], "list": [1, 2]}
    candidate = {"score": 1.05, "other": 1.05, "tags": ["y", "x"], "list": [2, 1]}
    result = run(control, candidate, rules)
    assert set(result["values_changed"]) == {"other", "list[0]", "list[1]"}
    assert "tags[0]" not in json.dumps(result)


def test_subset_drops_additions() -> None:
    subset = parse_compare({"subset": True}, route="t")
    assert run({"a": 1, "l": [1]}, {"a": 1, "l": [1, 2], "b": 2}, subset) == {}


def test_bodies_that_are_not_json() -> None:
    assert explain(b"<html>", b"{}", CompareConfig()) == {"unparsed": ["control"]}
    assert explain(b"{}", b"{", CompareConfig()) == {"unparsed": ["candidate"]}


def test_output_is_capped_with_long_values_cut_and_the_rest_counted() -> None:
    control = {f"k{i}": "a" * 2000 for i in range(200)} | {"big": list(range(5000))}
    candidate = {f"k{i}": "b" * 2000 for i in range(200)} | {"big": list(range(5001))}
    result = run(control, candidate)
    assert len(orjson.dumps(result)) <= MAX_BYTES
    assert result["omitted"] > 100
    first = result["values_changed"]["k0"]
    assert first["control"] == "a" * 256 + "…(+1744 chars)"

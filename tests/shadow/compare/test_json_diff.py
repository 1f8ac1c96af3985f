"""The counting-path JSON comparator: every kind, the config knobs, and properties over any JSON."""

from __future__ import annotations

import json
import re

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shadow.compare import json_diff
from shadow.compare.config import CompareConfig, parse_compare
from shadow.compare.json_diff import canonical, compare_json, key_segment
from shadow.model import CandidateGarbage, Diff

PLAIN = CompareConfig()


def diffs(control: object, candidate: object, config: CompareConfig = PLAIN, **kw) -> list[Diff]:
    return compare_json(json.dumps(control).encode(), json.dumps(candidate).encode(), config, **kw)


def config(**block: object) -> CompareConfig:
    return parse_compare(block, route="test")


def test_public_surface_is_pinned() -> None:
    assert set(json_diff.__all__) == {
        "canonical",
        "compare_json",
        "describe",
        "diff_values",
        "key_segment",
    }


def test_equal_documents_in_another_key_order_match() -> None:
    control = b'{"a": 1, "b": {"c": [1, 2], "d": null}}'
    candidate = b'{"b":{"d":null,"c":[1,2]},"a":1}'
    assert compare_json(control, candidate, PLAIN) == []


def test_each_kind_at_its_path() -> None:
    control = {"id": "x", "choices": [{"message": {"content": "hi", "role": "a"}}], "n": 1}
    candidate = {"id": "y", "choices": [{"message": {"content": "hi", "extra": 1}}], "n": "1"}
    assert diffs(control, candidate) == [
        Diff("id", "changed", "x", "y"),
        Diff("choices[0].message.role", "removed", "a", None),
        Diff("choices[0].message.extra", "added", None, 1),
        Diff("n", "type_changed", 1, "1"),
    ]


def test_root_and_prefix_paths() -> None:
    assert diffs(1, 2) == [Diff("$", "changed", 1, 2)]
    assert diffs([1], {"a": 1}) == [Diff("$", "type_changed", "array(1 items)", "object(1 keys)")]
    assert diffs({"a": [1]}, {"a": [2]}, prefix="$ws[3]") == [Diff("$ws[3].a[0]", "changed", 1, 2)]
    assert diffs(1, 2, prefix="$ws[3]") == [Diff("$ws[3]", "changed", 1, 2)]


def test_int_and_float_of_equal_value_are_the_same_number() -> None:
    assert diffs({"x": 1}, {"x": 1.0}) == []
    assert compare_json(b"[1, 2.0]", b"[1.0, 2]", PLAIN) == []


def test_bool_is_not_a_number() -> None:
    assert diffs({"x": True}, {"x": 1}) == [Diff("x", "type_changed", True, 1)]
    assert diffs({"x": False}, {"x": None}) == [Diff("x", "type_changed", False, None)]


def test_a_float_off_by_1e9_is_changed_without_tolerance() -> None:
    assert diffs({"p": 0.5}, {"p": 0.5 + 1e-9}) == [Diff("p", "changed", 0.5, 0.5 + 1e-9)]


def test_tolerance_per_field_then_default() -> None:
    loose = config(tolerance={"metrics.latency": 1000, "default": 0.01})
    control = {"metrics": {"latency": 5000, "score": 0.5}, "rows": [{"v": 1.0}]}
    within = {"metrics": {"latency": 5999, "score": 0.505}, "rows": [{"v": 1.009}]}
    assert diffs(control, within, loose) == []
    beyond = {"metrics": {"latency": 6001, "score": 0.52}, "rows": [{"v": 1.02}]}
    assert [d.path for d in diffs(control, beyond, loose)] == [
        "metrics.latency",
        "metrics.score",
        "rows[0].v",
    ]


def test_a_subtree_on_one_side_is_one_diff_at_its_root() -> None:
    control = {"a": 1}
    candidate = {"a": 1, "debug": {"trace": [{"x": 1}, {"y": 2}], "worker": 3}}
    assert diffs(control, candidate) == [Diff("debug", "added", None, "object(2 keys)")]
    assert diffs(candidate, control) == [Diff("debug", "removed", "object(2 keys)", None)]


def test_extra_list_elements_are_one_diff_each() -> None:
    assert diffs({"d": [1, 2]}, {"d": [1, 2, {"k": 1}, 4]}) == [
        Diff("d[2]", "added", None, "object(1 keys)"),
        Diff("d[3]", "added", None, 4),
    ]
    assert diffs({"d": [1, 2, 3]}, {"d": [1]}) == [
        Diff("d[1]", "removed", 2, None),
        Diff("d[2]", "removed", 3, None),
    ]


def test_empty_containers_are_leaves_that_can_grow() -> None:
    assert diffs({"e": {}}, {"e": {"k": 1}}) == [Diff("e.k", "added", None, 1)]
    assert diffs({"e": {}}, {"e": []}) == [
        Diff("e", "type_changed", "object(0 keys)", "array(0 items)")
    ]
    assert diffs({"e": []}, {"e": None}) == [Diff("e", "type_changed", "array(0 items)", None)]


def test_unordered_lists_compare_as_multisets() -> None:
    unordered = config(unordered=["data[*]"])
    control = {"data": [{"id": 1}, {"id": 2}, {"id": 3}], "order": [1, 2]}
    shuffled = {"data": [{"id": 3}, {"id": 1}, {"id": 2}], "order": [1, 2]}
    assert diffs(control, shuffled, unordered) == []
    assert [d.path for d in diffs(control, shuffled)] == ["data[0].id", "data[1].id", "data[2].id"]
    # Leftovers pair up (at the control's index); the rest is added/removed.
    changed = {"data": [{"id": 3}, {"id": 9}, {"id": 1}, {"id": 7}], "order": [2, 1]}
    assert diffs(control, changed, unordered) == [
        Diff("data[1].id", "changed", 2, 7),  # {"id": 2} vs the least leftover, {"id": 7}
        Diff("data[1]", "added", None, "object(1 keys)"),  # {"id": 9}, at its own index
        Diff("order[0]", "changed", 1, 2),  # "order" is not unordered
        Diff("order[1]", "changed", 2, 1),
    ]


def test_unordered_counts_repeats() -> None:
    unordered = config(unordered=["tags"])  # the list's own field works too
    assert diffs({"tags": ["a", "a", "b"]}, {"tags": ["b", "a", "a"]}, unordered) == []
    assert diffs({"tags": ["a", "a", "b"]}, {"tags": ["b", "a", "b"]}, unordered) == [
        Diff("tags[1]", "changed", "a", "b")
    ]


def test_subset_lets_the_candidate_add_but_not_remove_or_change() -> None:
    subset = config(subset=True)
    control = {"a": 1, "l": [1]}
    assert diffs(control, {"a": 1, "l": [1, 2], "new": {"x": 1}}, subset) == []
    assert diffs(control, {"a": 2, "new": 1}, subset) == [
        Diff("a", "changed", 1, 2),
        Diff("l", "removed", "array(1 items)", None),
    ]


def test_strings_are_kept_whole_for_the_audio_comparator() -> None:
    audio = "UklGR" + "A" * 5000
    assert diffs({"audios": [audio]}, {"audios": [audio + "B"]}) == [
        Diff("audios[0]", "changed", audio, audio + "B")
    ]


def test_a_control_body_that_is_not_json_is_compared_as_bytes() -> None:
    assert compare_json(b"OK", b"OK", PLAIN) == []
    assert compare_json(b"OK", b"KO!", PLAIN) == [Diff("$body", "changed", "bytes(2)", "bytes(3)")]
    assert compare_json(b"<html>", b"{}", PLAIN, prefix="$ws[1]")[0].path == "$ws[1]"


@pytest.mark.parametrize("garbage", [b"{", b"", b"\xff\xfe", b"NaN", b'{"a": 1} x'])
def test_a_candidate_body_that_is_not_json_is_garbage(garbage: bytes) -> None:
    with pytest.raises(CandidateGarbage):
        compare_json(b'{"a": 1}', garbage, PLAIN)


def test_ambiguous_keys_are_quoted_so_paths_stay_distinct() -> None:
    assert key_segment("content") == "content"
    assert key_segment("audio-format") == "audio-format"
    assert key_segment("a.b") == '["a.b"]'
    assert key_segment("") == '[""]'
    assert key_segment("$status") == '["$status"]'
    flat, nested = {"a.b": 1}, {"a": {"b": 1}}
    assert [d.path for d in diffs(flat, nested)] == ['["a.b"]', "a"]
    assert diffs({"m": {"x[0]": 1}}, {"m": {"x[0]": 2}}) == [Diff('m["x[0]"]', "changed", 1, 2)]


# Properties ------------------------------------------------------------------------------------

KEYS = st.sampled_from(["a", "b", "c", "a.b", "[0]", "", "$"])
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.sampled_from([0.5, 1.0, -2.0, 1e-9, 2.5e300])
    | st.sampled_from(["", "x", "y"])
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=12,
)
TOKEN = re.compile(r'\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|\.?([^.\[\]]+)')
MISSING = object()


def normal(value: object) -> object:
    """A value with integral floats as ints: what "the same JSON" means to the comparator."""
    if type(value) is float and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {k: normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normal(v) for v in value]
    return value


def steps(path: str) -> list[object]:
    """A reported path parsed back into keys and indices (an independent reader of it)."""
    if path == "$":
        return []
    out: list[object] = []
    for index, quoted, bare in TOKEN.findall(path):
        out.append(int(index) if index else json.loads(quoted) if quoted else bare)
    return out


def at(doc: object, path: list[object]) -> object:
    for step in path:
        if isinstance(step, int):
            if not isinstance(doc, list) or step >= len(doc):
                return MISSING
        elif not isinstance(doc, dict) or step not in doc:
            return MISSING
        doc = doc[step]  # type: ignore[index]
    return doc


def apply(doc: object, found: list[Diff], other: object) -> object:
    """``doc`` patched with ``other``'s value at every reported path: must equal ``other``."""
    root: list[object] = [doc]
    removals: list[list[object]] = []
    for diff in found:
        path = [0, *steps(diff.path)]
        if diff.kind == "removed":
            removals.append(path)
            continue
        parent = at(root, path[:-1])
        value = at([other], path)
        assert value is not MISSING, diff
        if isinstance(parent, list) and path[-1] == len(parent):
            parent.append(value)
        else:
            parent[path[-1]] = value  # type: ignore[index]
    # List elements from the highest index first, so none shifts another.
    for path in sorted(
        removals, key=lambda p: p[-1] if isinstance(p[-1], int) else -1, reverse=True
    ):
        parent = at(root, path[:-1])
        del parent[path[-1]]  # type: ignore[attr-defined]
    return root[0]


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_any_document_equals_itself(doc: object) -> None:
    body = orjson.dumps(doc)
    assert compare_json(body, body, PLAIN) == []
    assert compare_json(body, json.dumps(doc, indent=1).encode(), PLAIN) == []


@settings(max_examples=500, deadline=None)
@given(JSON, JSON)
def test_diffs_are_exactly_where_two_documents_differ(control: object, candidate: object) -> None:
    found = diffs(control, candidate)
    # No diff exactly when the documents are the same JSON (1 and 1.0 being one number).
    same = canonical(normal(control)) == canonical(normal(candidate))
    assert (found == []) == same
    for diff in found:
        path = steps(diff.path)
        here, there = at(control, path), at(candidate, path)
        # The parent exists on both sides: a one-sided subtree is reported at its root only.
        assert at(control, path[:-1]) is not MISSING
        assert at(candidate, path[:-1]) is not MISSING
        if diff.kind == "added":
            assert here is MISSING
            assert there is not MISSING
        elif diff.kind == "removed":
            assert here is not MISSING
            assert there is MISSING
        else:
            assert here is not MISSING
            assert there is not MISSING
            assert normal(here) != normal(there) or type(here) is not type(there)
    # And they are all of it: patching the control at the reported paths gives the candidate.
    patched = apply(json.loads(json.dumps(control)), found, candidate)
    assert normal(patched) == normal(candidate)

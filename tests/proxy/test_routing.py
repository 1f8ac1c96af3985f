from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proxy.config import ProxyConfig, RouteConfig, ShadowSettings, parse_config
from proxy.routing import RouteMatch, RouteTable, compile_path


def test_public_surface_is_pinned() -> None:
    import proxy.routing

    assert set(proxy.routing.__all__) == {"RouteMatch", "RouteTable", "compile_path"}


def route(
    name: str,
    path: str,
    methods: set[str] | None = None,
    *,
    websocket: bool = False,
) -> RouteConfig:
    return RouteConfig(
        name=name,
        path=path,
        methods=None if methods is None else frozenset(methods),
        websocket=websocket,
        mode="legacy",
        shadow=ShadowSettings(),
        canary_percent=0.0,
        legacy="legacy",
        candidate="candidate",
    )


def matched(table: RouteTable, method: str, path: str, *, websocket: bool = False) -> str | None:
    found = table.match(method, path, websocket=websocket).route
    return None if found is None else found.name


def test_literal_path_matches_exactly_with_no_params() -> None:
    table = RouteTable([route("translate", "/translate")])
    assert table.match("POST", "/translate", websocket=False) == RouteMatch(table.routes[0], {})
    assert matched(table, "POST", "/translat") is None
    assert matched(table, "POST", "/translate/x") is None


def test_template_extracts_params() -> None:
    table = RouteTable([route("job", "/doc-ai/v1/job/{job_id}/status")])
    result = table.match("GET", "/doc-ai/v1/job/j-42/status", websocket=False)
    assert result.route is table.routes[0]
    assert result.params == {"job_id": "j-42"}


def test_params_are_read_only() -> None:
    table = RouteTable([route("job", "/job/{job_id}")])
    params = table.match("GET", "/job/1", websocket=False).params
    with pytest.raises(TypeError):
        params["job_id"] = "2"  # type: ignore[index]


def test_a_parameter_is_exactly_one_non_empty_segment() -> None:
    table = RouteTable([route("pair", "/a/{x}/b/{y}")])
    assert table.match("GET", "/a/1/b/2", websocket=False).params == {"x": "1", "y": "2"}
    assert matched(table, "GET", "/a//b/2") is None
    assert matched(table, "GET", "/a/1/2/b/3") is None
    assert matched(table, "GET", "/a/1/b/2/") is None


def test_literal_segments_of_a_template_are_not_regex() -> None:
    table = RouteTable([route("versioned", "/v1.0/{id}")])
    assert matched(table, "GET", "/v1.0/7") == "versioned"
    assert matched(table, "GET", "/v1x0/7") is None


def test_trailing_slash_is_significant() -> None:
    table = RouteTable([route("plain", "/translate"), route("slash", "/jobs/")])
    assert matched(table, "POST", "/translate/") is None
    assert matched(table, "POST", "/jobs/") == "slash"
    assert matched(table, "POST", "/jobs") is None


def test_method_filter_falls_through_to_the_next_route() -> None:
    table = RouteTable([route("post-only", "/translate", {"POST"}), route("any", "/translate")])
    assert matched(table, "POST", "/translate") == "post-only"
    assert matched(table, "GET", "/translate") == "any"


def test_a_method_no_route_accepts_is_unmatched() -> None:
    table = RouteTable([route("post-only", "/translate", {"POST"}), route("t", "/x/{id}", {"PUT"})])
    assert table.match("GET", "/translate", websocket=False) == RouteMatch(None, {})
    assert table.match("GET", "/x/1", websocket=False) == RouteMatch(None, {})


def test_methods_are_case_sensitive() -> None:
    table = RouteTable([route("post-only", "/translate", {"POST"})])
    assert matched(table, "post", "/translate") is None


def test_websocket_flag_must_agree() -> None:
    table = RouteTable(
        [
            route("stt-ws", "/speech-to-text/ws", websocket=True),
            route("stt", "/speech-to-text/ws"),
            route("room", "/rooms/{room}", websocket=True),
        ]
    )
    assert matched(table, "GET", "/speech-to-text/ws", websocket=True) == "stt-ws"
    assert matched(table, "GET", "/speech-to-text/ws", websocket=False) == "stt"
    assert matched(table, "GET", "/rooms/1", websocket=True) == "room"
    assert matched(table, "GET", "/rooms/1", websocket=False) is None


def test_template_listed_first_wins_over_a_later_literal() -> None:
    table = RouteTable([route("template", "/jobs/{job_id}"), route("literal", "/jobs/latest")])
    assert matched(table, "GET", "/jobs/latest") == "template"


def test_literal_listed_first_wins_over_a_later_template() -> None:
    table = RouteTable([route("literal", "/jobs/latest"), route("template", "/jobs/{job_id}")])
    result = table.match("GET", "/jobs/latest", websocket=False)
    assert result == RouteMatch(table.routes[0], {})
    assert matched(table, "GET", "/jobs/7") == "template"


def test_priority_holds_across_several_kinds() -> None:
    table = RouteTable(
        [
            route("literal-post", "/jobs/latest", {"POST"}),
            route("template-get", "/jobs/{job_id}", {"GET"}),
            route("literal-any", "/jobs/latest"),
            route("template-any", "/jobs/{job_id}"),
        ]
    )
    assert matched(table, "POST", "/jobs/latest") == "literal-post"
    assert matched(table, "GET", "/jobs/latest") == "template-get"
    assert matched(table, "DELETE", "/jobs/latest") == "literal-any"
    assert matched(table, "DELETE", "/jobs/9") == "template-any"


def test_no_match() -> None:
    table = RouteTable([route("translate", "/translate")])
    assert table.match("GET", "/nowhere", websocket=False) == RouteMatch(None, {})
    assert RouteTable([]).match("GET", "/", websocket=False) == RouteMatch(None, {})


def test_routes_and_get() -> None:
    first, second = route("a", "/a"), route("b", "/b/{id}")
    table = RouteTable([first, second])
    assert table.routes == (first, second)
    assert table.get("b") is second
    assert table.get("missing") is None


def test_replace_returns_a_new_table_and_leaves_the_old_one_alone() -> None:
    table = RouteTable([route("a", "/a"), route("b", "/b", {"POST"}), route("c", "/{x}")])
    flipped = table.replace(route("b", "/b"))
    assert flipped is not table
    assert [r.name for r in flipped.routes] == ["a", "b", "c"]
    assert matched(flipped, "GET", "/b") == "b"
    assert matched(table, "GET", "/b") == "c"
    assert table.get("b") == route("b", "/b", {"POST"})


def test_replace_of_an_unknown_route_raises_key_error() -> None:
    table = RouteTable([route("a", "/a")])
    with pytest.raises(KeyError):
        table.replace(route("z", "/z"))


def test_duplicate_route_names_are_refused() -> None:
    with pytest.raises(ValueError, match="'a' appears twice"):
        RouteTable([route("a", "/a"), route("a", "/b")])


def test_a_bad_template_fails_when_the_table_is_built() -> None:
    with pytest.raises(ValueError, match="whole path segment"):
        RouteTable([route("a", "/a{id}")])


def test_from_config_keeps_the_configured_order() -> None:
    config: ProxyConfig = parse_config(
        """\
upstreams: {legacy: {url: http://127.0.0.1:8100}, candidate: {url: http://127.0.0.1:8200}}
routes:
  - {name: status, match: {path: "/job/{id}"}, mode: shadow}
  - {name: latest, match: {path: /job/latest}, mode: candidate}
"""
    )
    table = RouteTable.from_config(config)
    assert table.routes == config.routes
    assert matched(table, "GET", "/job/latest") == "status"


def test_compile_path_returns_none_for_a_literal_path() -> None:
    assert compile_path("/translate") is None
    assert compile_path("/") is None


def test_compile_path_matches_whole_paths_only() -> None:
    pattern = compile_path("/job/{job_id}/status")
    assert pattern is not None
    found = pattern.fullmatch("/job/7/status")
    assert found is not None
    assert found.groupdict() == {"job_id": "7"}
    assert pattern.fullmatch("/job/7/status/x") is None


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("job/{id}", "must start with '/'"),
        ("/job/{", "unbalanced"),
        ("/job/}", "unbalanced"),
        ("/job/{}", "needs a name"),
        ("/job/{{id}}", "unbalanced or repeated"),
        ("/job/{a}{b}", "unbalanced or repeated"),
        ("/job/a{id}", "whole path segment"),
        ("/job/{id}.json", "whole path segment"),
        ("/job/{1d}", "identifier"),
        ("/job/{id}/{id}", "appears twice"),
    ],
)
def test_bad_templates_raise_value_error(template: str, problem: str) -> None:
    with pytest.raises(ValueError, match="path template") as caught:
        compile_path(template)
    assert problem in str(caught.value)
    assert repr(template) in str(caught.value)


SEGMENT = st.text(alphabet=string.ascii_letters + string.digits + "-._~%:@!$&'()*+,;=", min_size=1)
PATH = st.lists(SEGMENT, min_size=1, max_size=5).map(lambda parts: "/" + "/".join(parts))


@given(paths=st.lists(PATH, min_size=1, max_size=20, unique=True), probe=PATH)
def test_literal_routes_match_exactly_what_was_registered(paths: list[str], probe: str) -> None:
    table = RouteTable([route(f"r{index}", path) for index, path in enumerate(paths)])
    for index, path in enumerate(paths):
        assert table.match("GET", path, websocket=False) == RouteMatch(table.routes[index], {})
    expected = f"r{paths.index(probe)}" if probe in paths else None
    assert matched(table, "GET", probe) == expected


@given(value=SEGMENT, tail=st.sampled_from(["", "/", "/x"]))
def test_a_parameter_captures_any_single_segment(value: str, tail: str) -> None:
    table = RouteTable([route("item", "/items/{item_id}")])
    result = table.match("GET", f"/items/{value}{tail}", websocket=False)
    if tail:
        assert result == RouteMatch(None, {})
    else:
        assert result.params == {"item_id": value}

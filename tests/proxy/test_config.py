from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from proxy.config import (
    CONFIG_SCHEMA,
    ConfigError,
    ProxyConfig,
    RouteConfig,
    ShadowSettings,
    Upstream,
    load_config,
    parse_config,
)

# Line numbers matter: the error tests below assert them.
FULL = textwrap.dedent(
    """\
    fleet: blue
    upstreams:
      legacy:    {url: http://127.0.0.1:8100}
      candidate: {url: "http://127.0.0.1:8200/"}
      candidate-eu: {url: http://go-eu}
    routes:
      - name: translate
        match: {methods: [post], path: /translate}
        mode: shadow
        shadow: {sample: 0.25, timeout_ms: 5000, max_body_bytes: 1024, reverse: true}
      - name: job-status
        match:
          path: /doc-ai/v1/job/{job_id}/status
          methods: [GET, head]
        mode: canary
        canary: {percent: 12.5}
        candidate: candidate-eu
      - name: stt-ws
        match: {path: /speech-to-text/ws, websocket: true}
        mode: legacy
    default: legacy
    """
)

MINIMAL = textwrap.dedent(
    """\
    upstreams:
      legacy: {url: http://127.0.0.1:8100}
      candidate: {url: http://127.0.0.1:8200}
    routes:
      - name: chat
        match: {path: /v1/chat/completions}
        mode: legacy
    """
)


def test_public_surface_is_pinned() -> None:
    import proxy._types
    import proxy.config

    assert set(proxy.config.__all__) == {
        "CONFIG_SCHEMA",
        "ConfigError",
        "ProxyConfig",
        "RouteConfig",
        "ShadowSettings",
        "Upstream",
        "load_config",
        "parse_config",
        "with_upstream_urls",
    }
    assert set(proxy._types.__all__) == {"MODES", "Mode", "Side"}
    assert proxy._types.MODES == ("legacy", "shadow", "canary", "candidate")


def error_of(text: str, source: str = "banyan.yaml") -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source=source)
    return str(caught.value)


def edited(old: str, new: str, text: str = FULL) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def test_the_line_numbers_the_tests_rely_on() -> None:
    lines = FULL.splitlines()
    assert lines[8] == "    mode: shadow"
    assert lines[20] == "default: legacy"


def test_full_example_parses_to_the_expected_config() -> None:
    config = parse_config(FULL, source="banyan.yaml")
    assert config == ProxyConfig(
        fleet="blue",
        upstreams={
            "legacy": Upstream("legacy", "http://127.0.0.1:8100", "127.0.0.1", 8100),
            "candidate": Upstream("candidate", "http://127.0.0.1:8200/", "127.0.0.1", 8200),
            "candidate-eu": Upstream("candidate-eu", "http://go-eu", "go-eu", 80),
        },
        routes=(
            RouteConfig(
                name="translate",
                path="/translate",
                methods=frozenset({"POST"}),
                websocket=False,
                mode="shadow",
                shadow=ShadowSettings(
                    sample=0.25, timeout_ms=5000, max_body_bytes=1024, reverse=True
                ),
                canary_percent=0.0,
                legacy="legacy",
                candidate="candidate",
            ),
            RouteConfig(
                name="job-status",
                path="/doc-ai/v1/job/{job_id}/status",
                methods=frozenset({"GET", "HEAD"}),
                websocket=False,
                mode="canary",
                shadow=ShadowSettings(),
                canary_percent=12.5,
                legacy="legacy",
                candidate="candidate-eu",
            ),
            RouteConfig(
                name="stt-ws",
                path="/speech-to-text/ws",
                methods=None,
                websocket=True,
                mode="legacy",
                shadow=ShadowSettings(),
                canary_percent=0.0,
                legacy="legacy",
                candidate="candidate",
            ),
        ),
        default="legacy",
    )
    assert list(config.upstreams) == ["legacy", "candidate", "candidate-eu"]


def test_defaults_are_filled_in() -> None:
    config = parse_config(MINIMAL)
    assert config.fleet == "default"
    assert config.default == "legacy"
    (route,) = config.routes
    assert route.methods is None
    assert route.websocket is False
    assert route.shadow == ShadowSettings(
        sample=1.0, timeout_ms=15000, max_body_bytes=26214400, reverse=False
    )
    assert route.canary_percent == 0.0
    assert (route.legacy, route.candidate) == ("legacy", "candidate")


def test_config_is_immutable() -> None:
    config = parse_config(FULL)
    with pytest.raises(TypeError):
        config.upstreams["legacy"] = config.upstreams["candidate"]  # type: ignore[index]
    with pytest.raises(AttributeError):
        config.routes[0].mode = "candidate"  # type: ignore[misc]
    assert isinstance(config.routes, tuple)


def test_a_websocket_route_may_list_get_only() -> None:
    text = edited("websocket: true}", "websocket: true, methods: [get]}")
    assert parse_config(text).routes[2].methods == frozenset({"GET"})


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "mode: shadow",
            "mode: shadw",
            "banyan.yaml:9: routes[0].mode: "
            "'shadw' is not one of ['legacy', 'shadow', 'canary', 'candidate']",
        ),
        ("    mode: canary", "    modee: canary", "banyan.yaml:15: routes[1].modee: unknown key"),
        ("sample: 0.25", "sample: 1.5", "banyan.yaml:10: routes[0].shadow.sample: 1.5 is greater"),
        ("sample: 0.25", "sample: yes", "banyan.yaml:10: routes[0].shadow.sample: True is not"),
        ("timeout_ms: 5000", "timeout_ms: 0", "banyan.yaml:10: routes[0].shadow.timeout_ms: 0 is"),
        ("timeout_ms: 5000", "timeout_ms: 1.5", "banyan.yaml:10: routes[0].shadow.timeout_ms:"),
        ("max_body_bytes: 1024", "max_body_bytes: -1", "banyan.yaml:10: routes[0].shadow.max_bo"),
        ("reverse: true", "revers: true", "banyan.yaml:10: routes[0].shadow.revers: unknown key"),
        (
            "sample: 0.25",
            "sample: .nan",
            "banyan.yaml:10: routes[0].shadow.sample: must be a number",
        ),
        (
            "percent: 12.5",
            "percent: .nan",
            "banyan.yaml:16: routes[1].canary.percent: must be a num",
        ),
        ("percent: 12.5", "percent: .inf", "banyan.yaml:16: routes[1].canary.percent: inf is grea"),
        ("percent: 12.5", "percent: 100.5", "banyan.yaml:16: routes[1].canary.percent: 100.5 is"),
        ("name: translate", "name: Translate", "banyan.yaml:7: routes[0].name: 'Translate' does"),
        ("path: /doc-ai", "path: doc-ai", "banyan.yaml:13: routes[1].match.path: 'doc-ai/v1/"),
        ("methods: [GET, head]", "methods: []", "banyan.yaml:14: routes[1].match.methods: [] "),
        ("methods: [GET, head]", "methods: [G T]", "banyan.yaml:14: routes[1].match.methods[0]:"),
        ("    mode: legacy\n", "", "banyan.yaml:18: routes[2].mode: 'mode' is a required"),
        ("fleet: blue", "fleet: Blue Team", "banyan.yaml:1: fleet: 'Blue Team' does not match"),
        ("default: legacy", "defualt: legacy", "banyan.yaml:21: defualt: unknown key"),
        ("default: legacy", "default: legcy", "banyan.yaml:21: default: 'legcy' is not one of"),
        ("{url: http://go-eu}", "{url: http://go-eu, tls: no}", "banyan.yaml:5: upstreams.cand"),
        ("  candidate-eu:", "  Candidate-EU:", "banyan.yaml:2: upstreams: 'Candidate-EU' does not"),
    ],
)
def test_schema_errors_name_file_line_and_field(old: str, new: str, expected: str) -> None:
    assert error_of(edited(old, new)).startswith(expected)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "name: stt-ws",
            "name: translate",
            "banyan.yaml:18: routes[2].name: duplicate route name 'translate' (first at routes[0])",
        ),
        (
            "candidate: candidate-eu",
            "candidate: candidate-us",
            "banyan.yaml:17: routes[1].candidate: upstream 'candidate-us' is not defined",
        ),
        (
            "    mode: canary\n",
            "    mode: canary\n    legacy: python\n",
            "banyan.yaml:16: routes[1].legacy: upstream 'python' is not defined",
        ),
        (
            "default: legacy",
            "default: shadow",
            "banyan.yaml:21: default: 'shadow': only 'legacy'",
        ),
        (
            "websocket: true}",
            "websocket: true, methods: [POST]}",
            "banyan.yaml:19: routes[2].match.methods: ['POST']: a websocket route accepts only GET",
        ),
        (
            "websocket: true}",
            "websocket: true, methods: [GET, POST]}",
            "banyan.yaml:19: routes[2].match.methods: ['GET', 'POST']: a websocket route accepts "
            "only GET",
        ),
    ],
)
def test_semantic_errors_name_file_line_and_field(old: str, new: str, expected: str) -> None:
    assert error_of(edited(old, new)).startswith(expected)


def test_a_defaulted_upstream_that_does_not_exist_points_at_its_route() -> None:
    text = edited('  candidate: {url: "http://127.0.0.1:8200/"}\n', "")
    # routes[0] names no candidate, so the default "candidate" is missing: its route's line.
    assert error_of(text).startswith(
        "banyan.yaml:6: routes[0].candidate: upstream 'candidate' is not defined"
    )


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("/doc-ai/v1/job/{/status", "unbalanced"),
        ("/doc-ai/v1/job/{}/status", "needs a name"),
        ("/doc-ai/v1/job/a{job_id}/status", "whole path segment"),
        ("/doc-ai/v1/job/{job_id}/{job_id}", "appears twice"),
        ("/doc-ai/v1/job/{job-id}/status", "identifier"),
    ],
)
def test_path_templates_that_do_not_compile_are_refused(template: str, problem: str) -> None:
    message = error_of(edited("/doc-ai/v1/job/{job_id}/status", template))
    assert message.startswith(f"banyan.yaml:13: routes[1].match.path: path template {template!r}")
    assert problem in message


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://127.0.0.1:8100", "https is not supported"),
        ("http://127.0.0.1:8100/v1", "without path"),
        ("http://127.0.0.1:8100/?x=1", "without path, query"),
        ("http://user:pw@127.0.0.1:8100", "credentials"),
        ("http://127.0.0.1:99999", "out of range"),
        ("http://127.0.0.1:0", "port 0"),
        ("http://:8100", "no host"),
        ("127.0.0.1:8100", "expected an http://host:port URL"),
    ],
)
def test_upstream_urls_must_be_plain_http_host_port(url: str, problem: str) -> None:
    message = error_of(edited("{url: http://127.0.0.1:8100}", f'{{url: "{url}"}}'))
    assert message.startswith(f"banyan.yaml:3: upstreams.legacy.url: {url!r}: ")
    assert problem in message


def test_an_ipv6_upstream_keeps_its_bare_address() -> None:
    text = edited("{url: http://127.0.0.1:8100}", '{url: "http://[::1]:8100"}')
    assert parse_config(text).upstreams["legacy"] == Upstream(
        "legacy", "http://[::1]:8100", "::1", 8100
    )


def test_legacy_upstream_is_required() -> None:
    text = edited("  legacy:    {url: http://127.0.0.1:8100}\n", "")
    assert error_of(text) == "banyan.yaml:2: upstreams.legacy: 'legacy' is a required property"


def test_yaml_syntax_error_has_its_line() -> None:
    message = error_of(edited("mode: shadow", "mode: shadow: now"))
    assert message.startswith("banyan.yaml:9: invalid YAML: mapping values are not allowed")


def test_duplicate_yaml_keys_are_refused_at_the_second() -> None:
    message = error_of(edited("    mode: shadow\n", "    mode: shadow\n    mode: candidate\n"))
    assert message == "banyan.yaml:10: routes[0].mode: duplicate key (first at line 9)"


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n"])
def test_an_empty_file_is_refused(text: str) -> None:
    assert error_of(text).startswith("banyan.yaml:1: the file is empty")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- a\n", "banyan.yaml:1: (top level): ['a'] is not of type 'object'"),
        (
            "upstreams: {legacy: {url: http://x}}\n",
            "banyan.yaml:1: routes: 'routes' is a required property",
        ),
        (
            "upstreams: {legacy: {url: http://x}}\nroutes: {}\n",
            "banyan.yaml:2: routes: {} is not of type 'array'",
        ),
    ],
)
def test_top_level_shape_errors(text: str, expected: str) -> None:
    assert error_of(text) == expected


def test_python_tags_are_never_constructed() -> None:
    message = error_of(MINIMAL + "fleet: !!python/object/apply:os.system [echo hi]\n")
    assert message.startswith("banyan.yaml:8: invalid YAML: could not determine a constructor")


def test_unprintable_characters_are_a_yaml_error_with_a_line() -> None:
    assert error_of(MINIMAL + "fleet: a\x07\n").startswith("banyan.yaml:8: invalid YAML:")


def test_the_first_error_in_file_order_is_reported() -> None:
    text = edited("mode: shadow", "mode: shadw")
    text = edited("mode: legacy", "mode: legcy", text)
    assert error_of(text).startswith("banyan.yaml:9: routes[0].mode:")


def test_source_defaults_to_a_placeholder() -> None:
    with pytest.raises(ConfigError, match=r"^<string>:9: routes\[0\]\.mode: "):
        parse_config(edited("mode: shadow", "mode: shadw"))


def test_load_config_reads_a_file_and_names_it_in_errors(tmp_path: Path) -> None:
    path = tmp_path / "banyan.yaml"
    path.write_text(FULL, encoding="utf-8")
    assert load_config(path) == parse_config(FULL)
    path.write_text(edited("mode: shadow", "mode: shadw"), encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"^{path}:9: routes\[0\]\.mode: "):
        load_config(path)


def test_load_config_names_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "banyan.yaml"
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}: config file not found"


def test_load_config_refuses_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path)


def test_the_schema_is_valid_2020_12() -> None:
    Draft202012Validator.check_schema(CONFIG_SCHEMA)
    assert CONFIG_SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def object_schemas(schema: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(schema, dict):
        if schema.get("type") == "object":
            found.append(schema)
        for value in schema.values():
            found.extend(object_schemas(value))
    elif isinstance(schema, list):
        for item in schema:
            found.extend(object_schemas(item))
    return found


def test_every_object_in_the_schema_refuses_unknown_keys() -> None:
    objects = object_schemas(CONFIG_SCHEMA)
    # top, upstreams map, upstream, route, match, shadow, canary; plus the two blocks the shadow
    # engine checks itself (a route's compare, the top-level evidence), which stay open here.
    delegated = [schema for schema in objects if schema == {"type": "object"}]
    assert len(objects) == 9
    assert len(delegated) == 2
    # The upstreams map is open by name (names are checked by propertyNames) and closes each
    # value; every other object is closed.
    for schema in objects:
        if schema not in delegated:
            assert schema["additionalProperties"] is False or "propertyNames" in schema


def test_upstreams_can_be_moved_without_touching_routes() -> None:
    from proxy.config import with_upstream_urls

    base = parse_config(
        "upstreams:\n  legacy: {url: http://127.0.0.1:8100}\n  candidate: {url: http://127.0.0.1:8200}\n"
        "routes:\n  - name: r\n    match: {path: /x}\n    mode: shadow\n"
    )
    moved = with_upstream_urls(base, {"legacy": "http://127.0.0.1:4242"})
    assert (moved.upstreams["legacy"].host, moved.upstreams["legacy"].port) == ("127.0.0.1", 4242)
    assert moved.upstreams["candidate"] == base.upstreams["candidate"]
    assert moved.routes == base.routes
    assert base.upstreams["legacy"].port == 8100  # the original is untouched
    with pytest.raises(ConfigError, match="no upstream named 'nope'"):
        with_upstream_urls(base, {"nope": "http://127.0.0.1:1"})
    with pytest.raises(ConfigError, match="https is not supported"):
        with_upstream_urls(base, {"legacy": "https://127.0.0.1:1"})

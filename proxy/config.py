"""The route baseline: ``banyan.yaml`` read, checked and turned into one frozen object.

The file is the baseline the proxy falls back to when Redis holds no live route table
(rfcs/0001 §6), so a mistake in it must fail loudly at start, pointing at the line to fix::

    fleet: default              # optional, default "default"; the fleet's name (Redis namespace)
    upstreams:                  # name -> plain-HTTP base URL; "legacy" is required
      legacy:    {url: http://127.0.0.1:8100}
      candidate: {url: http://127.0.0.1:8200}
    routes:                     # order is priority: the first matching route wins
      - name: translate         # ^[a-z0-9][a-z0-9_-]*$, unique
        match:
          path: /translate      # starts with "/"; templates like /doc-ai/v1/job/{job_id}/status
          methods: [POST]       # optional, default any method; upper-cased
          websocket: false      # optional; a websocket route accepts only GET (or no methods)
        mode: shadow            # required: legacy | shadow | canary | candidate
        shadow:                 # optional, every field has a default
          sample: 1.0           # share of requests mirrored, 0..1
          timeout_ms: 15000     # >= 1; how long a mirrored request may take
          max_body_bytes: 26214400  # >= 0; larger bodies are not mirrored
          reverse: false        # in candidate mode, mirror to legacy too
          concurrency: 16       # >= 1; mirrored requests in flight at once (shadow process)
          noise_sample: 0.05    # 0..1; share of mirrors also replayed to legacy (noise)
        compare: {}             # optional; how answers are compared (shadow/compare/config.py)
        canary: {percent: 0}    # optional; share of API keys on the candidate, 0..100
        candidate: candidate    # optional, default "candidate"; upstream of the candidate side
        legacy: legacy          # optional, default "legacy"; upstream of the legacy side
    default: legacy             # optional; mode for unmatched requests, only "legacy"
    evidence: {}                # optional; noise thresholds and promotion gates (shadow/)

:data:`CONFIG_SCHEMA` (JSON Schema 2020-12, ``additionalProperties: false`` throughout so a typo
is an error, not a silently ignored key) checks shapes and ranges; :func:`parse_config` then
checks what a schema cannot say (unique route names, known upstreams, compilable path templates,
websocket methods, ``default``, no NaN). Every failure is one :class:`ConfigError` whose message
reads ``file:line: field.path: problem``, for the first problem in file order; YAML duplicate
keys are refused too (PyYAML would silently keep the last).

What it deliberately doesn't do: read the environment, talk to Redis, or know about live route
changes. YAML is loaded with PyYAML's safe loader only (no arbitrary Python objects).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final
from urllib.parse import SplitResult, urlsplit

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from proxy._types import MODES, Mode
from proxy.routing import compile_path

__all__ = [
    "CONFIG_SCHEMA",
    "ConfigError",
    "ProxyConfig",
    "RouteConfig",
    "ShadowSettings",
    "Upstream",
    "load_config",
    "parse_config",
    "with_upstream_urls",
]

_NAME: Final = "^[a-z0-9][a-z0-9_-]*$"
_PLAIN_KEY: Final = re.compile(r"[A-Za-z0-9_-]+")
_UPSTREAM_NAME: Final = {"type": "string", "pattern": _NAME}


def _closed(properties: Mapping[str, object], *required: str) -> dict[str, object]:
    """An object schema that refuses unknown keys, so a typo is an error rather than ignored."""
    schema: dict[str, object] = {"type": "object", "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    schema["properties"] = dict(properties)
    return schema


_SHADOW: Final = _closed(
    {
        "sample": {"type": "number", "minimum": 0, "maximum": 1},
        "timeout_ms": {"type": "integer", "minimum": 1},
        "max_body_bytes": {"type": "integer", "minimum": 0},
        "reverse": {"type": "boolean"},
        "concurrency": {"type": "integer", "minimum": 1},
        "noise_sample": {"type": "number", "minimum": 0, "maximum": 1},
    }
)
_MATCH: Final = _closed(
    {
        "path": {"type": "string", "pattern": "^/"},
        "methods": {
            "type": "array",
            "items": {"type": "string", "pattern": "^[A-Za-z]+$"},
            "minItems": 1,
            "uniqueItems": True,
        },
        "websocket": {"type": "boolean"},
    },
    "path",
)
_ROUTE: Final = _closed(
    {
        "name": {"type": "string", "pattern": _NAME},
        "match": _MATCH,
        "mode": {"enum": list(MODES)},
        "shadow": _SHADOW,
        "canary": _closed({"percent": {"type": "number", "minimum": 0, "maximum": 100}}),
        "legacy": _UPSTREAM_NAME,
        "candidate": _UPSTREAM_NAME,
        # Read by the shadow engine, which checks it (shadow/compare/config.py): the proxy only
        # carries it, so it stays an object here.
        "compare": {"type": "object"},
    },
    "name",
    "match",
    "mode",
)

CONFIG_SCHEMA: Final[Mapping[str, object]] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "banyan.yaml: the proxy's route baseline",
    **_closed(
        {
            "fleet": {"type": "string", "pattern": _NAME},
            "upstreams": {
                "type": "object",
                "propertyNames": _UPSTREAM_NAME,
                "additionalProperties": _closed({"url": {"type": "string", "minLength": 1}}, "url"),
                "required": ["legacy"],
            },
            "routes": {"type": "array", "items": _ROUTE},
            "default": {"enum": list(MODES)},
            # Noise thresholds and promotion gates, checked by shadow/ (shadow/settings.py).
            "evidence": {"type": "object"},
        },
        "upstreams",
        "routes",
    ),
}

# Built once: checking the schema itself and compiling its patterns are not per-file work.
_VALIDATOR: Final = Draft202012Validator(CONFIG_SCHEMA)


class ConfigError(Exception):
    """``banyan.yaml`` cannot be used; the message reads ``file:line: field.path: problem``."""


@dataclass(frozen=True, slots=True)
class Upstream:
    """A service the proxy forwards to, over plain HTTP on the lab network.

    ``host`` is the bare host name or address (an IPv6 literal without its brackets).
    """

    name: str
    url: str
    host: str
    port: int


@dataclass(frozen=True, slots=True)
class ShadowSettings:
    """How a route is mirrored: the sampled share, and the bounds that keep mirroring cheap."""

    sample: float = 1.0
    timeout_ms: int = 15000
    max_body_bytes: int = 26214400
    reverse: bool = False
    concurrency: int = 16
    noise_sample: float = 0.05


@dataclass(frozen=True, slots=True)
class RouteConfig:
    """One route as configured. ``methods`` is ``None`` for any method, else upper-cased names."""

    name: str
    path: str
    methods: frozenset[str] | None
    websocket: bool
    mode: Mode
    shadow: ShadowSettings
    canary_percent: float
    legacy: str
    candidate: str
    # The route's ``compare:`` block, unchecked here (the shadow engine owns its meaning).
    compare: Mapping[str, Any] = dataclasses.field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class ProxyConfig:
    """The whole baseline; ``routes`` in priority order, ``upstreams`` read-only by name."""

    fleet: str
    upstreams: Mapping[str, Upstream]
    routes: tuple[RouteConfig, ...]
    default: Mode
    # The ``evidence:`` block (noise thresholds, promotion gates), unchecked here.
    evidence: Mapping[str, Any] = dataclasses.field(default_factory=lambda: MappingProxyType({}))


def load_config(path: Path) -> ProxyConfig:
    """Read and check the baseline file; every failure, a missing file included, is ConfigError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: config file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc}") from exc
    return parse_config(text, source=str(path))


def parse_config(text: str, source: str = "<string>") -> ProxyConfig:
    """Check ``text`` (YAML, then schema, then cross-field rules) and build the config.

    ``source`` names the text in error messages. The first problem found is raised as
    :class:`ConfigError`; nothing is partially built.
    """
    node, data = _load_yaml(text, source)
    where = _Locator(source, node)
    # The first problem in file order, which is how people fix a file. (jsonschema's best_match
    # prefers the shallowest error and, among siblings, the last one.)
    problems = (_schema_problem(error) for error in _VALIDATOR.iter_errors(data))
    first = min(problems, key=lambda problem: where.position(problem[0]), default=None)
    if first is not None:
        raise where.error(*first)
    return _build(data, where)


# --- YAML and locating problems in it ------------------------------------------------------


def _load_yaml(text: str, source: str) -> tuple[yaml.Node, Any]:
    """Compose the node tree (it keeps line numbers) and construct plain data from it."""
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            data = None
            if node is not None:
                _refuse_duplicate_keys(node, [], _Locator(source, node), set())
                data = loader.construct_document(node)
            if node is None or data is None:
                raise ConfigError(f"{source}:1: the file is empty; expected upstreams and routes")
            return node, data
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        reason = exc.problem or exc.context or "cannot be parsed"
        raise ConfigError(f"{source}:{line}: invalid YAML: {reason}") from exc
    except yaml.YAMLError as exc:
        # The reader (e.g. a control character) reports a character offset, not a mark.
        line = text.count("\n", 0, getattr(exc, "position", 0)) + 1
        reason = str(exc).splitlines()[0]
        raise ConfigError(f"{source}:{line}: invalid YAML: {reason}") from exc


def _refuse_duplicate_keys(
    node: yaml.Node, path: list[str | int], where: _Locator, seen: set[int]
) -> None:
    # PyYAML keeps the last of two equal keys; a repeated `mode:` would silently win.
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _refuse_duplicate_keys(item, [*path, index], where, seen)
    elif isinstance(node, yaml.MappingNode):
        lines: dict[str, int] = {}
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in lines:
                    message = f"duplicate key (first at line {lines[key.value]})"
                    raise where.error([*path, key.value], message, line=key.start_mark.line + 1)
                lines[key.value] = key.start_mark.line + 1
                _refuse_duplicate_keys(value, [*path, key.value], where, seen)


class _Locator:
    """Turns a field path into ``file:line: field.path`` using the composed node tree."""

    __slots__ = ("_root", "_source")

    def __init__(self, source: str, root: yaml.Node) -> None:
        self._source = source
        self._root = root

    def error(
        self, path: Sequence[str | int], message: str, *, line: int | None = None
    ) -> ConfigError:
        line = self.line(path) if line is None else line
        return ConfigError(f"{self._source}:{line}: {_field(path)}: {message}")

    def line(self, path: Sequence[str | int]) -> int:
        """The line of the deepest node along ``path`` that exists: a mapping entry's key line,
        a sequence item's own line; a missing field falls back to its nearest parent."""
        anchor, _, _ = self._walk(path)
        return anchor.start_mark.line + 1

    def position(self, path: Sequence[str | int]) -> int:
        """Where a problem sits in file order: a missing field counts as the end of its parent,
        so a typo'd key is reported before the "required" error it also causes."""
        anchor, node, complete = self._walk(path)
        return anchor.start_mark.index if complete else node.end_mark.index

    def _walk(self, path: Sequence[str | int]) -> tuple[yaml.Node, yaml.Node, bool]:
        anchor = node = self._root
        for step in path:
            found = _child(node, step)
            if found is None:
                return anchor, node, False
            anchor, node = found
        return anchor, node, True


def _child(node: yaml.Node, step: str | int) -> tuple[yaml.Node, yaml.Node] | None:
    """(node to point at, child node) for one step, or None if the step is not in the tree."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(step):
                return key, value
    elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
        return node.value[step], node.value[step]
    return None


def _field(path: Sequence[str | int]) -> str:
    if not path:
        return "(top level)"
    text = ""
    for step in path:
        if isinstance(step, int):
            text += f"[{step}]"
        elif _PLAIN_KEY.fullmatch(step):
            text += f".{step}" if text else step
        else:
            text += f"[{step!r}]"
    return text


def _schema_problem(error: ValidationError) -> tuple[list[str | int], str]:
    """The field path and message for a schema error; an unknown or missing key is named in
    the path itself, so the message points at the key rather than at its parent mapping."""
    path = list(error.absolute_path)
    message = error.message
    instance = error.instance
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        known = error.schema.get("properties", {}) if isinstance(error.schema, Mapping) else {}
        unknown = [key for key in instance if key not in known]
        if unknown:
            path.append(unknown[0])
            message = f"unknown key; expected one of {sorted(known)}"
    elif error.validator == "required" and isinstance(instance, dict):
        required = error.validator_value if isinstance(error.validator_value, list) else []
        missing = [key for key in required if key not in instance]
        if missing:
            path.append(missing[0])
    return path, message


# --- building the config, with the checks a schema cannot express ---------------------------


def _build(data: Mapping[str, Any], where: _Locator) -> ProxyConfig:
    upstreams = {
        name: _upstream(name, raw["url"], where) for name, raw in data["upstreams"].items()
    }
    routes = tuple(_route(index, raw, where) for index, raw in enumerate(data["routes"]))
    _check_route_names(routes, where)
    _check_upstream_names(routes, upstreams, where)
    default = data.get("default", "legacy")
    if default != "legacy":
        raise where.error(
            ["default"], f"{default!r}: only 'legacy'; an unmatched request never goes elsewhere"
        )
    return ProxyConfig(
        fleet=data.get("fleet", "default"),
        upstreams=MappingProxyType(upstreams),
        routes=routes,
        default=default,
        evidence=MappingProxyType(dict(data.get("evidence", {}))),
    )


def with_upstream_urls(config: ProxyConfig, urls: Mapping[str, str]) -> ProxyConfig:
    """The same config with some upstreams moved (``banyan proxy --upstream NAME=URL``).

    Why: the lab starts services on whatever ports are free, so it tells the proxy where
    legacy and candidate really are instead of trusting the baseline file's URLs."""
    upstreams = dict(config.upstreams)
    for name, url in urls.items():
        if name not in upstreams:
            known = ", ".join(sorted(upstreams))
            raise ConfigError(f"--upstream {name}=...: no upstream named {name!r} (known: {known})")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise ConfigError(f"--upstream {name}={url}: {exc}") from exc
        problem = _url_problem(parts)
        if problem is not None or not parts.hostname:
            raise ConfigError(f"--upstream {name}={url}: {problem or 'no host'}")
        upstreams[name] = Upstream(name=name, url=url, host=parts.hostname, port=port or 80)
    return ProxyConfig(
        fleet=config.fleet,
        upstreams=MappingProxyType(upstreams),
        routes=config.routes,
        default=config.default,
        evidence=config.evidence,
    )


def _upstream(name: str, url: str, where: _Locator) -> Upstream:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise where.error(["upstreams", name, "url"], f"{url!r}: {exc}") from exc
    problem = _url_problem(parts)
    if problem is None and parts.hostname:
        return Upstream(name=name, url=url, host=parts.hostname, port=port or 80)
    raise where.error(["upstreams", name, "url"], f"{url!r}: {problem or 'no host'}")


def _url_problem(parts: SplitResult) -> str | None:
    if parts.scheme == "https":
        return "https is not supported: the proxy speaks plain HTTP to upstreams (http://host:port)"
    if parts.scheme != "http":
        return "expected an http://host:port URL"
    if not parts.hostname:
        return "no host"
    if parts.username is not None or parts.password is not None:
        return "credentials in the URL are not supported"
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return "an upstream URL is only http://host:port, without path, query or fragment"
    if parts.port == 0:
        return "port 0 is not a port an upstream can listen on"
    return None


def _route(index: int, raw: Mapping[str, Any], where: _Locator) -> RouteConfig:
    at: list[str | int] = ["routes", index]
    path, methods, websocket = _match(raw["match"], [*at, "match"], where)
    percent = raw.get("canary", {}).get("percent", 0.0)
    return RouteConfig(
        name=raw["name"],
        path=path,
        methods=methods,
        websocket=websocket,
        mode=raw["mode"],
        shadow=_shadow(raw.get("shadow", {}), [*at, "shadow"], where),
        canary_percent=_number(percent, [*at, "canary", "percent"], where),
        legacy=raw.get("legacy", "legacy"),
        candidate=raw.get("candidate", "candidate"),
        compare=MappingProxyType(dict(raw.get("compare", {}))),
    )


def _match(
    raw: Mapping[str, Any], at: list[str | int], where: _Locator
) -> tuple[str, frozenset[str] | None, bool]:
    try:
        compile_path(raw["path"])
    except ValueError as exc:
        raise where.error([*at, "path"], str(exc)) from exc
    websocket = bool(raw.get("websocket", False))
    methods = frozenset(m.upper() for m in raw["methods"]) if "methods" in raw else None
    if websocket and methods is not None and methods != {"GET"}:
        raise where.error(
            [*at, "methods"],
            f"{sorted(methods)}: a websocket route accepts only GET (the upgrade request)",
        )
    return raw["path"], methods, websocket


def _shadow(raw: Mapping[str, Any], at: list[str | int], where: _Locator) -> ShadowSettings:
    defaults = ShadowSettings()
    return ShadowSettings(
        sample=_number(raw.get("sample", defaults.sample), [*at, "sample"], where),
        timeout_ms=int(raw.get("timeout_ms", defaults.timeout_ms)),
        max_body_bytes=int(raw.get("max_body_bytes", defaults.max_body_bytes)),
        reverse=bool(raw.get("reverse", defaults.reverse)),
        concurrency=int(raw.get("concurrency", defaults.concurrency)),
        noise_sample=_number(
            raw.get("noise_sample", defaults.noise_sample), [*at, "noise_sample"], where
        ),
    )


def _number(value: float, path: list[str | int], where: _Locator) -> float:
    # YAML's .nan passes minimum/maximum (every comparison with NaN is false); it would turn
    # sampling off silently and make the canary threshold raise per request.
    if math.isnan(value):
        raise where.error(path, "must be a number, not NaN")
    return float(value)


def _check_route_names(routes: Sequence[RouteConfig], where: _Locator) -> None:
    first: dict[str, int] = {}
    for index, route in enumerate(routes):
        if route.name in first:
            raise where.error(
                ["routes", index, "name"],
                f"duplicate route name {route.name!r} (first at routes[{first[route.name]}])",
            )
        first[route.name] = index


def _check_upstream_names(
    routes: Sequence[RouteConfig], upstreams: Mapping[str, Upstream], where: _Locator
) -> None:
    # Both sides must exist even in legacy mode: a live flip may move the route at any time.
    for index, route in enumerate(routes):
        for field, name in (("legacy", route.legacy), ("candidate", route.candidate)):
            if name not in upstreams:
                raise where.error(
                    ["routes", index, field],
                    f"upstream {name!r} is not defined (upstreams: {', '.join(upstreams)})",
                )

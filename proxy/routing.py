"""The compiled route table: which configured route, if any, an inbound request belongs to.

Matching is the first step of every request after ``identify`` (STYLE house rule 4), so all the
work happens when a table is built: path templates are compiled once (a bad one fails then, with
``ValueError``, the way Starlette's ``compile_path`` does), literal paths go into a dict, and
routes are split by whether they serve WebSocket upgrades. Per request, :meth:`RouteTable.match`
does one dict lookup and tries the precompiled template patterns in priority order.

Order is priority and the first match wins, exactly as listed in ``banyan.yaml``: a template
route listed before a literal route that also matches still wins.

What this module deliberately doesn't do: normalise paths (the caller strips the query string;
a trailing slash is significant; no percent-decoding, so parameters come back as they appear on
the wire), answer 405 (a request whose method no route accepts is unmatched, goes to legacy, and
legacy answers it), or change a table in place: a live route change builds a new table with
:meth:`RouteTable.replace` and swaps it in (house rule 14).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from proxy.config import ProxyConfig, RouteConfig

__all__ = ["RouteMatch", "RouteTable", "compile_path"]

_PARAMETER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_NO_PARAMS: Mapping[str, str] = MappingProxyType({})


def compile_path(template: str) -> re.Pattern[str] | None:
    """Compile a path template such as ``/doc-ai/v1/job/{job_id}/status``.

    Returns ``None`` for a literal path (no parameters), which callers match by equality. Each
    ``{name}`` must be a whole segment and matches exactly one non-empty segment; names are
    identifiers and unique within the template. Raises ``ValueError`` naming the template and the
    offending segment otherwise, so a bad route fails when the config loads, never per request.
    """
    if not template.startswith("/"):
        raise ValueError(f"path template {template!r} must start with '/'")
    parts: list[str] = []
    names: set[str] = set()
    for segment in template.split("/")[1:]:
        name = _parameter_name(template, segment)
        if name is None:
            parts.append(re.escape(segment))
            continue
        if name in names:
            raise ValueError(f"path template {template!r}: parameter {{{name}}} appears twice")
        names.add(name)
        parts.append(f"(?P<{name}>[^/]+)")
    if not names:
        return None
    return re.compile("/" + "/".join(parts))


def _parameter_name(template: str, segment: str) -> str | None:
    """The parameter a segment declares, ``None`` for a literal segment; ``ValueError`` if bad."""
    if "{" not in segment and "}" not in segment:
        return None
    match = _PARAMETER.fullmatch(segment)
    if match is not None:
        return match.group(1)
    if segment == "{}":
        problem = "a parameter needs a name"
    elif segment.count("{") != 1 or segment.count("}") != 1:
        problem = "unbalanced or repeated braces"
    elif not (segment.startswith("{") and segment.endswith("}")):
        problem = "a parameter must be a whole path segment"
    else:
        problem = "a parameter name must be an identifier ([A-Za-z_][A-Za-z0-9_]*)"
    raise ValueError(f"path template {template!r}: segment {segment!r}: {problem}")


@dataclass(frozen=True, slots=True)
class RouteMatch:
    """The outcome of matching: the route (``None`` when no route accepts the request) and the
    values of its path parameters, read-only and as they appear in the path."""

    route: RouteConfig | None
    params: Mapping[str, str]


_NO_MATCH = RouteMatch(None, _NO_PARAMS)


@dataclass(frozen=True, slots=True)
class _Template:
    index: int
    pattern: re.Pattern[str]
    route: RouteConfig


class _Index:
    """The routes of one kind (plain HTTP or WebSocket), ready for per-request matching.

    Literal paths map to their routes' precomputed matches (so a literal hit allocates nothing);
    templates keep their position in the table so priority can be compared across both.
    """

    __slots__ = ("_literal", "_templates")

    def __init__(self, indexed: Iterable[tuple[int, RouteConfig]]) -> None:
        literal: dict[str, list[tuple[int, RouteMatch]]] = {}
        templates: list[_Template] = []
        for index, route in indexed:
            pattern = compile_path(route.path)
            if pattern is None:
                literal.setdefault(route.path, []).append((index, RouteMatch(route, _NO_PARAMS)))
            else:
                templates.append(_Template(index, pattern, route))
        self._literal = {path: tuple(hits) for path, hits in literal.items()}
        self._templates = tuple(templates)

    def match(self, method: str, path: str) -> RouteMatch:
        best_index = -1
        best = _NO_MATCH
        for index, hit in self._literal.get(path, ()):
            if _is_method_allowed(hit.route, method):
                best_index, best = index, hit
                break
        for template in self._templates:
            if best_index >= 0 and template.index > best_index:
                break
            if not _is_method_allowed(template.route, method):
                continue
            found = template.pattern.fullmatch(path)
            if found is not None:
                return RouteMatch(template.route, MappingProxyType(found.groupdict()))
        return best


def _is_method_allowed(route: RouteConfig | None, method: str) -> bool:
    # HTTP methods are case-sensitive (RFC 9110 §9.1); config upper-cases what it lists.
    return route is not None and (route.methods is None or method in route.methods)


class RouteTable:
    """An immutable, ordered route table: order is priority and the first match wins.

    Built once per configuration; a live route change builds a new table with :meth:`replace`
    and swaps it in, so a request always sees one consistent table.
    """

    __slots__ = ("_by_name", "_http", "_routes", "_websocket")

    def __init__(self, routes: Sequence[RouteConfig]) -> None:
        by_name: dict[str, RouteConfig] = {}
        for route in routes:
            if route.name in by_name:
                raise ValueError(f"route name {route.name!r} appears twice in the table")
            by_name[route.name] = route
        self._routes = tuple(routes)
        self._by_name: Mapping[str, RouteConfig] = MappingProxyType(by_name)
        indexed = list(enumerate(self._routes))
        self._http = _Index((i, route) for i, route in indexed if not route.websocket)
        self._websocket = _Index((i, route) for i, route in indexed if route.websocket)

    @classmethod
    def from_config(cls, config: ProxyConfig) -> RouteTable:
        return cls(config.routes)

    @property
    def routes(self) -> tuple[RouteConfig, ...]:
        return self._routes

    def get(self, name: str) -> RouteConfig | None:
        return self._by_name.get(name)

    def match(self, method: str, path: str, *, websocket: bool) -> RouteMatch:
        """The first route accepting this method, path and kind of request, else no route.

        ``path`` is the request target without its query string, matched exactly. A route
        whose ``websocket`` flag differs from the request's never matches.
        """
        index = self._websocket if websocket else self._http
        return index.match(method, path)

    def replace(self, route: RouteConfig) -> RouteTable:
        """A new table with the same-named route swapped for ``route``, at the same priority.

        This table is left unchanged. Raises ``KeyError`` if no route has that name, and
        ``ValueError`` if the new route's path template does not compile.
        """
        if route.name not in self._by_name:
            raise KeyError(route.name)
        return RouteTable(tuple(route if r.name == route.name else r for r in self._routes))

    def __repr__(self) -> str:
        return f"RouteTable({[route.name for route in self._routes]!r})"

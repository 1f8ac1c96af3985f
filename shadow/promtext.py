"""A small reader of the Prometheus text format (0.0.4): samples by name and labels.

The canary guard reads the proxy's ``/metrics`` with it; ``prometheus_client`` is not a
dependency and a full parser is not needed: comments are skipped, label values unescaped,
an optional timestamp ignored. Not handled (the proxy never writes them): exemplars,
OpenMetrics ``# EOF``. A malformed line raises ``PromTextError`` naming the line.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import TypeAlias

__all__ = ["Labels", "PromTextError", "Samples", "parse_prometheus", "select"]

Labels: TypeAlias = tuple[tuple[str, str], ...]  # sorted by label name
Samples: TypeAlias = dict[tuple[str, Labels], float]

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|(?=\}))')
_UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}
_ESCAPED = re.compile(r'\\[\\"n]')


class PromTextError(ValueError):
    """The text is not Prometheus exposition format."""


def _value(text: str) -> float:
    special = {"+Inf": math.inf, "-Inf": -math.inf, "NaN": math.nan}
    if text in special:
        return special[text]
    return float(text)


def _parse_line(line: str) -> tuple[str, Labels, float]:
    name_match = _NAME.match(line)
    if name_match is None:
        raise PromTextError(f"no metric name in {line!r}")
    name, rest = name_match.group(), line[name_match.end() :]
    labels: list[tuple[str, str]] = []
    if rest.startswith("{"):
        at = 1
        while not rest.startswith("}", at):
            label = _LABEL.match(rest, at)
            if label is None:
                raise PromTextError(f"bad labels in {line!r}")
            value = _ESCAPED.sub(lambda m: _UNESCAPE[m.group()], label.group(2))
            labels.append((label.group(1), value))
            at = label.end()
        rest = rest[at + 1 :]
    parts = rest.split()
    if not 1 <= len(parts) <= 2:
        raise PromTextError(f"expected a value (and a timestamp) in {line!r}")
    try:
        return name, tuple(sorted(labels)), _value(parts[0])
    except ValueError as exc:
        raise PromTextError(f"bad value in {line!r}") from exc


def parse_prometheus(text: str) -> Samples:
    """Every sample of the text, keyed by (name, sorted labels)."""
    samples: Samples = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, labels, value = _parse_line(line)
        samples[(name, labels)] = value
    return samples


def select(samples: Mapping[tuple[str, Labels], float], name: str) -> Iterable[
    tuple[dict[str, str], float]
]:  # fmt: skip
    """The samples of one metric name, with their labels as a dict."""
    for (metric, labels), value in samples.items():
        if metric == name:
            yield dict(labels), value

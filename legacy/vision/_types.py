"""Type aliases shared by the vision modules."""

from __future__ import annotations

from typing import TypeAlias

__all__ = ["Box", "JsonObject"]

# x0, y0, x1, y1 in the page image's pixels (x0 < x1, y0 < y1; the origin is the top left).
Box: TypeAlias = tuple[int, int, int, int]
# A JSON object as json.loads returns it: string keys, JSON values.
JsonObject: TypeAlias = dict[str, object]

"""Field types for strict request models that still follow JSON Schema's reading of JSON.

The request models are strict (a bool is not a number, "5" is not an integer), but JSON Schema
counts ``5.0`` as an integer, and so do clients that serialise numbers as floats; refusing it
would refuse a request the published schema allows. ``JsonInt`` takes integral floats as
integers and still refuses ``5.5``, ``"5"`` and ``true``. With constraints, put them before
the marker so the schema keeps them: ``Annotated[int, Field(ge=1), IntegralFloat]``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator

__all__ = ["IntegralFloat", "JsonInt"]


def _integral_float_to_int(value: object) -> object:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


IntegralFloat = BeforeValidator(_integral_float_to_int)
JsonInt = Annotated[int, IntegralFloat]

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from legacy.json_types import IntegralFloat, JsonInt


class Strict(BaseModel):
    model_config = ConfigDict(strict=True)
    n: JsonInt | None = None
    positive: Annotated[int, Field(ge=1), IntegralFloat] | None = None


@pytest.mark.parametrize(("raw", "value"), [(5, 5), (5.0, 5), (-0.0, 0), (None, None)])
def test_integers_as_json_schema_counts_them(raw, value) -> None:
    assert Strict.model_validate({"n": raw}).n == value


@pytest.mark.parametrize("raw", [5.5, "5", True, float("inf")])
def test_what_is_not_an_integer_is_refused(raw) -> None:
    with pytest.raises(ValidationError):
        Strict.model_validate({"n": raw})


def test_constraints_stay_in_the_schema_and_apply() -> None:
    schema = Strict.model_json_schema()["properties"]["positive"]["anyOf"][0]
    assert schema == {"type": "integer", "minimum": 1}
    assert Strict.model_validate({"positive": 2.0}).positive == 2
    with pytest.raises(ValidationError):
        Strict.model_validate({"positive": 0.0})

"""The per-model limits of /translate (pure: no server)."""

from __future__ import annotations

from typing import Any

import pytest

from legacy.translate_api import TranslationRequest, model_refusal


def _request(**fields: Any) -> TranslationRequest:
    base = {"input": "hello", "source_language_code": "en-IN", "target_language_code": "hi-IN"}
    return TranslationRequest.model_validate({**base, **fields})


@pytest.mark.parametrize(
    ("fields", "model", "message"),
    [
        ({"input": "a" * 1001}, "mayura:v1", "mayura:v1 takes at most 1000; use sarvam-translate"),
        ({"input": "a" * 2000}, "sarvam-translate:v1", None),
        ({"target_language_code": "ne-IN"}, "mayura:v1", "target_language_code ne-IN is not"),
        ({"source_language_code": "sa-IN"}, "mayura:v1", "source_language_code sa-IN is not"),
        ({"target_language_code": "ne-IN"}, "sarvam-translate:v1", None),
        ({"mode": "code-mixed"}, "sarvam-translate:v1", "formal mode only"),
        ({"mode": "formal"}, "sarvam-translate:v1", None),
        ({"output_script": "roman"}, "sarvam-translate:v1", "mayura:v1 only"),
        ({"output_script": "roman", "mode": "code-mixed"}, "mayura:v1", None),
    ],
)
def test_model_limits(fields: dict[str, Any], model: Any, message: str | None) -> None:
    refusal = model_refusal(_request(**fields), model)
    if message is None:
        assert refusal is None
    else:
        assert message in (refusal or "")

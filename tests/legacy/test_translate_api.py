"""The per-model limits of /translate: legacy's pure function, and the public answers of legacy
(direct, through the proxy) and of the Go candidate."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from legacy.translate_api import TranslationRequest, model_refusal

BASE = {"input": "hello", "source_language_code": "en-IN", "target_language_code": "hi-IN"}


def _request(**fields: Any) -> TranslationRequest:
    return TranslationRequest.model_validate({**BASE, **fields})


LIMITS = pytest.mark.parametrize(
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


@LIMITS
def test_model_limits(fields: dict[str, Any], model: Any, message: str | None) -> None:
    refusal = model_refusal(_request(**fields), model)
    if message is None:
        assert refusal is None
    else:
        assert message in (refusal or "")


@LIMITS
def test_model_limits_are_the_public_answers(
    platform, ported_base_url: str, fields: dict[str, Any], model: str, message: str | None
) -> None:
    """The refusal is the 400's message; a request within the limits is translated."""
    key = platform.make_tenant(credits="1000", requests_per_minute=10_000)
    answer = httpx.post(
        f"{ported_base_url}/translate", json={**BASE, **fields, "model": model},
        headers={"api-subscription-key": key}, timeout=30,
    )  # fmt: skip
    if message is None:
        assert answer.status_code == 200, answer.text
        assert answer.json()["translated_text"]
    else:
        assert answer.status_code == 400, answer.text
        assert message in answer.json()["error"]["message"]

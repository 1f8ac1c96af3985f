"""Fuzz every route of legacy's OpenAPI document with schemathesis, against the running platform.

Each operation gets a bounded, derandomized set of generated requests (valid and invalid);
every response must be a non-5xx that conforms to the document: a documented status, the
documented content type and a body that validates against the documented model (error
envelopes included). Routes added later are fuzzed by this test without changing it.

The document is built with ``create_app`` at import (schemathesis's ``from_fixture`` loader
touches ``Node._nodeid``, which pytest 9 removed); a test holds it equal to the served one.
Findings it turned into fixes are pinned by the regression tests at the end.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import PositiveDataAcceptanceConfig

from legacy.app import create_app

MAX_EXAMPLES = 25


@pytest.fixture(scope="module")
def fuzz_key(platform) -> str:
    """A tenant no generated request can exhaust or rate-limit."""
    return platform.make_tenant(credits="1000000", requests_per_minute=1_000_000)


def _document() -> dict[str, Any]:
    """The document legacy serves, built as the server builds it (creating the app opens no
    connection); ``test_the_fuzzed_document_is_the_served_one`` holds the two equal."""
    return create_app(database_url="postgresql://unused", redis_url="redis://unused").openapi()


schema = schemathesis.openapi.from_dict(_document())
# A schema-valid request may still get the documented 400: a combination the schema cannot
# express (a language the chosen model lacks, text with no letters to detect a language in).
schema.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(
    expected_statuses=["2xx", "400", "401", "403", "404", "409", "429"]
)


def test_the_fuzzed_document_is_the_served_one(platform) -> None:
    with httpx.Client(timeout=30) as http:
        served = http.get(f"{platform.direct_url}/openapi.json").raise_for_status().json()
    assert served == _document()
    assert {"/text-lid", "/transliterate", "/translate", "/text-to-speech"} <= set(served["paths"])


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_no_route_fails_or_breaks_its_schema(case, platform, fuzz_key: str) -> None:
    case.call_and_validate(
        base_url=platform.direct_url, headers={"api-subscription-key": fuzz_key}, timeout=30
    )


@pytest.mark.parametrize("text", ["\u000b", "\x1c\x85", "a\x00b"])
@pytest.mark.parametrize("path", ["/text-to-speech", "/text-to-speech/stream"])
def test_regression_text_with_nothing_to_speak_is_a_422(platform, fuzz_key, path, text) -> None:
    """Found by the fuzzer: ``{"text": "\\u000b", "language_code": "bn-IN"}`` crashed the TTS
    chunker (no chunk to synthesize: IndexError, 500). Then: the published pattern must mean
    what the server checks (Python counts \\x1c and \\x85 as whitespace, JSON Schema's
    regex dialect does not), so the pattern spells its classes out."""
    pattern = _document()["components"]["schemas"]["TextToSpeechRequest"]["properties"]["text"]
    assert re.search(pattern["pattern"], text) is None
    with httpx.Client(timeout=30) as http:
        response = http.post(
            f"{platform.direct_url}{path}",
            headers={"api-subscription-key": fuzz_key},
            json={"text": text, "language_code": "bn-IN"},
        )
    assert response.status_code == 422
    assert "body.text" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"input": "hello", "source_language_code": "en-IN", "target_language_code": "hi-IN",
         "mode": "formal", "model": 1},
        {"input": "hello", "source_language_code": "en-IN", "target_language_code": "hi-IN",
         "spoken_form": 0},
    ],
)  # fmt: skip
def test_regression_wrong_json_types_are_refused_not_coerced(platform, fuzz_key, body) -> None:
    """Found by the fuzzer: ``"enable_cached_responses": 0`` was coerced to False and served;
    request models are strict now, so a value of the wrong JSON type is a 422."""
    path = "/translate" if "mode" in body else "/transliterate"
    with httpx.Client(timeout=30) as http:
        response = http.post(
            f"{platform.direct_url}{path}", headers={"api-subscription-key": fuzz_key}, json=body
        )
    assert response.status_code == 422


def test_regression_a_body_that_is_not_json_is_a_documented_400(platform, fuzz_key) -> None:
    with httpx.Client(timeout=30) as http:
        response = http.post(
            f"{platform.direct_url}/text-lid",
            headers={"api-subscription-key": fuzz_key, "content-type": "application/json"},
            content=b'F\xff"',
        )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request_error"
    assert "400" in _document()["paths"]["/text-lid"]["post"]["responses"]

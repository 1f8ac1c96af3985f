"""/text-lid and /transliterate with the real sarvamai SDK: legacy direct, through the proxy, and
the Go candidate (issue 7: a ported route passes the same SDK tests)."""

from __future__ import annotations

import unicodedata
from decimal import Decimal

import pytest
import sarvamai
from sarvamai.core.api_error import ApiError


@pytest.mark.parametrize(
    ("text", "language", "script"),
    [
        ("मेरा नाम राहुल है और मैं दिल्ली में रहता हूँ", "hi-IN", "Deva"),
        ("माझे नाव राहुल आहे आणि मी पुण्यात राहतो", "mr-IN", "Deva"),
        ("வணக்கம், எப்படி இருக்கிறீர்கள்?", "ta-IN", "Taml"),
        ("ನಮಸ್ಕಾರ, ಹೇಗಿದ್ದೀರಿ?", "kn-IN", "Knda"),
        ("Good morning, how are you?", "en-IN", "Latn"),
    ],
)
def test_identify_language(
    client, ported_base_url: str, platform, text: str, language: str, script: str
) -> None:
    key = platform.make_tenant()
    answer = client(ported_base_url, key).text.identify_language(input=text)
    assert (answer.language_code, answer.script_code) == (language, script)
    assert answer.request_id


def test_transliterate_between_scripts_and_to_roman(client, ported_base_url: str, platform) -> None:
    sdk = client(ported_base_url, platform.make_tenant())
    roman = sdk.text.transliterate(
        input="नमस्ते दुनिया 2024", source_language_code="auto", target_language_code="en-IN"
    )
    assert (roman.transliterated_text, roman.source_language_code) == (
        "namaste duniya 2024",
        "hi-IN",
    )
    tamil = sdk.text.transliterate(
        input="नमस्ते",
        source_language_code="hi-IN",
        target_language_code="ta-IN",
        numerals_format="native",
    )
    assert tamil.transliterated_text == "நமஸ்தே"


@pytest.mark.parametrize("side", ["legacy", "candidate"])
def test_every_call_is_metered_in_characters(client, platform, side: str, request) -> None:
    url = platform.direct_url if side == "legacy" else request.getfixturevalue("candidate_url")
    sdk = client(url, platform.make_tenant())
    before = len(platform.ledger_rows("text-lid"))
    sdk.text.identify_language(input="नमस्ते")  # 6 characters (code points)
    rows = platform.ledger_rows("text-lid")
    assert rows[before:] == [("characters", Decimal("6.0000"))]


def test_errors_surface_as_the_sdks_exceptions(client, ported_base_url: str, platform) -> None:
    with pytest.raises(sarvamai.ForbiddenError) as bad_key:
        client(ported_base_url, "sk_not_a_key").text.identify_language(input="hello")
    assert bad_key.value.body["error"]["code"] == "invalid_api_key_error"

    with pytest.raises(ApiError) as broke:
        client(ported_base_url, platform.make_tenant(credits="0")).text.identify_language(
            input="hello"
        )
    assert broke.value.status_code == 402

    sdk = client(ported_base_url, platform.make_tenant())
    with pytest.raises(sarvamai.UnprocessableEntityError) as too_long:
        sdk.text.identify_language(input="x" * 1001)
    assert "input" in too_long.value.body["error"]["message"]
    with pytest.raises(sarvamai.UnprocessableEntityError):
        sdk.text.transliterate(
            input="hi", source_language_code="auto", target_language_code="fr-FR"
        )
    with pytest.raises(sarvamai.BadRequestError):
        sdk.text.transliterate(
            input="hello", source_language_code="en-IN", target_language_code="en-IN"
        )


def test_a_burst_gets_429_and_the_sdk_honours_retry_after(
    client, ported_base_url: str, platform
) -> None:
    sdk = client(ported_base_url, platform.make_tenant(requests_per_minute=2))
    sdk.text.identify_language(input="a")
    sdk.text.identify_language(input="b")
    with pytest.raises(sarvamai.TooManyRequestsError) as limited:
        sdk.text.identify_language(input="c", request_options={"max_retries": 0})
    assert 1 <= int(limited.value.headers["retry-after"]) <= 60


def test_spoken_form_writes_numbers_as_words(client, ported_base_url: str, platform) -> None:
    sdk = client(ported_base_url, platform.make_tenant())

    def hindi(**options) -> str:
        answer = sdk.text.transliterate(
            input="mere paas 250 rupaye hain", source_language_code="en-IN",
            target_language_code="hi-IN", **options,
        )  # fmt: skip
        return unicodedata.normalize("NFC", answer.transliterated_text)

    assert "250" in hindi()
    assert unicodedata.normalize("NFC", " टू हंड्रेड फ़िफ़्टी रुपये ") in hindi(spoken_form=True)
    native = hindi(spoken_form=True, spoken_form_numerals_language="native")
    assert " दो सौ पचास रुपये " in native
    assert hindi(numerals_format="native").count("२५०") == 1
    roman = sdk.text.transliterate(
        input="मेरे पास 250 रुपये", source_language_code="hi-IN", target_language_code="en-IN",
        spoken_form=True,
    )  # fmt: skip
    assert roman.transliterated_text.endswith("250 rupaye")  # no effect for en-IN
    with pytest.raises(sarvamai.BadRequestError) as no_tamil_words:
        sdk.text.transliterate(
            input="250", source_language_code="en-IN", target_language_code="ta-IN",
            spoken_form=True, spoken_form_numerals_language="native",
        )  # fmt: skip
    assert "use 'english' for ta-IN" in no_tamil_words.value.body["error"]["message"]

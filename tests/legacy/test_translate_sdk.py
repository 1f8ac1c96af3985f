"""/translate with the real sarvamai SDK: legacy direct, through the proxy, and the Go candidate
(issue 7: a ported route passes the same SDK tests)."""

from __future__ import annotations

import unicodedata
from decimal import Decimal

import pytest
import sarvamai
from sarvamai.core.api_error import ApiError

from legacy.text.scripts import dominant_script

SENTENCE = "Hello, how are you? My name is Rahul. I have 25 books."


def _url(platform, side: str, request: pytest.FixtureRequest) -> str:
    """Legacy's URL, or the Go candidate's (started only when a test asks for it)."""
    return platform.direct_url if side == "legacy" else request.getfixturevalue("candidate_url")


@pytest.mark.parametrize(
    ("text", "source", "target", "script", "expected"),
    [
        (SENTENCE, "en-IN", "hi-IN", "Deva", "नमस्ते, आप कैसे हैं?"),
        (SENTENCE, "en-IN", "ta-IN", "Taml", "வணக்கம், நீங்கள் எப்படி இருக்கிறீர்கள்?"),
        ("नमस्ते, आप कैसे हैं? धन्यवाद।", "hi-IN", "en-IN", "Latn", "Hello, how are you?"),
        ("আমার নাম রাহুল। ধন্যবাদ।", "bn-IN", "gu-IN", "Gujr", "મારું નામ"),
    ],
)
def test_translate_writes_the_target_language(
    client, ported_base_url: str, platform, text, source, target, script, expected
) -> None:
    sdk = client(ported_base_url, platform.make_tenant())
    answer = sdk.text.translate(
        input=text, source_language_code=source, target_language_code=target
    )
    assert answer.source_language_code == source
    assert answer.request_id
    assert dominant_script(answer.translated_text) == script
    assert answer.translated_text.startswith(expected)
    # Plausible length, and sentences and numbers survive.
    assert 0.5 * len(text) <= len(answer.translated_text) <= 2 * len(text)
    ends = sum(text.count(mark) for mark in ".?।")
    assert sum(answer.translated_text.count(mark) for mark in ".?।") == ends
    if "25" in text:
        assert "25" in answer.translated_text


@pytest.mark.parametrize(
    ("text", "detected"),
    [("मेरा नाम राहुल है और मैं दिल्ली में रहता हूँ", "hi-IN"), ("வணக்கம், எப்படி இருக்கிறீர்கள்?", "ta-IN")],
)
def test_auto_reports_the_detected_language(client, ported_base_url: str, platform, text, detected):
    sdk = client(ported_base_url, platform.make_tenant())
    answer = sdk.text.translate(
        input=text, source_language_code="auto", target_language_code="en-IN"
    )
    assert answer.source_language_code == detected
    assert dominant_script(answer.translated_text) == "Latn"


def test_identical_requests_translate_identically(client, ported_base_url: str, platform) -> None:
    sdk = client(ported_base_url, platform.make_tenant())
    asks = dict(input=SENTENCE, source_language_code="en-IN", target_language_code="mr-IN")
    first, second = sdk.text.translate(**asks), sdk.text.translate(**asks)
    assert first.translated_text == second.translated_text
    assert first.request_id != second.request_id


@pytest.mark.parametrize("side", ["legacy", "candidate"])
def test_mode_gender_output_script_and_numerals_change_the_output(
    client, platform, side: str, request
) -> None:
    sdk = client(_url(platform, side, request), platform.make_tenant())

    def hindi(text: str, **options: str) -> str:
        answer = sdk.text.translate(
            input=text, source_language_code="en-IN", target_language_code="hi-IN", **options
        )
        return unicodedata.normalize("NFC", answer.translated_text)

    assert hindi("Thank you.") == "धन्यवाद।"
    assert hindi("Thank you.", mode="classic-colloquial") == "शुक्रिया।"
    assert hindi("My phone.", mode="code-mixed") == "मेरा phone।"
    native = hindi("My phone.", mode="code-mixed", output_script="fully-native")
    assert native == unicodedata.normalize("NFC", "मेरा फ़ोन।")
    assert hindi("I am going.", speaker_gender="Female") == "मैं जा रही हूँ।"
    assert hindi("I am going.", speaker_gender="Male") == "मैं जा रहा हूँ।"
    assert hindi("My name is Rahul.", output_script="roman") == "mera nam hai rahul."
    assert hindi("I have 25 books.", numerals_format="native").count("२५") == 1
    spoken = hindi("I have 25 books.", output_script="spoken-form-in-native")
    assert unicodedata.normalize("NFC", "ट्वेन्टी फ़ाइव") in spoken
    assert "25" not in spoken


@pytest.mark.parametrize("side", ["legacy", "candidate"])
def test_long_input_is_chunked_to_the_models_context(client, platform, side: str, request) -> None:
    """1,900 characters: four times the model's 500-character context, so the platform splits
    it at sentence ends and every sentence comes back, in order."""
    sentences = [f"Sentence {n} is good." for n in range(100)]
    text = " ".join(sentences)[:1900].rsplit(" ", 1)[0]
    sdk = client(_url(platform, side, request), platform.make_tenant())
    answer = sdk.text.translate(
        input=text, source_language_code="en-IN", target_language_code="hi-IN",
        model="sarvam-translate:v1",
    )  # fmt: skip
    assert dominant_script(answer.translated_text) == "Deva"
    numbers = [int(n) for n in answer.translated_text.split() if n.isdigit()]
    assert numbers == sorted(numbers)
    assert numbers[:3] == [0, 1, 2]
    assert len(numbers) == text.count("Sentence")


def test_each_model_has_its_limits(client, ported_base_url: str, platform) -> None:
    sdk = client(ported_base_url, platform.make_tenant())
    with pytest.raises(sarvamai.BadRequestError) as too_long:
        sdk.text.translate(
            input="a" * 1001, source_language_code="en-IN", target_language_code="hi-IN"
        )
    assert "mayura:v1 takes at most 1000" in too_long.value.body["error"]["message"]
    long_ok = sdk.text.translate(
        input="a " * 700, source_language_code="en-IN", target_language_code="hi-IN",
        model="sarvam-translate:v1",
    )  # fmt: skip
    assert long_ok.translated_text
    with pytest.raises(sarvamai.UnprocessableEntityError) as over_any:
        sdk.text.translate(
            input="a" * 2001, source_language_code="en-IN", target_language_code="hi-IN",
            model="sarvam-translate:v1",
        )  # fmt: skip
    assert "input" in over_any.value.body["error"]["message"]
    with pytest.raises(sarvamai.BadRequestError) as new_language:
        sdk.text.translate(
            input="hello", source_language_code="en-IN", target_language_code="ur-IN"
        )
    assert "use sarvam-translate:v1" in new_language.value.body["error"]["message"]
    urdu = sdk.text.translate(
        input="Hello, how are you?", source_language_code="en-IN",
        target_language_code="ur-IN", model="sarvam-translate:v1",
    )  # fmt: skip
    assert dominant_script(urdu.translated_text) == "Arab"
    with pytest.raises(sarvamai.BadRequestError) as informal:
        sdk.text.translate(
            input="hello", source_language_code="en-IN", target_language_code="hi-IN",
            model="sarvam-translate:v1", mode="code-mixed",
        )  # fmt: skip
    assert "formal mode only" in informal.value.body["error"]["message"]
    with pytest.raises(sarvamai.BadRequestError) as script:
        sdk.text.translate(
            input="hello", source_language_code="en-IN", target_language_code="hi-IN",
            model="sarvam-translate:v1", output_script="roman",
        )  # fmt: skip
    assert "mayura:v1 only" in script.value.body["error"]["message"]
    with pytest.raises(sarvamai.UnprocessableEntityError) as bad_mode:
        sdk.text.translate(
            input="hello", source_language_code="en-IN", target_language_code="hi-IN",
            mode="casual",
        )  # fmt: skip
    assert "body.mode" in bad_mode.value.body["error"]["message"]


@pytest.mark.parametrize("side", ["legacy", "candidate"])
def test_translation_is_billed_by_characters(client, platform, side: str, request) -> None:
    sdk = client(_url(platform, side, request), platform.make_tenant())
    before = len(platform.ledger_rows("translate"))
    sdk.text.translate(input=SENTENCE, source_language_code="auto", target_language_code="hi-IN")
    assert platform.ledger_rows("translate")[before:] == [
        ("characters", Decimal(len(SENTENCE)).quantize(Decimal("0.0001")))
    ]


def test_bad_key_and_empty_wallet(client, ported_base_url: str, platform) -> None:
    asks = dict(input="hello", source_language_code="en-IN", target_language_code="hi-IN")
    with pytest.raises(sarvamai.ForbiddenError) as bad_key:
        client(ported_base_url, "sk_not_a_key").text.translate(**asks)
    assert bad_key.value.body["error"]["code"] == "invalid_api_key_error"
    with pytest.raises(ApiError) as broke:
        client(ported_base_url, platform.make_tenant(credits="0")).text.translate(**asks)
    assert broke.value.status_code == 402
    assert broke.value.body["error"]["code"] == "insufficient_quota_error"

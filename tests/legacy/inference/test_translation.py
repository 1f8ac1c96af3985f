"""The translation simulator: target script, lexicon, modes, gender, numbers, punctuation."""

from __future__ import annotations

import pytest

from legacy.inference.translation import TranslationRequest, translate
from legacy.text.scripts import LANGUAGES, SCRIPT_OF_LANGUAGE, dominant_script


def _hindi(text: str, **options: str) -> str:
    return translate(TranslationRequest(text, "en-IN", "hi-IN", **options))  # type: ignore[arg-type]


@pytest.mark.parametrize("target", [code for code in LANGUAGES if code != "en-IN"])
def test_every_language_is_written_in_its_own_script(target: str) -> None:
    text = "Hello, how are you? My name is Rahul and my phone number is 98765."
    out = translate(TranslationRequest(text, "en-IN", target))
    assert dominant_script(out) == SCRIPT_OF_LANGUAGE[target]
    assert "98765" in out
    assert out.count("?") + out.count("؟") == 1
    assert 0.5 * len(text) <= len(out) <= 2 * len(text)


def test_lexicon_phrases_win_over_their_words_and_unknown_words_are_spelled() -> None:
    assert _hindi("Thank you") == "धन्यवाद"  # the phrase, not "thank" + "you"
    assert _hindi("you") == "आप"
    assert _hindi("Delhi") == "डेल्हि"  # not in the lexicon: written as it sounds


def test_into_english_capitalises_sentences_and_romanises_the_rest() -> None:
    out = translate(TranslationRequest("नमस्ते। मेरा नाम राहुल है।", "hi-IN", "en-IN"))
    assert out == "Hello. My name rahul is."


def test_indian_languages_translate_between_each_other() -> None:
    out = translate(TranslationRequest("আমার নাম রাহুল।", "bn-IN", "hi-IN"))
    assert out == "मेरा नाम राहुल।"
    # Tamil drops the copula Hindi says.
    assert translate(TranslationRequest("मेरा नाम है", "hi-IN", "ta-IN")) == "என் பெயர்"


def test_modes_change_the_words_deterministically() -> None:
    text = "Thank you, my friend. My phone."
    assert _hindi(text) == "धन्यवाद, मेरा मित्र। मेरा दूरभाष।"
    assert _hindi(text, mode="classic-colloquial") == "शुक्रिया, मेरा दोस्त। मेरा फ़ोन।"
    assert _hindi(text, mode="modern-colloquial") == "थैंक यू, मेरा दोस्त। मेरा फ़ोन।"
    assert _hindi(text, mode="code-mixed") == "शुक्रिया, मेरा friend। मेरा phone।"


def test_speaker_gender_picks_the_first_person_form() -> None:
    assert _hindi("I am tired.", speaker_gender="Male") == "मैं थका हुआ हूँ।"
    assert _hindi("I am tired.", speaker_gender="Female") == "मैं थकी हुई हूँ।"
    # Languages whose verb does not change keep one form.
    bengali = [
        translate(TranslationRequest("I am tired.", "en-IN", "bn-IN", speaker_gender=g))
        for g in ("Male", "Female")
    ]
    assert bengali[0] == bengali[1] == "আমি ক্লান্ত।"


def test_numbers_and_layout_survive() -> None:
    out = _hindi("Line one: 3.5 and ४२.\n\nLine two, 1,000!")
    assert all(number in out for number in ("3.5", "42", "1,000"))
    assert out.count("\n") == 2
    assert out.endswith("!")


def test_same_language_is_returned_unchanged_and_output_is_deterministic() -> None:
    assert translate(TranslationRequest("कुछ भी", "hi-IN", "hi-IN")) == "कुछ भी"
    request = TranslationRequest("Good morning, India!", "en-IN", "kn-IN")
    assert translate(request) == translate(request) == "ಶುಭೋದಯ, ಭಾರತ!"

"""output_script and numerals_format on a translation."""

from __future__ import annotations

import unicodedata

from legacy.text.output_script import native_digits, write_in
from legacy.text.tokens import tokenize


def test_roman_writes_every_word_in_latin_and_plain_full_stops() -> None:
    assert write_in("मेरा नाम राहुल है। 5", "hi-IN", "roman") == "mera nam rahul hai. 5"


def test_fully_native_respells_latin_words() -> None:
    out = write_in("मेरा phone", "hi-IN", "fully-native")
    assert out == unicodedata.normalize("NFC", "मेरा फ़ोन")


def test_spoken_form_in_native_says_the_numbers() -> None:
    assert write_in("कमरा 12", "hi-IN", "spoken-form-in-native") == "कमरा ट्वेल्व"


def test_native_numerals_use_the_scripts_digits() -> None:
    assert write_in("12 பேர்", "ta-IN", None, "native") == "௧௨ பேர்"
    assert native_digits("12", "en-IN") == "12"


def test_tokens_give_the_text_back_and_keep_danda_and_marks_apart() -> None:
    text = "नमस्ते, दुनिया। २०२४ don't\n"
    tokens = tokenize(text)
    assert "".join(t.text for t in tokens) == text
    assert [t.kind for t in tokens][:5] == ["word", "other", "space", "word", "other"]
    assert ("number", "२०२४") in [(t.kind, t.text) for t in tokens]
    assert ("word", "don't") in [(t.kind, t.text) for t in tokens]

"""Writing words in other scripts: Indian scripts to each other, English by sound."""

from __future__ import annotations

import unicodedata

import pytest

from legacy.text.spelling import convert_word, romanize, spell_english


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@pytest.mark.parametrize(
    ("word", "language", "expected"),
    [
        ("phone", "hi-IN", "फ़ोन"), ("time", "hi-IN", "टाइम"), ("twenty", "hi-IN", "ट्वेन्टी"),
        ("computer", "hi-IN", "कोम्पुटर"), ("light", "hi-IN", "लाइट"), ("my", "hi-IN", "माइ"),
        ("phone", "ta-IN", "போந்"), ("phone", "te-IN", "ఫోన్"), ("hello", "bn-IN", "হেলো"),
        ("hello", "en-IN", "hello"),
    ],
)  # fmt: skip
def test_english_words_are_spelled_as_they_sound(word: str, language: str, expected: str) -> None:
    assert spell_english(word, language) == nfc(expected)


def test_indo_aryan_scripts_drop_the_final_virama_dravidian_keep_it() -> None:
    assert not spell_english("world", "hi-IN").endswith("\u094d")
    assert spell_english("world", "kn-IN").endswith("\u0ccd")


def test_urdu_is_written_without_short_vowel_marks() -> None:
    assert not any("\u064b" <= c <= "\u0652" for c in spell_english("hello", "ur-IN"))


def test_romanize_drops_the_final_inherent_vowel_and_nuktas() -> None:
    assert [romanize(w, "Deva") for w in ("घर", "नमस्ते", "लड़का")] == ["ghar", "namaste", "ladaka"]


def test_convert_word_maps_scripts_and_leaves_unreadable_ones() -> None:
    assert convert_word("नमस्ते", "Deva", "ta-IN") == "நமஸ்தே"
    assert convert_word("বাড়ি", "Beng", "hi-IN") == "बाडि"
    assert convert_word("صحت", "Arab", "hi-IN") == "صحت"
    assert convert_word("नमस्ते", "Deva", "mr-IN") == "नमस्ते"

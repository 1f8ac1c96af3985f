"""Numbers as words, Indian style (lakh, crore), in English and in the languages' own words."""

from __future__ import annotations

import pytest

from legacy.text.number_words import NumberWordsUnavailable, english_number, spoken_numbers


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (0, "zero"), (15, "fifteen"), (40, "forty"), (99, "ninety nine"),
        (105, "one hundred five"), (2024, "two thousand twenty four"),
        (150000, "one lakh fifty thousand"),
        (12345678, "one crore twenty three lakh forty five thousand six hundred seventy eight"),
        (1000000000, "one hundred crore"),
    ],
)  # fmt: skip
def test_english_number_words(number: int, words: str) -> None:
    assert english_number(number) == words


def test_native_hindi_and_bengali_words() -> None:
    assert spoken_numbers("2024 और 12,34,567", "hi-IN", "native") == (
        "दो हज़ार चौबीस और बारह लाख चौंतीस हज़ार पाँच सौ सड़सठ"
    )
    assert spoken_numbers("3.25", "hi-IN", "native") == "तीन दशमलव दो पाँच"
    assert spoken_numbers("আমার 79 টাকা", "bn-IN", "native") == "আমার উনআশি টাকা"


def test_english_words_in_the_target_script() -> None:
    assert spoken_numbers("मेरे पास 25 हैं", "hi-IN", "english") == "मेरे पास ट्वेन्टी फ़ाइव हैं"


def test_numbers_inside_words_are_left_alone() -> None:
    assert spoken_numbers("room 42b", "hi-IN", "english") == "room 42b"


def test_native_words_elsewhere_are_refused_with_the_languages_that_have_them() -> None:
    with pytest.raises(NumberWordsUnavailable, match="bn-IN, hi-IN; use 'english'"):
        spoken_numbers("5", "ta-IN", "native")

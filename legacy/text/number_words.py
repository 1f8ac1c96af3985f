"""Numbers written as words, the way they are said in India (lakh and crore, not million).

``spoken_numbers`` rewrites every number in a text: in English words written in the target
script ("२०२४" → "टू थाउज़ंड ट्वेन्टी फ़ोर"), or in the target language's own words ("दो
हज़ार चौबीस"). Own words exist for Hindi (the table below: Hindi's 1-99 are irregular, so they
are listed, not composed) and Bengali (num2words, checked against the same cases). num2words
also has Kannada and Telugu, but wrong ("ಒಂದು ಒಂದು ಲಕ್ಷ" for 1,00,000, "ఒకటి వంద" for 100),
and nothing for the other core languages, so native words there are refused
(:class:`NumberWordsUnavailable`) rather than guessed.

A decimal is read digit by digit after the point ("3.25" → "three point two five").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final, Literal

from num2words import num2words

from legacy.text.spelling import spell_english

__all__ = [
    "NATIVE_NUMBER_WORDS",
    "NumberWordsUnavailable",
    "NumeralsLanguage",
    "english_number",
    "spoken_numbers",
]

NumeralsLanguage = Literal["english", "native"]
NATIVE_NUMBER_WORDS: Final = ("bn-IN", "hi-IN")

_ONES: Final = (  # noqa: SIM905 (a sentence of words reads better than 20 quoted ones)
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS: Final = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()  # noqa: SIM905
_HINDI: Final = (  # noqa: SIM905
    "शून्य एक दो तीन चार पाँच छह सात आठ नौ दस ग्यारह बारह तेरह चौदह पंद्रह सोलह सत्रह अठारह "
    "उन्नीस बीस इक्कीस बाईस तेईस चौबीस पच्चीस छब्बीस सत्ताईस अट्ठाईस उनतीस तीस इकतीस बत्तीस "
    "तैंतीस चौंतीस पैंतीस छत्तीस सैंतीस अड़तीस उनतालीस चालीस इकतालीस बयालीस तैंतालीस चवालीस "
    "पैंतालीस छियालीस सैंतालीस अड़तालीस उनचास पचास इक्यावन बावन तिरेपन चौवन पचपन छप्पन सत्तावन "
    "अट्ठावन उनसठ साठ इकसठ बासठ तिरेसठ चौंसठ पैंसठ छियासठ सड़सठ अड़सठ उनहत्तर सत्तर इकहत्तर "
    "बहत्तर तिहत्तर चौहत्तर पचहत्तर छिहत्तर सतहत्तर अठहत्तर उन्यासी अस्सी इक्यासी बयासी तिरासी "
    "चौरासी पचासी छियासी सत्तासी अट्ठासी नवासी नब्बे इक्यानवे बानवे तिरानवे चौरानवे पचानवे "
    "छियानवे सत्तानवे अट्ठानवे निन्यानवे"
).split()
_HINDI_SCALE: Final = {"hundred": "सौ", "thousand": "हज़ार", "lakh": "लाख", "crore": "करोड़"}
_POINT: Final = {"en-IN": "point", "hi-IN": "दशमलव", "bn-IN": "দশমিক"}
_NUMBER: Final = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{2,3})+|\d+)(?:\.(\d+))?(?![\w])")
assert len(_HINDI) == 100


class NumberWordsUnavailable(ValueError):
    """No correct number words in that language; the message says which languages have them."""


def _indian(number: int, below_hundred: Callable[[int], str], scale: dict[str, str]) -> str:
    """``number`` in the Indian system: crore, lakh, thousand, hundred, then the rest."""
    if number < 100:
        return below_hundred(number)
    parts: list[str] = []
    for size, name in ((10_000_000, "crore"), (100_000, "lakh"), (1000, "thousand"), (100, "hundred")):  # fmt: skip  # noqa: E501
        count, number = divmod(number, size)
        if count:
            parts.append(f"{_indian(count, below_hundred, scale)} {scale[name]}")
    if number:
        parts.append(below_hundred(number))
    return " ".join(parts)


def _english_below_hundred(number: int) -> str:
    if number < 20:
        return _ONES[number]
    tens, ones = divmod(number, 10)
    return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")


def english_number(number: int) -> str:
    """2024 → "two thousand twenty four"; 150000 → "one lakh fifty thousand"."""
    return _indian(number, _english_below_hundred, {k: k for k in _HINDI_SCALE})


def _native_number(number: int, language: str) -> str:
    if language == "hi-IN":
        return _indian(number, _HINDI.__getitem__, _HINDI_SCALE)
    return str(num2words(number, lang="bn"))


def _say(match: re.Match[str], language: str, numerals: NumeralsLanguage) -> str:
    whole = int(match.group(1).replace(",", ""))
    decimals = match.group(2) or ""
    if numerals == "native":
        words = [_native_number(whole, language)]
        words += [_POINT[language], *(_native_number(int(d), language) for d in decimals)]
        return " ".join(words[:1] if not decimals else words)
    english = english_number(whole).split()
    if decimals:
        english += ["point", *(_ONES[int(d)] for d in decimals)]
    return " ".join(spell_english(word, language) for word in english)


def spoken_numbers(text: str, language: str, numerals: NumeralsLanguage) -> str:
    """``text`` with every number (0-9 digits; 1,234 and 12,34,567 grouping; decimals) said in
    words in ``language``'s script. Raises NumberWordsUnavailable for native words in a
    language that has none here."""
    if numerals == "native" and language not in NATIVE_NUMBER_WORDS and language != "en-IN":
        raise NumberWordsUnavailable(
            f"spoken_form_numerals_language 'native' is available for "
            f"{', '.join(NATIVE_NUMBER_WORDS)}; use 'english' for {language}"
        )
    if numerals == "native" and language == "en-IN":
        numerals = "english"
    return _NUMBER.sub(lambda m: _say(m, language, numerals), text)

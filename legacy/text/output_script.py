"""How a translation is written: ``output_script`` and ``numerals_format`` (sdk-contract §1.6).

* ``None`` — as the model wrote it (code-mixed text keeps its English words in Latin).
* ``roman`` — every word in plain lower-case Latin ("mera naam rahul hai"); sentence ends
  become ".".
* ``fully-native`` — every word in the target script: Latin words are respelled by sound.
* ``spoken-form-in-native`` — fully native, and numbers written out as they are said (English
  number words in the target script, as Indian speakers say numbers).

``numerals_format`` ``native`` then writes the remaining digits in the target script's own
digits; ``international`` (default) leaves 0-9. Roman output has no native digits.
"""

from __future__ import annotations

from typing import Final, Literal

from legacy.text.number_words import spoken_numbers
from legacy.text.scripts import SCRIPT_OF_LANGUAGE, dominant_script
from legacy.text.spelling import romanize, spell_english
from legacy.text.tokens import tokenize

__all__ = ["OutputScript", "native_digits", "write_in"]

OutputScript = Literal["roman", "fully-native", "spoken-form-in-native"]

_ZERO_OF_SCRIPT: Final[dict[str, int]] = {
    "Deva": 0x0966, "Beng": 0x09E6, "Guru": 0x0A66, "Gujr": 0x0AE6, "Orya": 0x0B66,
    "Taml": 0x0BE6, "Telu": 0x0C66, "Knda": 0x0CE6, "Mlym": 0x0D66,
}  # fmt: skip
_ROMAN_STOPS: Final = {"।": ".", "॥": "."}


def native_digits(text: str, language: str) -> str:
    """0-9 written in ``language``'s script's digits (unchanged where it has none here)."""
    zero = _ZERO_OF_SCRIPT.get(SCRIPT_OF_LANGUAGE[language])
    if zero is None:
        return text
    return text.translate({ord("0") + d: chr(zero + d) for d in range(10)})


def _roman(text: str) -> str:
    parts = []
    for token in tokenize(text):
        if token.kind == "word":
            script = dominant_script(token.text)
            parts.append(romanize(token.text, script) if script else token.text)
        else:
            parts.append(_ROMAN_STOPS.get(token.text, token.text))
    return "".join(parts)


def _native(text: str, language: str) -> str:
    return "".join(
        spell_english(t.text, language) if t.kind == "word" and dominant_script(t.text) == "Latn"
        else t.text
        for t in tokenize(text)
    )  # fmt: skip


def write_in(
    text: str, language: str, output_script: OutputScript | None, numerals: str = "international"
) -> str:
    """``text`` (in ``language``) written as asked."""
    if output_script == "roman":
        return _roman(text)
    if output_script in ("fully-native", "spoken-form-in-native"):
        text = _native(text, language)
    if output_script == "spoken-form-in-native":
        text = spoken_numbers(text, language, "english")
    return native_digits(text, language) if numerals == "native" else text

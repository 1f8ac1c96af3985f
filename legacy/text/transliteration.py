"""Transliteration between the core languages' scripts, by the indic-transliteration library.

Native scripts map to each other through the library's Brahmic tables; en-IN is romanised with
ITRANS, lower-cased into the plain Latin spelling people type ("नमस्ते दुनिया" → "namaste
duniya"), and roman input is read as ITRANS. Numerals follow ``numerals_format``: international
(0-9, the default) or the target script's own digits.
"""

from __future__ import annotations

from typing import Final, Literal

from indic_transliteration import sanscript

from legacy.text.scripts import SCRIPT_OF_LANGUAGE, dominant_script

__all__ = ["NumeralsFormat", "TransliterationError", "transliterate"]

NumeralsFormat = Literal["international", "native"]

_SCHEME_OF_SCRIPT: Final[dict[str, str]] = {
    "Deva": sanscript.DEVANAGARI, "Beng": sanscript.BENGALI, "Guru": sanscript.GURMUKHI,
    "Gujr": sanscript.GUJARATI, "Orya": sanscript.ORIYA, "Taml": sanscript.TAMIL,
    "Telu": sanscript.TELUGU, "Knda": sanscript.KANNADA, "Mlym": sanscript.MALAYALAM,
    "Latn": sanscript.ITRANS,
}  # fmt: skip
_ZERO_OF_SCRIPT: Final[dict[str, int]] = {
    "Deva": 0x0966, "Beng": 0x09E6, "Guru": 0x0A66, "Gujr": 0x0AE6, "Orya": 0x0B66,
    "Taml": 0x0BE6, "Telu": 0x0C66, "Knda": 0x0CE6, "Mlym": 0x0D66,
}  # fmt: skip
_TO_ASCII_DIGITS: Final = {zero + d: str(d) for zero in _ZERO_OF_SCRIPT.values() for d in range(10)}


class TransliterationError(ValueError):
    """The input cannot be transliterated as asked; the message says why."""


def transliterate(
    text: str, source: str, target: str, numerals: NumeralsFormat = "international"
) -> tuple[str, str]:
    """Return (transliterated text, the source language used — detected when ``auto``)."""
    if source == "auto":
        script = dominant_script(text)
        if script not in _SCHEME_OF_SCRIPT:
            raise TransliterationError(
                "could not tell the input's script; pass source_language_code"
            )
        source = next(code for code, s in SCRIPT_OF_LANGUAGE.items() if s == script)
    source_script, target_script = SCRIPT_OF_LANGUAGE[source], SCRIPT_OF_LANGUAGE[target]
    converted = sanscript.transliterate(
        text, _SCHEME_OF_SCRIPT[source_script], _SCHEME_OF_SCRIPT[target_script]
    )
    if target_script == "Latn":
        converted = converted.lower()
    converted = converted.translate(_TO_ASCII_DIGITS)
    if numerals == "native" and target_script in _ZERO_OF_SCRIPT:
        zero = _ZERO_OF_SCRIPT[target_script]
        converted = converted.translate({ord("0") + d: chr(zero + d) for d in range(10)})
    return converted, source

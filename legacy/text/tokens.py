"""Cutting text into words, numbers, spaces and the rest, in any script the platform writes.

Regex ``\\w`` does not count combining marks (Indian vowel signs and viramas, Arabic
harakat), so a word here is letters *and* the marks of the platform's scripts, with the
zero-width joiners; the danda and Indian digits are not letters. Joining the tokens' text gives
the input back exactly.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final, Literal

__all__ = ["ASCII_DIGITS", "Token", "tokenize"]

TokenKind = Literal["number", "word", "space", "other"]
_ZEROS: Final = (0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66)
# Indian digits → 0-9, for str.translate.
ASCII_DIGITS: Final = {zero + digit: str(digit) for zero in _ZEROS for digit in range(10)}


@dataclass(frozen=True, slots=True)
class Token:
    kind: TokenKind
    text: str


def _mark_class() -> str:
    """Combining marks of the scripts we write (vowel signs, viramas, nuktas, harakat) and the
    zero-width joiners: part of a word, though regex ``\\w`` does not count them."""
    blocks = ((0x0300, 0x036F), (0x0600, 0x06FF), (0x0900, 0x0DFF), (0x1C50, 0x1C7F),
              (0xA8E0, 0xA8FF), (0xABC0, 0xABFF))  # fmt: skip
    marks = [
        chr(point) for low, high in blocks for point in range(low, high + 1)
        if unicodedata.category(chr(point)).startswith("M")
    ]  # fmt: skip
    return re.escape("".join(marks)) + "\u200c\u200d"


_DIGITS: Final = "0-9" + "".join(f"{chr(zero)}-{chr(zero + 9)}" for zero in _ZEROS)
_TOKEN: Final = re.compile(
    rf"(?P<number>[{_DIGITS}]+(?:[.,:][{_DIGITS}]+)*)"
    rf"|(?P<word>(?:[^\W\d_]|[{_mark_class()}])+(?:'[^\W\d_]+)?)"
    r"|(?P<space>\s+)"
    r"|(?P<other>.)",
    re.DOTALL,
)


def tokenize(text: str) -> list[Token]:
    return [Token(m.lastgroup, m.group()) for m in _TOKEN.finditer(text)]  # type: ignore[arg-type]

"""Which script a text is written in, from the Unicode blocks of its letters (exact).

Also the platform's language codes, and which script each core language writes in: the one
table that language identification and transliteration share.
"""

from __future__ import annotations

from collections import Counter
from typing import Final, Literal

__all__ = [
    "CORE_LANGUAGES",
    "LANGUAGES",
    "SCRIPT_OF_LANGUAGE",
    "CoreLanguage",
    "Language",
    "dominant_script",
]

CoreLanguage = Literal[
    "bn-IN",
    "en-IN",
    "gu-IN",
    "hi-IN",
    "kn-IN",
    "ml-IN",
    "mr-IN",
    "od-IN",
    "pa-IN",
    "ta-IN",
    "te-IN",
]
CORE_LANGUAGES: Final[tuple[CoreLanguage, ...]] = (
    "bn-IN", "en-IN", "gu-IN", "hi-IN", "kn-IN", "ml-IN",
    "mr-IN", "od-IN", "pa-IN", "ta-IN", "te-IN",
)  # fmt: skip

# The 22 scheduled languages and English (sdk-contract §1.6): the core 11, then the 12 that
# only some models (sarvam-translate:v1) take.
Language = Literal[
    CoreLanguage,
    "as-IN", "brx-IN", "doi-IN", "kok-IN", "ks-IN", "mai-IN",
    "mni-IN", "ne-IN", "sa-IN", "sat-IN", "sd-IN", "ur-IN",
]  # fmt: skip
LANGUAGES: Final[tuple[Language, ...]] = (
    *CORE_LANGUAGES, "as-IN", "brx-IN", "doi-IN", "kok-IN", "ks-IN", "mai-IN",
    "mni-IN", "ne-IN", "sa-IN", "sat-IN", "sd-IN", "ur-IN",
)  # fmt: skip

# ISO 15924 codes, as the API reports them. Where languages share a script, the first listed
# is the one a script alone stands for (Devanagari → hi-IN, Bengali → bn-IN, Arabic → ur-IN).
# Manipuri is written in Meetei Mayek and Santali in Ol Chiki, their official scripts.
SCRIPT_OF_LANGUAGE: Final[dict[str, str]] = {
    "hi-IN": "Deva", "mr-IN": "Deva", "bn-IN": "Beng", "pa-IN": "Guru", "gu-IN": "Gujr",
    "od-IN": "Orya", "ta-IN": "Taml", "te-IN": "Telu", "kn-IN": "Knda", "ml-IN": "Mlym",
    "en-IN": "Latn", "ur-IN": "Arab", "as-IN": "Beng", "brx-IN": "Deva", "doi-IN": "Deva",
    "kok-IN": "Deva", "ks-IN": "Arab", "mai-IN": "Deva", "mni-IN": "Mtei", "ne-IN": "Deva",
    "sa-IN": "Deva", "sat-IN": "Olck", "sd-IN": "Arab",
}  # fmt: skip

_BLOCKS: Final[tuple[tuple[int, int, str], ...]] = (
    (0x0041, 0x005A, "Latn"), (0x0061, 0x007A, "Latn"), (0x00C0, 0x024F, "Latn"),
    (0x0600, 0x06FF, "Arab"), (0x0900, 0x097F, "Deva"), (0x0980, 0x09FF, "Beng"),
    (0x0A00, 0x0A7F, "Guru"), (0x0A80, 0x0AFF, "Gujr"), (0x0B00, 0x0B7F, "Orya"),
    (0x0B80, 0x0BFF, "Taml"), (0x0C00, 0x0C7F, "Telu"), (0x0C80, 0x0CFF, "Knda"),
    (0x0D00, 0x0D7F, "Mlym"), (0x1C50, 0x1C7F, "Olck"), (0xA8E0, 0xA8FF, "Deva"),
    (0xABC0, 0xABFF, "Mtei"),
)  # fmt: skip


def _script_of(char: str) -> str | None:
    point = ord(char)
    for low, high, script in _BLOCKS:
        if low <= point <= high:
            return script
    return None


def dominant_script(text: str) -> str | None:
    """The script most letters are in; None when no letter is in a known script.

    Digits, punctuation and combining-free symbols do not vote; a tie goes to the script that
    appears first, so the answer is deterministic."""
    counts: Counter[str] = Counter()
    first_seen: dict[str, int] = {}
    for index, char in enumerate(text):
        if not char.isalpha() and not ("\u0900" <= char <= "\u0d7f"):
            continue
        script = _script_of(char)
        if script is not None:
            counts[script] += 1
            first_seen.setdefault(script, index)
    if not counts:
        return None
    return max(counts, key=lambda s: (counts[s], -first_seen[s]))

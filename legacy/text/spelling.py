"""Writing a word in another language's script: Indian scripts to each other, and English words
as Indian speakers say them.

The indic-transliteration library does the script-to-script mapping. English spelling is not
phonetic, so an English word is first respelled as it sounds (a handful of ordered rules: magic
e, ``c`` before e/i/y, t/d heard as retroflex, …) into ITRANS, and ITRANS is then written in the
target script: "computer" → "कोम्प्यूटर", "phone" → "फ़ोन". Good enough for loanwords, names and
number words, which is all it is used for; it is not a general grapheme-to-phoneme model.

Indo-Aryan scripts drop the final virama ("फ़ोन", not "फ़ोन्"), as those languages drop the final
schwa; Arabic-script output is written without short-vowel marks, as Urdu is.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from indic_transliteration import sanscript

from legacy.text.scripts import SCRIPT_OF_LANGUAGE

__all__ = ["SCHEME_OF_LANGUAGE", "convert_word", "romanize", "spell_english"]

SCHEME_OF_LANGUAGE: Final[dict[str, str]] = {
    "hi-IN": sanscript.DEVANAGARI, "mr-IN": sanscript.DEVANAGARI, "bn-IN": sanscript.BENGALI,
    "pa-IN": sanscript.GURMUKHI, "gu-IN": sanscript.GUJARATI, "od-IN": sanscript.ORIYA,
    "ta-IN": sanscript.TAMIL, "te-IN": sanscript.TELUGU, "kn-IN": sanscript.KANNADA,
    "ml-IN": sanscript.MALAYALAM, "en-IN": sanscript.ITRANS, "as-IN": "assamese",
    "brx-IN": sanscript.DEVANAGARI, "doi-IN": sanscript.DEVANAGARI,
    "kok-IN": sanscript.DEVANAGARI, "ks-IN": "urdu", "mai-IN": sanscript.DEVANAGARI,
    "mni-IN": "manipuri", "ne-IN": sanscript.DEVANAGARI, "sa-IN": sanscript.DEVANAGARI,
    "sat-IN": "ol_chiki", "sd-IN": "urdu", "ur-IN": "urdu",
}  # fmt: skip
# The scheme a word in a script is read with (the script's first language's scheme).
_SCHEME_OF_SCRIPT: Final[dict[str, str]] = {
    SCRIPT_OF_LANGUAGE[code]: scheme for code, scheme in reversed(SCHEME_OF_LANGUAGE.items())
}
_DROPS_FINAL_VIRAMA: Final = frozenset({"Deva", "Beng", "Guru", "Gujr", "Orya"})
_HAS_NUKTA_LETTERS: Final = frozenset({"Deva", "Guru"})  # फ़ ज़: elsewhere f→ph, z→j
_VIRAMAS: Final = frozenset("\u094d\u09cd\u0a4d\u0acd\u0b4d")
_ARABIC_VOWEL_MARKS: Final = re.compile("[\u064b-\u0652\u0670]")
# Nukta letters (ड़, ফ়) have no counterpart in most scripts: read them as the plain letter.
_NUKTAS: Final = re.compile("[\u093c\u09bc\u0a3c\u0abc\u0b3c]")

_V = "aeiou"
# Ordered: each rule sees the output of the ones before it. "\x01" holds "th" (dental) while
# t and d become retroflex.
_ENGLISH_RULES: Final[tuple[tuple[re.Pattern[str], str], ...]] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"[ts]ion\b", "shan"), (r"igh", "Ai"), (rf"^([^{_V}]+)y$", r"\1Ai"), (r"ph", "f"),
        (r"ck", "k"), (r"qu", "kv"), (r"q", "k"), (r"x", "ks"), (r"c(?=[eiy])", "s"),
        (r"c(?!h)", "k"), (r"([bdfghjklmnprstvwz])\1", r"\1"),
        (r"ee|ea", "I"), (r"oo", "U"), (r"ou|ow", "au"), (r"ai|ay", "e"), (r"oa", "o"),
        (rf"a([^{_V}])e\b", r"e\1"), (rf"i([^{_V}])e\b", r"Ai\1"), (rf"o([^{_V}])e\b", r"o\1"),
        (rf"u([^{_V}])e\b", r"yU\1"), (rf"(?<=[^{_V}])e\b", ""),
        (rf"(?<=[^{_V}])y\b", "I"), (rf"(?<=[^{_V}])y(?=[^{_V}])", "Ai"),
        (r"(?:er|or)\b", "ar"), (r"w", "v"),
        (r"th", "\x01"), (r"t", "T"), (r"d", "D"), (r"\x01", "th"),
    )
)  # fmt: skip


# Words whose sound the rules get wrong and that the platform writes often (number words,
# greetings), in ITRANS.
_IRREGULAR: Final[dict[str, str]] = {
    "zero": "zIro", "one": "van", "two": "TU", "three": "thrI", "four": "for", "five": "fAiv",
    "six": "siks", "seven": "sevan", "eight": "eT", "nine": "nAin", "ten": "Ten",
    "eleven": "ilevan", "twelve": "Tvelv", "thirteen": "tharTIn", "fourteen": "forTIn",
    "fifteen": "fifTIn", "sixteen": "siksTIn", "seventeen": "sevanTIn", "eighteen": "eTIn",
    "nineteen": "nAinTIn", "twenty": "TvenTI", "thirty": "tharTI", "forty": "forTI",
    "fifty": "fifTI", "sixty": "siksTI", "seventy": "sevanTI", "eighty": "eTI",
    "ninety": "nAinTI", "hundred": "haMDreD", "thousand": "thAuzaMD", "lakh": "lAkh",
    "crore": "karoD", "you": "yU", "thank": "thaiMk", "the": "da", "school": "skUl",
}  # fmt: skip


def _script(language: str) -> str:
    return SCRIPT_OF_LANGUAGE[language]


def _finish(word: str, script: str) -> str:
    if script in _DROPS_FINAL_VIRAMA and len(word) > 1 and word[-1] in _VIRAMAS:
        word = word[:-1]
    if script == "Arab":
        word = _ARABIC_VOWEL_MARKS.sub("", word)
    return unicodedata.normalize("NFC", word)  # one spelling of फ़ (फ + nukta), as typed


def spell_english(word: str, language: str) -> str:
    """``word`` (English, Latin letters) as it sounds, in ``language``'s script."""
    script = _script(language)
    if script == "Latn":
        return word
    sound = _IRREGULAR.get(word.lower(), "")
    if not sound:
        sound = word.lower()
        for pattern, replacement in _ENGLISH_RULES:
            sound = pattern.sub(replacement, sound)
    if script not in _HAS_NUKTA_LETTERS:
        sound = sound.replace("f", "ph").replace("z", "j")
    written = sanscript.transliterate(sound, sanscript.ITRANS, SCHEME_OF_LANGUAGE[language])
    return _finish(written, script)


def _plain(word: str) -> str:
    return _NUKTAS.sub("", unicodedata.normalize("NFD", word))


def romanize(word: str, script: str) -> str:
    """A word in an Indian script in plain lower-case Latin ("नमस्ते" → "namaste")."""
    scheme = _SCHEME_OF_SCRIPT.get(script)
    if scheme is None or script == "Latn":
        return word
    roman = str(sanscript.transliterate(_plain(word), scheme, sanscript.ITRANS)).lower()
    if script == "Beng":
        roman = roman.replace("v", "b")  # ব is "b" in Bengali; the library reads it as "v"
    # Indo-Aryan languages do not say a final inherent vowel: घर is "ghar", not "ghara".
    ends_bare = unicodedata.category(word[-1]) == "Lo" and len(word) > 1
    if script in _DROPS_FINAL_VIRAMA and ends_bare and roman.endswith("a"):
        roman = roman[:-1]
    return roman


def convert_word(word: str, script: str, language: str) -> str:
    """A word written in ``script`` rewritten in ``language``'s script: English is respelled
    by sound, Indian scripts are mapped letter by letter; a script the library cannot read
    (Arabic, Ol Chiki as a source) is left as it is."""
    target_script = _script(language)
    if script == "Latn":
        return spell_english(word, language)
    if target_script == "Latn":
        return romanize(word, script)
    if script == target_script:
        return word
    scheme = _SCHEME_OF_SCRIPT.get(script)
    if scheme is None or scheme in ("urdu", "ol_chiki"):
        return word
    if script == "Beng":  # through ITRANS, to read ব as "b"
        itrans = str(sanscript.transliterate(_plain(word), scheme, sanscript.ITRANS))
        word, scheme = itrans.replace("v", "b"), sanscript.ITRANS
    written = sanscript.transliterate(_plain(word), scheme, SCHEME_OF_LANGUAGE[language])
    return _finish(written, target_script)

"""The recognition simulator's vocabulary: common words, written in each language's script.

Two lists: everyday Hindustani words in ITRANS romanisation, and common English words. Every
language except English gets the first list rendered in its own script by the
indic-transliteration library (so a Tamil transcript is Tamil letters, an Urdu one Arabic
letters), and ``translit`` output is the same words in plain Latin. This is a simulator's
vocabulary, not a language model: the words are real and in the right script, the sentences
they make are not meaningful. Built once (``Lexicon.build()``), then read-only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from indic_transliteration import sanscript

__all__ = ["ASR_LANGUAGES", "Lexicon", "WordList", "syllables"]

# sdk-contract §1.6: the 23 languages of speech-to-text ("unknown" is not a language).
ASR_LANGUAGES: Final[tuple[str, ...]] = (
    "hi-IN", "bn-IN", "kn-IN", "ml-IN", "mr-IN", "od-IN", "pa-IN", "ta-IN", "te-IN", "en-IN",
    "gu-IN", "as-IN", "ur-IN", "ne-IN", "kok-IN", "ks-IN", "sd-IN", "sa-IN", "sat-IN",
    "mni-IN", "brx-IN", "mai-IN", "doi-IN",
)  # fmt: skip

# Script of each language, as an indic-transliteration scheme. Manipuri is written in Bengali
# script here (its most common script in recorded speech corpora); Kashmiri and Sindhi in
# Perso-Arabic, like Urdu; Santali in Ol Chiki.
_SCHEME_OF_LANGUAGE: Final[dict[str, str]] = {
    "hi-IN": sanscript.DEVANAGARI, "mr-IN": sanscript.DEVANAGARI, "ne-IN": sanscript.DEVANAGARI,
    "sa-IN": sanscript.DEVANAGARI, "kok-IN": sanscript.DEVANAGARI, "mai-IN": sanscript.DEVANAGARI,
    "doi-IN": sanscript.DEVANAGARI, "brx-IN": sanscript.DEVANAGARI, "bn-IN": sanscript.BENGALI,
    "as-IN": "assamese", "mni-IN": sanscript.BENGALI, "pa-IN": sanscript.GURMUKHI,
    "gu-IN": sanscript.GUJARATI, "od-IN": sanscript.ORIYA, "ta-IN": sanscript.TAMIL,
    "te-IN": sanscript.TELUGU, "kn-IN": sanscript.KANNADA, "ml-IN": sanscript.MALAYALAM,
    "ur-IN": "urdu", "ks-IN": "urdu", "sd-IN": "urdu", "sat-IN": "ol_chiki",
}  # fmt: skip

_HINDUSTANI: Final = """
aba Aja kala yahA vahA ghara pAnI khAnA dina rAta samaya loga kAma bAta dosta shahara
sarakAra bolI desha duniyA jIvana prashna uttara vidyAlaya pustaka bAjAra rAstA gADI
sundara achChA baDA ChoTA nayA purAnA jaldI dhIre hamesha kabhI sabhI kuCha bahuta thoDA
Age pIChe Upara nIche sAtha lekina kyoMki isaliye agara jaba taba phira karanA jAnA AnA
denA lenA dekhanA sunanA bolanA samajhanA paDhanA likhanA chalanA rahanA milanA sochanA
namaste dhanyavAda mAtA pitA bhAI bahana bachchA kisAna adhyApaka khushI pyAra mausama
bArisha sUraja chA.nda pahADa nadI samudra peDa phUla khela gAnA saphara parivAra
"""
_ENGLISH: Final = """
the and is to of in it you that was for on are with as at be this have from or one had by
word but not what all were we when your can said there use each which she do how their if
will up other about out many then them these so some her would make like him into time has
look two more write go see number no way could people my than first water been call who oil
now find long down day did get come made may part today morning evening station market
family friend weather question answer language country important beautiful tomorrow
yesterday together because government information everything remember understand
"""

_VOWELS = re.compile(r"[aeiouyAEIOU]+")
_ARABIC_MARKS = re.compile("[\u064b-\u0652\u0670]")  # harakat: plain Urdu spelling omits them


def syllables(roman: str) -> int:
    """A rough syllable count of a romanised word: its vowel groups, ignoring a final schwa
    (Hindustani "ghara" is spoken "ghar") and an English silent final e."""
    stripped = (
        roman[:-1] if len(roman) > 2 and roman[-1] in "ae" and roman[-2] not in "aeiou" else roman
    )
    return max(1, len(_VOWELS.findall(stripped)))


@dataclass(frozen=True, slots=True)
class WordList:
    """Words of one language, grouped by syllable count (1, 2, 3 or more), each as (written,
    roman)."""

    by_syllables: dict[int, tuple[tuple[str, str], ...]]

    def pick(self, syllable_count: int, choice: int) -> tuple[str, str]:
        """A word of about ``syllable_count`` syllables; ``choice`` (any int) selects which."""
        for distance in range(4):
            for count in (syllable_count - distance, syllable_count + distance):
                bucket = self.by_syllables.get(count)
                if bucket:
                    return bucket[choice % len(bucket)]
        raise LookupError("empty word list")


@dataclass(frozen=True, slots=True)
class Lexicon:
    words: dict[str, WordList]  # by language code; "en-IN" is the English list

    @classmethod
    def build(cls) -> Lexicon:
        english = [(w, w) for w in _ENGLISH.split()]
        hindustani = _HINDUSTANI.split()
        words = {"en-IN": _group(english, english)}
        for language, scheme in _SCHEME_OF_LANGUAGE.items():
            written = [_render(word, scheme) for word in hindustani]
            roman = [
                sanscript.transliterate(w, sanscript.ITRANS, sanscript.IAST) for w in hindustani
            ]
            words[language] = _group(
                list(zip(written, [_plain_latin(r) for r in roman], strict=True)),
                [(w, w) for w in hindustani],
            )
        return cls(words)


def _render(itrans: str, scheme: str) -> str:
    written = sanscript.transliterate(itrans, sanscript.ITRANS, scheme)
    return _ARABIC_MARKS.sub("", written) if scheme == "urdu" else written


def _plain_latin(iast: str) -> str:
    """IAST without diacritics, the way people type Hindustani in Latin: "ghara" → "ghar"."""
    plain = iast.lower().replace("ś", "sh").replace("ṣ", "sh")
    if len(plain) > 2 and plain.endswith("a") and plain[-2] not in "aāiīuūeo":
        plain = plain[:-1]  # the final schwa is not spoken: "ghara" is "ghar"
    return plain.translate(str.maketrans("āīūṛṝḷēōṅñṭḍṇṃḥ", "aiurrleonntdnmh"))


def _group(entries: list[tuple[str, str]], romans: list[tuple[str, str]]) -> WordList:
    grouped: dict[int, list[tuple[str, str]]] = {}
    for entry, (_, roman) in zip(entries, romans, strict=True):
        grouped.setdefault(min(3, syllables(roman)), []).append(entry)
    return WordList({count: tuple(bucket) for count, bucket in sorted(grouped.items())})

"""The translation model: a documented, deterministic simulator (no pip package ships a working
Indian-language MT model that runs here).

What it does, word by word, keeping the input's order, spacing and line breaks:

* Words and phrases of the curated lexicon (``translation_lexicon.py``, the core 11) are translated,
  longest phrase first ("thank you" before "you"). Languages outside it borrow the form of their
  nearest core relative written in their own script (Hindi for Devanagari and Arabic-script
  languages, Bengali for Assamese and Manipuri).
* Every other word is transliterated into the target script (``legacy.text.spelling``): an
  English word is respelled as it sounds, an Indian-script word is mapped letter by letter;
  into English, Indian-script words are romanized.
* Numbers are kept (Indian digits become 0-9; ``numerals_format`` is the caller's business);
  sentence punctuation is kept, written the target's way (। for Devanagari, Bengali, Gurmukhi
  and Odia, the Arabic full stop and ؟ for Arabic script, ᱾ for Ol Chiki, . elsewhere);
  English output starts each sentence with a capital.

``mode`` and ``speaker_gender`` change the output deterministically:

* ``formal`` (default) uses the lexicon's formal forms ("आप", "धन्यवाद").
* ``classic-colloquial`` uses the colloquial forms ("तुम", "शुक्रिया").
* ``modern-colloquial`` is colloquial, and says modern loanwords (phone, computer, school,
  thank you …) in English, written in the target script ("थैंक", "फ़ोन").
* ``code-mixed`` is colloquial, and keeps the lexicon's nouns in English, in Latin script
  ("मेरा phone").
* ``speaker_gender`` ``Female`` picks the feminine first-person forms ("मैं जा रही हूँ");
  ``Male`` (default) the masculine ones.

Identical input gives identical output; there is no sampling anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final, Literal

from legacy.inference.translation_lexicon import FEMININE, FORMS, LOANWORDS, NOUNS
from legacy.text.scripts import SCRIPT_OF_LANGUAGE, dominant_script
from legacy.text.spelling import convert_word, spell_english
from legacy.text.tokens import ASCII_DIGITS, Token, tokenize

__all__ = ["Gender", "Mode", "TranslationRequest", "translate"]

Mode = Literal["formal", "modern-colloquial", "classic-colloquial", "code-mixed"]
Gender = Literal["Male", "Female"]

_MAX_PHRASE_WORDS: Final = 4
_NEAREST_CORE: Final[dict[str, str]] = {"Deva": "hi-IN", "Arab": "hi-IN", "Beng": "bn-IN"}
# Sentence ends per script; Arabic script uses U+06D4 ARABIC FULL STOP.
_FULL_STOP: Final[dict[str, str]] = {
    "Deva": "।", "Beng": "।", "Guru": "।", "Orya": "।", "Arab": "\u06d4", "Olck": "᱾",
}  # fmt: skip
_SENTENCE_ENDS: Final = frozenset(".।॥\u06d4᱾")


@dataclass(frozen=True, slots=True)
class TranslationRequest:
    text: str
    source_language_code: str  # a concrete code: the caller resolves "auto"
    target_language_code: str
    mode: Mode = "formal"
    speaker_gender: Gender = "Male"


def _index() -> dict[str, dict[str, str]]:
    """language → any form of a concept (lower-case) → the concept's English key."""
    index: dict[str, dict[str, str]] = {"en-IN": {english: english for english in FORMS}}
    for english, per_language in FORMS.items():
        for language, forms in per_language.items():
            for form in forms:
                if form:
                    index.setdefault(language, {}).setdefault(form.lower(), english)
    for (english, language), form in FEMININE.items():
        index[language].setdefault(form.lower(), english)
    return index


_INDEX: Final = _index()


def translate(request: TranslationRequest) -> str:
    """The translation of ``request.text``; same request, same text."""
    if request.source_language_code == request.target_language_code:
        return request.text
    out = "".join(_render(request, tokenize(request.text)))
    out = re.sub(r"(?<=\S) {2,}", " ", out)  # a dropped word leaves no double space
    out = re.sub(" +(?=[,;:!?।\u06d4᱾.]|$)", "", out, flags=re.MULTILINE)
    if request.target_language_code == "en-IN":
        out = re.sub(r"(^|[.!?]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), out)
    return out


def _render(request: TranslationRequest, tokens: list[Token]) -> Iterator[str]:
    target = request.target_language_code
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.kind == "word":
            matched = _match(request.source_language_code, tokens, index)
            if matched is not None:
                english, consumed = matched
                yield _say(english, request)
                index += consumed
                continue
            yield _transliterate(token.text, target)
        elif token.kind == "number":
            yield token.text.translate(ASCII_DIGITS)
        elif token.kind == "other":
            yield _punctuation(token.text, target)
        else:
            yield token.text
        index += 1


def _match(source: str, tokens: list[Token], start: int) -> tuple[str, int] | None:
    """The longest lexicon phrase starting at ``tokens[start]``: (concept, tokens used)."""
    words: list[str] = []
    ends: list[int] = []
    position = start
    while position < len(tokens) and len(words) < _MAX_PHRASE_WORDS:
        if tokens[position].kind != "word":
            break
        words.append(tokens[position].text.lower())
        ends.append(position + 1)
        following = position + 1
        if not (following < len(tokens) and tokens[following].text == " "):
            break
        position = following + 1
    for count in range(len(words), 0, -1):
        phrase = " ".join(words[:count])
        script = dominant_script(phrase)
        language = "en-IN" if script == "Latn" else source
        english = _INDEX.get(language, {}).get(phrase)
        if english is not None:
            return english, ends[count - 1] - start
    return None


def _say(english: str, request: TranslationRequest) -> str:
    """How the target language says a lexicon concept, in this mode, by this speaker."""
    target, mode = request.target_language_code, request.mode
    if target == "en-IN":
        return "I" if english == "i" else english
    if mode == "code-mixed" and english in NOUNS:
        return english
    if mode == "modern-colloquial" and english in LOANWORDS:
        return " ".join(spell_english(word, target) for word in english.split())
    script = SCRIPT_OF_LANGUAGE[target]
    relative = target if target in FORMS[english] else _NEAREST_CORE.get(script, "hi-IN")
    if request.speaker_gender == "Female" and (english, relative) in FEMININE:
        form = FEMININE[(english, relative)]
    else:
        formal, colloquial = FORMS[english][relative]
        form = formal if mode == "formal" else colloquial
    if relative == target:
        return form
    source_script = SCRIPT_OF_LANGUAGE[relative]
    return " ".join(convert_word(word, source_script, target) for word in form.split())


def _transliterate(word: str, target: str) -> str:
    script = dominant_script(word)
    return word if script is None else convert_word(word, script, target)


def _punctuation(mark: str, target: str) -> str:
    script = SCRIPT_OF_LANGUAGE[target]
    if mark in _SENTENCE_ENDS:
        return _FULL_STOP.get(script, ".")
    if script == "Arab":
        return {"?": "؟", ",": "،"}.get(mark, mark)
    return mark

"""Language identification: the script decides, a statistical model splits shared scripts.

Most Indian languages own a script (Tamil, Telugu, Gujarati …), so the script alone names the
language exactly. Where a script is shared — Devanagari by Hindi and Marathi — the lingua
n-gram models (a real detector, trained on text, deterministic) choose between the
candidates. Languages lingua has no model for are not guessed: Bengali script is reported as
bn-IN (Assamese shares it), and text in no known script gets no language.
"""

from __future__ import annotations

from dataclasses import dataclass

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

from legacy.text.scripts import dominant_script

__all__ = ["Identification", "LanguageIdentifier"]

_SINGLE: dict[str, str] = {
    "Beng": "bn-IN", "Guru": "pa-IN", "Gujr": "gu-IN", "Orya": "od-IN", "Taml": "ta-IN",
    "Telu": "te-IN", "Knda": "kn-IN", "Mlym": "ml-IN", "Latn": "en-IN", "Arab": "ur-IN",
}  # fmt: skip
_DEVANAGARI: dict[Language, str] = {Language.HINDI: "hi-IN", Language.MARATHI: "mr-IN"}


@dataclass(frozen=True, slots=True)
class Identification:
    language_code: str | None
    script_code: str | None


class LanguageIdentifier:
    """Built once per process (the models load lazily, on first use) and passed down."""

    def __init__(self) -> None:
        self._devanagari: LanguageDetector = LanguageDetectorBuilder.from_languages(
            *_DEVANAGARI
        ).build()

    def identify(self, text: str) -> Identification:
        script = dominant_script(text)
        if script is None:
            return Identification(None, None)
        if script == "Deva":
            detected = self._devanagari.detect_language_of(text)
            return Identification(
                _DEVANAGARI.get(detected, "hi-IN") if detected else "hi-IN", script
            )
        return Identification(_SINGLE.get(script), script)

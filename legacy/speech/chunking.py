"""Splitting text to fit a TTS model's context limit without cutting words or sentences.

Sentences end at . ! ? and the Devanagari danda (। ॥); a sentence longer than the limit is
split between words; a word longer than the limit (no spaces to split at) is cut hard, the
only case where a chunk boundary falls inside a word. Chunks keep every non-space character in
order, so the stitched speech says the whole text.
"""

from __future__ import annotations

import re

__all__ = ["split_text"]

_SENTENCE_END = re.compile(r"(?<=[.!?।॥])\s+")


def split_text(text: str, max_chars: int) -> list[str]:
    if max_chars < 1:
        raise ValueError("max_chars must be at least 1")
    chunks: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(text.strip()):
        for piece in _fit(sentence, max_chars):
            if not current:
                current = piece
            elif len(current) + 1 + len(piece) <= max_chars:
                current = f"{current} {piece}"
            else:
                chunks.append(current)
                current = piece
    if current:
        chunks.append(current)
    return chunks


def _fit(sentence: str, max_chars: int) -> list[str]:
    """A sentence as pieces of at most ``max_chars``, split between words where possible."""
    if len(sentence) <= max_chars:
        return [sentence] if sentence else []
    pieces: list[str] = []
    current = ""
    for word in sentence.split():
        while len(word) > max_chars:  # no space to split at: cut the word itself
            if current:
                pieces.append(current)
                current = ""
            pieces.append(word[:max_chars])
            word = word[max_chars:]
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= max_chars:
            current = f"{current} {word}"
        else:
            pieces.append(current)
            current = word
    if current:
        pieces.append(current)
    return pieces

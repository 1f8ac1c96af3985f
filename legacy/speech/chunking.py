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
    pieces = [
        piece
        for sentence in _SENTENCE_END.split(text.strip())
        for piece in _fit(sentence, max_chars)
    ]
    return _pack(pieces, max_chars)


def _fit(sentence: str, max_chars: int) -> list[str]:
    """A sentence as pieces of at most ``max_chars``, split between words where possible."""
    if len(sentence) <= max_chars:
        return [sentence] if sentence else []
    # A word longer than the limit has no space to split at: cut the word itself.
    words = [w[i : i + max_chars] for w in sentence.split() for i in range(0, len(w), max_chars)]
    return _pack(words, max_chars)


def _pack(pieces: list[str], max_chars: int) -> list[str]:
    """Join consecutive pieces with a space while the result stays within ``max_chars``."""
    packed: list[str] = []
    current = ""
    for piece in pieces:
        if not current:
            current = piece
        elif len(current) + 1 + len(piece) <= max_chars:
            current = f"{current} {piece}"
        else:
            packed.append(current)
            current = piece
    if current:
        packed.append(current)
    return packed

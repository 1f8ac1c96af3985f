from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from legacy.speech.chunking import split_text

WORDS = st.text(alphabet="abcदेवनागरी.!?। ", min_size=1, max_size=400)


@given(text=WORDS, max_chars=st.integers(min_value=1, max_value=60))
def test_chunks_fit_the_limit_and_keep_every_character_in_order(text: str, max_chars: int) -> None:
    chunks = split_text(text, max_chars)
    assert all(0 < len(chunk) <= max_chars for chunk in chunks)
    assert "".join(chunks).replace(" ", "") == text.replace(" ", "").strip()


def test_sentences_stay_whole_when_they_fit() -> None:
    text = "पहला वाक्य है। दूसरा वाक्य है। Third one here."
    assert split_text(text, 20) == ["पहला वाक्य है।", "दूसरा वाक्य है।", "Third one here."]
    assert split_text(text, 100) == [text]


def test_long_sentences_split_between_words_and_long_words_are_cut() -> None:
    assert split_text("one two three four", 9) == ["one two", "three", "four"]
    assert split_text("abcdefghij", 4) == ["abcd", "efgh", "ij"]
    with pytest.raises(ValueError, match="at least 1"):
        split_text("x", 0)

"""The BPE tokenizer's pieces and the chat prompt's accounting."""

from __future__ import annotations

import pytest

from legacy.inference.tokenizer import Tokenizer, text_of

words = Tokenizer()


@pytest.mark.parametrize(
    "text", ["Hello, world!", "नमस्ते, आप कैसे हैं?", "வணக்கம்", "یہ ایک اچھا سوال ہے", "mixed हिंदी text"]
)
def test_pieces_are_whole_characters_and_add_up_to_the_text(text: str) -> None:
    tokens = words.encode(text)
    pieces = list(words.pieces(tokens))
    assert "".join(piece for piece, _ in pieces) == text
    assert sum(count for _, count in pieces) == len(tokens) == words.count(text)
    assert all(count >= 1 for _, count in pieces)


def test_a_cut_inside_a_character_drops_its_bytes_but_counts_its_tokens() -> None:
    tokens = words.encode("नमस्ते")
    cut = next(n for n in range(1, len(tokens)) if not _decodes(tokens[:n]))
    pieces = list(words.pieces(tokens[:cut]))
    assert sum(count for _, count in pieces) == cut
    assert "नमस्ते".startswith("".join(piece for piece, _ in pieces))


def _decodes(tokens: list[int]) -> bool:
    return "".join(p for p, _ in words.pieces(tokens)) == words._encoding.decode(tokens)


def test_special_token_text_in_a_message_is_plain_text() -> None:
    assert words.count("<|endoftext|>") > 1


def test_a_chat_prompt_counts_framing_roles_contents_and_tools() -> None:
    one = [{"role": "user", "content": "Hello"}]
    assert words.prompt_tokens(one) == 3 + 3 + words.count("user") + words.count("Hello")
    named = [{"role": "user", "content": "Hello", "name": "asha"}]
    assert words.prompt_tokens(named) == words.prompt_tokens(one) + 1 + words.count("asha")
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}}
    parts = [{"role": "user", "content": [{"type": "text", "text": "Hello"}, image]}]
    assert words.prompt_tokens(parts) == words.prompt_tokens(one) + 85
    tools = [{"type": "function", "function": {"name": "f"}}]
    assert words.prompt_tokens(one, tools) > words.prompt_tokens(one)
    assert words.prompt_tokens(one, None, {"type": "text"}) == words.prompt_tokens(one)
    assert words.prompt_tokens([{"role": "assistant", "content": None}]) == 6 + words.count(
        "assistant"
    )


def test_text_of_reads_strings_and_text_parts() -> None:
    assert text_of("hi") == "hi"
    assert (
        text_of([{"type": "text", "text": "a"}, {"type": "input_image"}, "x", {"text": "b"}])
        == "a b"
    )
    assert text_of(None) == ""

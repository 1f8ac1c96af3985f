"""The chat models the platform serves, and their limits: one table for legacy and the server.

The ids are the contract's (sdk-contract §1.6: v1 ``sarvam-105b``,
``sarvam-105b-conversations``; v2 adds ``glm5.3``, ``gemma4``, ``deepseekv4.1-flash``; the
SDKs' docstrings still send ``sarvam-m``, gotcha 10). Every id is served on both ``/v1`` and
``/v2``. The limits are this simulator's, chosen so tests can reach them: the context limit is
prompt plus ``max_tokens``, as real models count it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

__all__ = ["CHAT_MODELS", "ModelCard", "output_budget"]

_LAUNCH = 1767225600  # 2026-01-01T00:00:00Z: when these ids were published, as `created`


@dataclass(frozen=True, slots=True)
class ModelCard:
    id: str
    owned_by: str
    context_tokens: int  # prompt + completion may not exceed this
    default_max_tokens: int  # the completion budget when a request names none
    created: int = _LAUNCH


CHAT_MODELS: Final[Mapping[str, ModelCard]] = {
    card.id: card
    for card in (
        ModelCard("sarvam-m", "sarvamai", 8192, 1024),
        ModelCard("sarvam-105b", "sarvamai", 32768, 2048),
        ModelCard("sarvam-105b-conversations", "sarvamai", 32768, 2048),
        ModelCard("glm5.3", "zai", 32768, 2048),
        ModelCard("gemma4", "google", 16384, 2048),
        ModelCard("deepseekv4.1-flash", "deepseek", 32768, 2048),
    )
}


def output_budget(card: ModelCard, prompt_tokens: int, max_tokens: int | None) -> int:
    """The most tokens this request may produce: its ``max_tokens``, or else the model's
    default bounded by the context left (never below 0). A ``max_tokens`` over the context
    is kept as asked, so the model refuses it (400) instead of silently shortening it."""
    if max_tokens is not None:
        return max_tokens
    return max(0, min(card.default_max_tokens, card.context_tokens - prompt_tokens))

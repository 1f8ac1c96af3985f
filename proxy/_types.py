"""Type aliases shared across the proxy (STYLE house rule 10).

Only names and their allowed values live here, so every module spells a mode or a side the same
way; behaviour belongs to the modules that use them.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

__all__ = ["MODES", "Mode", "Side"]

# Who serves a route and whether the other side sees a mirrored copy (rfcs/0001 §1):
# legacy: legacy only; shadow: legacy serves, candidate mirrored;
# canary: a sticky share of API keys served by the candidate; candidate: candidate serves.
Mode: TypeAlias = Literal["legacy", "shadow", "canary", "candidate"]

# Every mode, in the order a route normally moves through them.
MODES: tuple[Mode, ...] = ("legacy", "shadow", "canary", "candidate")

# One upstream side of a route: the service that answers the client, or the one mirrored to.
Side: TypeAlias = Literal["legacy", "candidate"]

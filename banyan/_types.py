"""Type aliases shared by the lab core (STYLE house rule 10)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from asyncpg import Connection, Record
    from asyncpg.pool import PoolConnectionProxy

    # What a caller may hand us: a plain connection or one borrowed from a pool.
    DbConnection: TypeAlias = Connection[Record] | PoolConnectionProxy[Record]

__all__ = ["DbConnection"]

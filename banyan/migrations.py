"""Schema migrations: plain SQL files, ordered, recorded in a table, idempotent.

Each part that owns tables keeps them in ``<part>/migrations/NNNN_what_it_does.sql``. Parts are
applied in :data:`COMPONENTS` order and files by number; each file runs in its own transaction
and is recorded in ``banyan_schema_migrations`` with a checksum. Applying again does nothing.

Why a checksum: an applied migration that was edited afterwards means two databases can have
the same recorded version and different schemas. That is refused with a message saying to add
a new migration instead. Why an advisory lock: several processes (the lab, a service run alone,
xdist workers sharing an external server) may migrate the same database at once.

Loading files is pure (:func:`load_migrations`); only :func:`apply_migrations` does I/O.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg

from banyan.logs import get_logger

if TYPE_CHECKING:
    from banyan._types import DbConnection

__all__ = [
    "COMPONENTS",
    "Migration",
    "MigrationError",
    "apply_migrations",
    "discover_migrations",
    "load_migrations",
]

# Parts that may own tables, in the order their migrations apply (rfcs/0001 §5).
COMPONENTS = ("legacy", "proxy", "shadow", "parity")

_FILENAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")
_LOCK_KEY = 0x62616E79616E  # "banyan"
_log = get_logger(__name__)


class MigrationError(Exception):
    """A migration set that cannot be applied safely; the message says what to fix."""


@dataclass(frozen=True, slots=True)
class Migration:
    component: str
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    @property
    def label(self) -> str:
        return f"{self.component}/{self.version:04d}_{self.name}.sql"


def load_migrations(component: str, directory: Path) -> list[Migration]:
    """Read one component's migration files, ordered by version. A missing directory is empty."""
    if not directory.is_dir():
        return []
    found: dict[int, Migration] = {}
    for path in sorted(directory.iterdir()):
        if path.suffix != ".sql":
            continue
        match = _FILENAME.match(path.name)
        if match is None:
            raise MigrationError(
                f"{component}: migration file {path.name!r} must be named NNNN_lower_snake.sql"
            )
        version = int(match["version"])
        if version == 0:
            raise MigrationError(f"{component}: migration versions start at 0001 ({path.name})")
        if version in found:
            raise MigrationError(
                f"{component}: two migrations have version {version:04d}: "
                f"{found[version].label} and {path.name}"
            )
        found[version] = Migration(component, version, match["name"], path.read_text("utf-8"))
    return [found[v] for v in sorted(found)]


def discover_migrations(components: Sequence[str] = COMPONENTS) -> list[Migration]:
    """Every component's migrations, located next to its package without importing it."""
    result: list[Migration] = []
    for component in components:
        spec = importlib.util.find_spec(component)
        if spec is None or spec.origin is None:
            continue
        result.extend(load_migrations(component, Path(spec.origin).parent / "migrations"))
    return result


_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS banyan_schema_migrations (
    component  text        NOT NULL,
    version    integer     NOT NULL,
    name       text        NOT NULL,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (component, version)
)
"""


async def apply_migrations(conn: DbConnection, migrations: Sequence[Migration]) -> list[Migration]:
    """Apply what is not yet applied, in order; return what was applied now.

    Holds a session advisory lock for the whole run, so concurrent callers serialise and the
    second finds nothing to do. A failing migration rolls back alone and raises; the ones
    before it stay applied."""
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        await conn.execute(_CREATE_TABLE)
        rows = await conn.fetch("SELECT component, version, checksum FROM banyan_schema_migrations")
        applied = {(r["component"], r["version"]): r["checksum"] for r in rows}
        newly: list[Migration] = []
        for migration in migrations:
            recorded = applied.get((migration.component, migration.version))
            if recorded is not None:
                if recorded != migration.checksum:
                    raise MigrationError(
                        f"{migration.label} was changed after it was applied to this database; "
                        "never edit an applied migration, add a new one instead"
                    )
                continue
            try:
                async with conn.transaction():
                    await conn.execute(migration.sql)
                    await conn.execute(
                        "INSERT INTO banyan_schema_migrations (component, version, name, checksum)"
                        " VALUES ($1, $2, $3, $4)",
                        migration.component,
                        migration.version,
                        migration.name,
                        migration.checksum,
                    )
            except asyncpg.PostgresError as exc:
                raise MigrationError(f"{migration.label} failed: {exc}") from exc
            _log.info("migration applied", migration=migration.label)
            newly.append(migration)
        return newly
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from banyan.migrations import Migration, MigrationError, apply_migrations, load_migrations

pytestmark = pytest.mark.anyio


def write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, sql in files.items():
        (directory / name).write_text(sql)
    return directory


def test_files_load_in_numeric_order(tmp_path) -> None:
    d = write(
        tmp_path,
        {
            "0010_c.sql": "SELECT 3",
            "0002_b.sql": "SELECT 2",
            "0001_a.sql": "SELECT 1",
            "README.md": "ignored",
        },
    )
    assert [(m.version, m.name) for m in load_migrations("x", d)] == [(1, "a"), (2, "b"), (10, "c")]


def test_missing_directory_is_empty(tmp_path) -> None:
    assert load_migrations("x", tmp_path / "nope") == []


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"1_a.sql": ""}, "NNNN_lower_snake.sql"),
        ({"0001-a.sql": ""}, "NNNN_lower_snake.sql"),
        ({"0000_a.sql": ""}, "start at 0001"),
        ({"0001_a.sql": "", "0001_b.sql": ""}, "two migrations have version 0001"),
    ],
)
def test_bad_sets_are_refused_with_a_message_that_says_what_to_fix(
    tmp_path, files, message
) -> None:
    with pytest.raises(MigrationError, match=message):
        load_migrations("x", write(tmp_path, files))


def migration(version: int, sql: str, component: str = "demo") -> Migration:
    return Migration(component, version, f"step_{version}", sql)


async def tables(conn: asyncpg.Connection) -> set[str]:
    rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {r["tablename"] for r in rows}


async def test_apply_is_ordered_recorded_and_idempotent(database_url) -> None:
    migrations = [migration(1, "CREATE TABLE a (id int)"), migration(2, "ALTER TABLE a ADD b text")]
    conn = await asyncpg.connect(database_url)
    try:
        assert await apply_migrations(conn, migrations) == migrations
        assert await apply_migrations(conn, migrations) == []
        assert {"a", "banyan_schema_migrations"} <= await tables(conn)
        rows = await conn.fetch(
            "SELECT version, name, checksum FROM banyan_schema_migrations"
            " WHERE component = 'demo' ORDER BY version"
        )
        assert [(r["version"], r["name"], r["checksum"]) for r in rows] == [
            (m.version, m.name, m.checksum) for m in migrations
        ]
        more = [*migrations, migration(3, "CREATE TABLE c (id int)")]
        assert [m.version for m in await apply_migrations(conn, more)] == [3]
    finally:
        await conn.close()


async def test_an_edited_applied_migration_is_refused(database_url) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await apply_migrations(conn, [migration(1, "CREATE TABLE a (id int)")])
        with pytest.raises(MigrationError, match="changed after it was applied"):
            await apply_migrations(conn, [migration(1, "CREATE TABLE a (id bigint)")])
    finally:
        await conn.close()


async def test_a_failing_migration_rolls_back_alone(database_url) -> None:
    good = migration(1, "CREATE TABLE good (id int)")
    bad = migration(2, "CREATE TABLE half (id int); SELECT no_such_function()")
    conn = await asyncpg.connect(database_url)
    try:
        with pytest.raises(MigrationError, match=r"demo/0002_step_2\.sql failed"):
            await apply_migrations(conn, [good, bad])
        assert "good" in await tables(conn)
        assert "half" not in await tables(conn)
        versions = await conn.fetch(
            "SELECT version FROM banyan_schema_migrations WHERE component='demo'"
        )
        assert [r["version"] for r in versions] == [1]
        # The connection is still usable and the lock was released.
        assert await conn.fetchval("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'") == 0
    finally:
        await conn.close()


async def test_concurrent_appliers_apply_each_migration_once(database_url) -> None:
    migrations = [migration(i, f"CREATE TABLE t{i} (id int)") for i in range(1, 6)]
    conns = [await asyncpg.connect(database_url) for _ in range(4)]
    try:
        results = await asyncio.gather(*(apply_migrations(c, migrations) for c in conns))
    finally:
        for c in conns:
            await c.close()
    applied = [m.version for result in results for m in result]
    assert sorted(applied) == [1, 2, 3, 4, 5]

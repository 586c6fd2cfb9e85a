"""Migration 0005 on the test's database (SQLite or PostgreSQL): the folded columns are added
without rebuilding a table, every existing row is folded as the models fold it, and the
downgrade drops them and keeps the rows. Each test's rollback undoes its round trip."""

from __future__ import annotations

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from graph.migrations import downgrade_connection, upgrade_connection
from models.folding import folded, folded_key

LONGEST = "\U0001d160" * 200  # folds to 2,400 bytes: the key is cut

INSERTS = (
    "INSERT INTO tasks (id, user_id, title, description, kind, status)"
    " VALUES (1, 'alice', 'ÉTÉ à Paris', 'Un ÉTÉ chaud', 'todo', 'pending')",
    "INSERT INTO tasks (id, user_id, title, kind, status)"
    f" VALUES (2, 'alice', '{LONGEST}', 'todo', 'pending')",
    "INSERT INTO conversations (id, user_id, title) VALUES ('c1', 'alice', 'Straße')",
    "INSERT INTO conversations (id, user_id) VALUES ('c2', 'alice')",
    "INSERT INTO messages (id, conversation_id, role, content)"
    " VALUES (1, 'c1', 'user', 'Bonjour, ÇA VA?')",
)


def _columns(connection: Connection, table: str) -> set[str]:
    return {column["name"] for column in inspect(connection).get_columns(table)}


async def _rows(connection: AsyncConnection, sql: str) -> list[tuple[object, ...]]:
    return [tuple(row) for row in await connection.execute(text(sql))]


async def test_existing_rows_are_folded_as_the_models_fold_them(
    connection: AsyncConnection,
) -> None:
    await connection.run_sync(downgrade_connection, "0004")
    for insert in INSERTS:
        await connection.execute(text(insert))

    await connection.run_sync(upgrade_connection, "0005")

    tasks = await _rows(
        connection, "SELECT title_folded, description_folded FROM tasks ORDER BY id"
    )
    assert tasks == [
        (folded_key("ÉTÉ à Paris"), folded("Un ÉTÉ chaud")), (folded_key(LONGEST), None),
    ]
    titles = await _rows(connection, "SELECT title_folded FROM conversations ORDER BY id")
    assert titles == [("strasse",), (None,)]
    contents = await _rows(connection, "SELECT content_folded FROM messages")
    assert contents == [(folded("Bonjour, ÇA VA?"),)]


async def test_a_row_inserted_by_hand_in_sql_gets_an_empty_key_not_an_error(
    connection: AsyncConnection,
) -> None:
    # The server default only keeps NOT NULL satisfiable for SQL that bypasses the models.
    await connection.execute(text(INSERTS[0]))
    assert await _rows(connection, "SELECT title_folded FROM tasks") == [("",)]


async def test_downgrading_0005_drops_the_folded_columns_and_keeps_the_rows(
    connection: AsyncConnection,
) -> None:
    for insert in INSERTS:
        await connection.execute(text(insert))

    await connection.run_sync(downgrade_connection, "0004")

    assert "title_folded" not in await connection.run_sync(_columns, "tasks")
    assert "content_folded" not in await connection.run_sync(_columns, "messages")
    assert await _rows(connection, "SELECT count(*) FROM tasks") == [(2,)]
    assert await _rows(connection, "SELECT count(*) FROM messages") == [(1,)]

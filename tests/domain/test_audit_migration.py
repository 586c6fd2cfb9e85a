"""Migration 0003: `audit_logs.source`, on the test's database (SQLite in batch mode, or
PostgreSQL). That the migrated schema equals the models is tests/models/test_migrations.py;
here, what the revision does to rows. Each test's rollback undoes its round trip."""

from __future__ import annotations

import pytest
from sqlalchemy import CheckConstraint, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from graph.migrations import downgrade_connection, upgrade_connection
from models import Base

INSERT_BEFORE_0003 = text(
    "INSERT INTO audit_logs (id, user_id, document_type, input_data, generated_text, status)"
    " VALUES (:id, 'alice', 'letter', '{}', '{}', 'success')"
)
INSERT_WITH_SOURCE = text(
    "INSERT INTO audit_logs"
    " (id, user_id, document_type, input_data, generated_text, status, source)"
    " VALUES (:id, 'alice', 'letter', '{}', '{}', 'success', :source)"
)


def _columns(connection: Connection) -> set[str]:
    return {column["name"] for column in inspect(connection).get_columns("audit_logs")}


def _checks(connection: Connection) -> set[str]:
    checks = inspect(connection).get_check_constraints("audit_logs")
    return {str(check["name"]) for check in checks}


async def test_every_check_of_the_model_is_in_the_migrated_table(
    connection: AsyncConnection,
) -> None:
    # Autogenerate's drift check (tests/models) does not compare CHECK constraints, and
    # SQLite's batch mode rebuilds the table: none may be lost on the way.
    expected = {
        str(constraint.name) for constraint in Base.metadata.tables["audit_logs"].constraints
        if isinstance(constraint, CheckConstraint)
    }

    assert "ck_audit_logs_source" in expected
    assert await connection.run_sync(_checks) == expected


async def test_rows_from_before_sources_were_kept_become_clients_claims(
    connection: AsyncConnection,
) -> None:
    await connection.run_sync(downgrade_connection, "0002")
    await connection.execute(INSERT_BEFORE_0003, {"id": "old"})

    await connection.run_sync(upgrade_connection, "0003")

    source = await connection.scalar(text("SELECT source FROM audit_logs WHERE id = 'old'"))
    assert source == "client"


async def test_a_row_without_a_source_is_a_clients_claim(connection: AsyncConnection) -> None:
    await connection.execute(INSERT_BEFORE_0003, {"id": "new"})

    source = await connection.scalar(text("SELECT source FROM audit_logs WHERE id = 'new'"))

    assert source == "client"


@pytest.mark.parametrize("source", ["robot", "SERVER", None])
async def test_the_database_refuses_any_other_source(
    connection: AsyncConnection, source: str | None
) -> None:
    # A savepoint, so PostgreSQL's transaction survives the refusal.
    with pytest.raises(IntegrityError):
        async with connection.begin_nested():
            await connection.execute(INSERT_WITH_SOURCE, {"id": "bad", "source": source})


async def test_both_sources_are_accepted(connection: AsyncConnection) -> None:
    for source in ("server", "client"):
        await connection.execute(INSERT_WITH_SOURCE, {"id": source, "source": source})

    rows = await connection.execute(text("SELECT id, source FROM audit_logs ORDER BY id"))

    assert [tuple(row) for row in rows] == [("client", "client"), ("server", "server")]


async def test_downgrading_0003_removes_the_column_and_keeps_the_rows(
    connection: AsyncConnection,
) -> None:
    await connection.execute(INSERT_WITH_SOURCE, {"id": "kept", "source": "server"})

    await connection.run_sync(downgrade_connection, "0002")

    assert "source" not in await connection.run_sync(_columns)
    assert "ck_audit_logs_source" not in await connection.run_sync(_checks)
    assert await connection.scalar(text("SELECT count(*) FROM audit_logs")) == 1

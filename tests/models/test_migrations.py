"""Alembic owns the schema: it tears down, rebuilds and matches the models on this database."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from graph.migrations import (
    current_revision,
    downgrade_connection,
    head_revision,
    upgrade_connection,
)
from models import Base


def _drift(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={"compare_type": True, "render_as_batch": connection.dialect.name == "sqlite"},
    )
    return list(compare_metadata(context, Base.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names()) - {"alembic_version"}


async def test_migrated_database_matches_the_models(connection: AsyncConnection) -> None:
    assert await connection.run_sync(_drift) == []


async def test_database_is_at_the_head_revision(connection: AsyncConnection) -> None:
    assert await connection.run_sync(current_revision) == head_revision()


async def test_downgrade_to_base_removes_every_table(connection: AsyncConnection) -> None:
    await connection.run_sync(downgrade_connection)
    assert await connection.run_sync(_tables) == set()


async def test_upgrade_after_downgrade_rebuilds_the_same_schema(
    connection: AsyncConnection,
) -> None:
    await connection.run_sync(downgrade_connection)
    await connection.run_sync(upgrade_connection)
    assert await connection.run_sync(_tables) == set(Base.metadata.tables)
    assert await connection.run_sync(_drift) == []

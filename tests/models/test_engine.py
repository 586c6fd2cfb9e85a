"""The engine's per-database settings: SQLite pragmas and IMMEDIATE writes, PostgreSQL limits."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeout

from models.database import SQLITE_IMMEDIATE, EngineOptions, create_engine
from tests.conftest import DATABASE_URL, ON_POSTGRES

sqlite_only = pytest.mark.skipif(ON_POSTGRES, reason="SQLite pragmas")
postgres_only = pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL settings")


@sqlite_only
async def test_a_sqlite_file_runs_wal_with_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    engine = create_engine(
        EngineOptions(url=f"sqlite+aiosqlite:///{tmp_path / 'e.db'}", sqlite_busy_timeout_ms=1234)
    )
    try:
        async with engine.connect() as connection:
            pragmas = {
                name: (await connection.execute(text(f"PRAGMA {name}"))).scalar()
                for name in ("foreign_keys", "journal_mode", "synchronous", "busy_timeout")
            }
    finally:
        await engine.dispose()
    assert pragmas == {"foreign_keys": 1, "journal_mode": "wal", "synchronous": 1,
                       "busy_timeout": 1234}


@sqlite_only
async def test_write_transactions_begin_immediate_and_reads_deferred(tmp_path: Path) -> None:
    path = tmp_path / "locks.db"
    writer = create_engine(EngineOptions(url=f"sqlite+aiosqlite:///{path}"))
    other = create_engine(EngineOptions(url=f"sqlite+aiosqlite:///{path}",
                                        sqlite_busy_timeout_ms=0))
    try:
        async with writer.connect() as connection:
            await connection.execute(text("CREATE TABLE t (x INTEGER)"))
            await connection.commit()
        async with writer.connect() as reading:
            await reading.execute(text("SELECT 1"))  # a deferred read takes no write lock
            async with other.connect() as second:
                second = await second.execution_options(**{SQLITE_IMMEDIATE: True})
                await second.execute(text("INSERT INTO t VALUES (1)"))  # not blocked
                await second.commit()
            await reading.rollback()
        async with writer.connect() as first:
            first = await first.execution_options(**{SQLITE_IMMEDIATE: True})
            await first.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: holds the write lock now
            async with other.connect() as second:
                second = await second.execution_options(**{SQLITE_IMMEDIATE: True})
                with pytest.raises(Exception, match="locked"):
                    await second.execute(text("SELECT 1"))
            await first.rollback()
    finally:
        await writer.dispose()
        await other.dispose()


@postgres_only
async def test_postgres_connections_carry_the_statement_timeout() -> None:
    engine = create_engine(EngineOptions(url=DATABASE_URL, statement_timeout_ms=1234))
    try:
        async with engine.connect() as connection:
            value = (await connection.execute(text("SHOW statement_timeout"))).scalar()
    finally:
        await engine.dispose()
    assert value == "1234ms"


@postgres_only
async def test_postgres_cancels_a_statement_over_the_timeout() -> None:
    engine = create_engine(EngineOptions(url=DATABASE_URL, statement_timeout_ms=100))
    try:
        async with engine.connect() as connection:
            with pytest.raises(Exception, match="statement timeout"):
                await connection.execute(text("SELECT pg_sleep(2)"))
    finally:
        await engine.dispose()


async def test_a_request_waits_for_a_pooled_connection_at_most_the_pool_timeout(
    tmp_path: Path,
) -> None:
    # SQLAlchemy's 30 s default outlasted a request's own timeout during an outage.
    url = DATABASE_URL if ON_POSTGRES else f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}"
    engine = create_engine(EngineOptions(url=url, pool_size=1, max_overflow=0,
                                         pool_timeout_seconds=0.2))
    try:
        async with contextlib.AsyncExitStack() as held:
            with pytest.raises(SQLAlchemyTimeout):
                for _ in range(30):  # every connection the pool has, then one more
                    await held.enter_async_context(engine.connect())
    finally:
        await engine.dispose()


async def test_a_failed_statements_error_does_not_carry_its_parameters(tmp_path: Path) -> None:
    url = DATABASE_URL if ON_POSTGRES else f"sqlite+aiosqlite:///{tmp_path / 'params.db'}"
    engine = create_engine(EngineOptions(url=url))
    try:
        async with engine.connect() as connection:
            with pytest.raises(DBAPIError) as failed:
                await connection.execute(text("SELECT * FROM no_such_table WHERE x = :secret"),
                                         {"secret": "visit-id-1234"})
    finally:
        await engine.dispose()
    assert "visit-id-1234" not in str(failed.value)

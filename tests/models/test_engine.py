"""The engine's per-database settings: SQLite pragmas and IMMEDIATE writes, PostgreSQL limits."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

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

"""On SQLite the database itself keeps audit_logs and ai_logs append-only: triggers (migration
0006) refuse UPDATE and DELETE, whoever sends them. PostgreSQL holds the same by privileges
(tests/models/test_privileges.py): its owner may still purge, its application role may not."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.conftest import ON_POSTGRES
from tests.models.test_privileges import AI_LOG, AUDIT

pytestmark = pytest.mark.skipif(
    ON_POSTGRES, reason="PostgreSQL holds this by privileges (tests/models/test_privileges.py)"
)


@pytest.fixture
async def logs(connection: AsyncConnection) -> AsyncConnection:
    await connection.execute(text(AUDIT), {"id": "entry-1", "user": "alice"})
    await connection.execute(text(AI_LOG), {"user": "alice"})
    return connection


async def refused(connection: AsyncConnection, sql: str) -> None:
    with pytest.raises(IntegrityError, match="is append-only"):
        async with connection.begin_nested():
            await connection.execute(text(sql))


async def test_an_audit_entry_cannot_be_updated(logs: AsyncConnection) -> None:
    await refused(logs, "UPDATE audit_logs SET status = 'error', error_message = 'x'")
    assert await logs.scalar(text("SELECT status FROM audit_logs")) == "success"


async def test_an_audit_entry_cannot_be_deleted(logs: AsyncConnection) -> None:
    await refused(logs, "DELETE FROM audit_logs")
    assert await logs.scalar(text("SELECT count(*) FROM audit_logs")) == 1


async def test_an_ai_log_cannot_be_updated(logs: AsyncConnection) -> None:
    await refused(logs, "UPDATE ai_logs SET prompt = 'rewritten'")
    assert await logs.scalar(text("SELECT prompt FROM ai_logs")) == "hello"


async def test_an_ai_log_cannot_be_deleted(logs: AsyncConnection) -> None:
    await refused(logs, "DELETE FROM ai_logs")
    assert await logs.scalar(text("SELECT count(*) FROM ai_logs")) == 1


async def test_both_logs_still_take_new_entries(logs: AsyncConnection) -> None:
    await logs.execute(text(AUDIT), {"id": "entry-2", "user": "bob"})
    await logs.execute(text(AI_LOG), {"user": "bob"})
    for table in ("audit_logs", "ai_logs"):
        assert await logs.scalar(text(f"SELECT count(*) FROM {table}")) == 2

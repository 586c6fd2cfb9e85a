"""On SQLite the database itself keeps audit_logs and ai_logs append-only: triggers (migration
0007) refuse UPDATE and DELETE, whoever sends them, but for claimSession's one change (a
visitor's audit entry moving to a signed-in user). PostgreSQL holds the same by privileges
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


async def test_a_visitors_audit_entry_may_move_to_the_user_who_claims_it(
    logs: AsyncConnection,
) -> None:
    await logs.execute(text(AUDIT), {"id": "visited", "user": "session:visit-1"})
    await logs.execute(text("UPDATE audit_logs SET user_id = 'alice' WHERE id = 'visited'"))
    assert await logs.scalar(text("SELECT user_id FROM audit_logs WHERE id = 'visited'")) == (
        "alice")


async def test_a_signed_in_users_audit_entry_cannot_change_owner(logs: AsyncConnection) -> None:
    await refused(logs, "UPDATE audit_logs SET user_id = 'mallory' WHERE id = 'entry-1'")
    assert await logs.scalar(text("SELECT user_id FROM audit_logs")) == "alice"


async def test_a_visitors_audit_entry_cannot_move_to_another_visitor(
    logs: AsyncConnection,
) -> None:
    await logs.execute(text(AUDIT), {"id": "visited", "user": "session:visit-1"})
    await refused(logs, "UPDATE audit_logs SET user_id = 'session:other' WHERE id = 'visited'")


async def test_moving_an_entry_cannot_change_anything_else(logs: AsyncConnection) -> None:
    await logs.execute(text(AUDIT), {"id": "visited", "user": "session:visit-1"})
    await refused(logs, "UPDATE audit_logs SET user_id = 'alice', status = 'error'"
                        " WHERE id = 'visited'")

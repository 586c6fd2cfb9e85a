"""On SQLite the database itself keeps audit_logs and ai_logs append-only: triggers (migration
0007) refuse UPDATE and DELETE, whoever sends them, but for claimSession's one change (a
visitor's audit entry moving to a signed-in user); a REPLACE, which deletes the row it
conflicts with, is refused too (migration 0009's BEFORE INSERT triggers, and
`recursive_triggers` on every connection, models/database.py). PostgreSQL holds the same by
privileges (tests/models/test_privileges.py): its owner may still purge, its application
role may not."""

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


# --- REPLACE (issue 22: it rewrote an entry past the UPDATE and DELETE triggers) ------------

REPLACE_AUDIT = (
    "{verb} INTO audit_logs (id, user_id, document_type, input_data, generated_text, status)"
    " VALUES ('entry-1', 'mallory', 'letter', '{{}}', '{{}}', 'success')"
)
REPLACE_AI_LOG = (
    "{verb} INTO ai_logs (id, user_id, purpose, provider, model, prompt)"
    " VALUES (:id, 'alice', 'chat_reply', 'offline', 'rules', 'rewritten')"
)
REPLACING = ["INSERT OR REPLACE", "REPLACE"]


@pytest.mark.parametrize("verb", REPLACING)
async def test_an_audit_entry_cannot_be_replaced(logs: AsyncConnection, verb: str) -> None:
    await refused(logs, REPLACE_AUDIT.format(verb=verb))
    assert await logs.scalar(text("SELECT user_id FROM audit_logs")) == "alice"


@pytest.mark.parametrize("verb", REPLACING)
async def test_an_ai_log_cannot_be_replaced(logs: AsyncConnection, verb: str) -> None:
    existing = await logs.scalar(text("SELECT id FROM ai_logs"))
    with pytest.raises(IntegrityError, match="is append-only"):
        async with logs.begin_nested():
            await logs.execute(text(REPLACE_AI_LOG.format(verb=verb)), {"id": existing})
    assert await logs.scalar(text("SELECT prompt FROM ai_logs")) == "hello"


async def test_an_upsert_cannot_rewrite_an_audit_entry(logs: AsyncConnection) -> None:
    await refused(logs, REPLACE_AUDIT.format(verb="INSERT") +
                  " ON CONFLICT (id) DO UPDATE SET generated_text = '{\"x\": 1}'")
    assert await logs.scalar(text("SELECT generated_text FROM audit_logs")) == "{}"


async def test_replace_is_refused_without_the_pragma_too(logs: AsyncConnection) -> None:
    """The triggers hold on a connection that never turned recursive_triggers on (the sqlite3
    shell, another tool): the BEFORE INSERT trigger refuses an existing id by itself."""
    was = await logs.scalar(text("PRAGMA recursive_triggers"))
    await logs.exec_driver_sql("PRAGMA recursive_triggers=OFF")
    try:
        await refused(logs, REPLACE_AUDIT.format(verb="REPLACE"))
    finally:  # the harness's one connection serves every test after this one
        await logs.exec_driver_sql(f"PRAGMA recursive_triggers={int(was)}")
    assert await logs.scalar(text("SELECT user_id FROM audit_logs")) == "alice"


async def test_every_connection_has_recursive_triggers_on(logs: AsyncConnection) -> None:
    assert await logs.scalar(text("PRAGMA recursive_triggers")) == 1

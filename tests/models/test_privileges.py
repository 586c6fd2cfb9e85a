"""Least privilege and policies on PostgreSQL, asked of the database itself.

Each test acts as the application role inside a savepoint of the test's (owner's)
connection, exactly as the app's own transactions do under the harness (tests/conftest.py):
what is refused here is refused to the server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from domain import scope
from models import Base
from models.privileges import APP_PRIVILEGES
from models.rls import DatabaseViewer, settings_sql
from tests.conftest import APP_ROLE, ON_POSTGRES

postgres = pytest.mark.skipif(not ON_POSTGRES, reason="roles and policies are PostgreSQL's")
app_role = pytest.mark.skipif(
    APP_ROLE is None,
    reason="needs an application role: TEST_DATABASE_URL for it, TEST_OWNER_DATABASE_URL "
    "for the tables' owner (tests/conftest.py)",
)
OWNED_TABLES: set[str] = {inspect(model).local_table.name for model in scope.OWNERSHIP}
AUDIT = (
    "INSERT INTO audit_logs (id, user_id, document_type, input_data, generated_text, status)"
    " VALUES (:id, :user, 'letter', '{}', '{}', 'success')"
)
AI_LOG = (
    "INSERT INTO ai_logs (user_id, purpose, provider, model, prompt)"
    " VALUES (:user, 'chat_reply', 'offline', 'rules', 'hello')"
)
REFUSED = "permission denied|row-level security|must be owner"


@asynccontextmanager
async def acting_as_app(
    connection: AsyncConnection, user: str | None = "alice", *, admin: bool = False
) -> AsyncIterator[Callable[..., Any]]:
    """Statements as the application role for `user`, undone when the block ends."""
    savepoint = await connection.begin_nested()
    await connection.exec_driver_sql(f"SELECT set_config('role', '{APP_ROLE}', true)")
    await connection.exec_driver_sql(settings_sql(DatabaseViewer(user, admin)))

    async def run(sql: str, **parameters: Any) -> Any:
        return await connection.execute(text(sql), parameters)

    try:
        yield run
    finally:
        await savepoint.rollback()


async def refused(connection: AsyncConnection, sql: str, **parameters: Any) -> str:
    """The error the application role gets for `sql` (the test fails if it succeeds)."""
    async with acting_as_app(connection) as run:
        with pytest.raises(DBAPIError, match=REFUSED) as error:
            await run(sql, **parameters)
    return str(error.value.orig)


@pytest.fixture
async def audit_entry(connection: AsyncConnection) -> str:
    await connection.execute(text(AUDIT), {"id": "entry-1", "user": "alice"})
    return "entry-1"


def test_every_table_has_its_privileges_declared() -> None:
    # A new table fails here until models/privileges.py says what the server may do with it.
    assert set(Base.metadata.tables) | {"alembic_version"} == set(APP_PRIVILEGES)


@postgres
async def test_every_owned_table_has_row_level_security_and_a_policy(
    connection: AsyncConnection,
) -> None:
    rows = await connection.execute(text(
        "SELECT c.relname, c.relrowsecurity, count(p.polname) FROM pg_class c"
        " LEFT JOIN pg_policy p ON p.polrelid = c.oid"
        " WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'"
        " GROUP BY c.relname, c.relrowsecurity"
    ))
    secured = {name for name, enabled, policies in rows if enabled and policies}
    missing = OWNED_TABLES - secured
    assert not missing, f"owned tables (domain.scope.OWNERSHIP) without a policy: {missing}"
    # Every other table the server touches too (visits, ai_logs): all but Alembic's own.
    assert not set(Base.metadata.tables) - secured


@app_role
async def test_the_application_role_cannot_update_an_audit_entry(
    connection: AsyncConnection, audit_entry: str
) -> None:
    error = await refused(
        connection, "UPDATE audit_logs SET status = 'error' WHERE id = :id", id=audit_entry
    )
    assert "permission denied for table audit_logs" in error


@app_role
async def test_the_application_role_cannot_delete_an_audit_entry(
    connection: AsyncConnection, audit_entry: str
) -> None:
    error = await refused(connection, "DELETE FROM audit_logs WHERE id = :id", id=audit_entry)
    assert "permission denied for table audit_logs" in error


@app_role
async def test_the_application_role_cannot_truncate_the_audit_log(
    connection: AsyncConnection, audit_entry: str
) -> None:
    assert "permission denied" in await refused(connection, "TRUNCATE audit_logs")


@app_role
async def test_the_application_role_writes_ai_logs_but_cannot_read_them_back(
    connection: AsyncConnection,
) -> None:
    async with acting_as_app(connection) as run:
        await run(AI_LOG, user="alice")
    error = await refused(connection, "SELECT prompt FROM ai_logs")
    assert "permission denied for table ai_logs" in error


@app_role
async def test_the_application_role_may_not_create_or_alter_tables(
    connection: AsyncConnection,
) -> None:
    assert "permission denied" in await refused(connection, "CREATE TABLE stolen (x int)")
    error = await refused(connection, "ALTER TABLE tasks DISABLE ROW LEVEL SECURITY")
    assert "must be owner" in error


@app_role
async def test_a_viewer_sees_and_counts_only_its_own_rows(connection: AsyncConnection) -> None:
    for user in ("alice", "bob"):
        await connection.execute(
            text("INSERT INTO tasks (user_id, title) VALUES (:u, :t)"), {"u": user, "t": user}
        )
    async with acting_as_app(connection, "bob") as run:
        titles = (await run("SELECT title FROM tasks")).scalars().all()
    assert titles == ["bob"]


@app_role
async def test_a_transaction_without_a_viewer_sees_no_owned_row(
    connection: AsyncConnection,
) -> None:
    await connection.execute(text("INSERT INTO tasks (user_id, title) VALUES ('alice', 'a')"))
    async with acting_as_app(connection, None) as run:
        assert (await run("SELECT count(*) FROM tasks")).scalar() == 0


@app_role
async def test_a_viewer_cannot_write_a_row_for_someone_else(
    connection: AsyncConnection,
) -> None:
    error = await refused(
        connection, "INSERT INTO tasks (user_id, title) VALUES ('mallory', 'planted')"
    )
    assert "row-level security" in error


@app_role
async def test_a_viewer_cannot_add_a_step_to_anothers_task(connection: AsyncConnection) -> None:
    task = await connection.scalar(
        text("INSERT INTO tasks (user_id, title) VALUES ('bob', 'b') RETURNING id")
    )
    error = await refused(
        connection,
        "INSERT INTO task_steps (task_id, step_number, content) VALUES (:task, 1, 'x')",
        task=task,
    )
    assert "row-level security" in error


@app_role
async def test_only_the_admin_claim_reads_every_users_audit_entries(
    connection: AsyncConnection,
) -> None:
    for number, user in enumerate(("alice", "bob", "carol")):
        await connection.execute(text(AUDIT), {"id": f"e{number}", "user": user})
    count = "SELECT count(*) FROM audit_logs"
    async with acting_as_app(connection, "alice") as run:
        assert (await run(count)).scalar() == 1
    async with acting_as_app(connection, "alice", admin=True) as run:
        assert (await run(count)).scalar() == 3


CLAIMING = "SELECT set_config('app.claim', 'session:visit-1', true)"
MOVE = "UPDATE audit_logs SET user_id = :to WHERE user_id = :owner"


@app_role
async def test_a_claim_moves_the_visitors_audit_entries_to_the_viewer(
    connection: AsyncConnection,
) -> None:
    await connection.execute(text(AUDIT), {"id": "visited", "user": "session:visit-1"})
    async with acting_as_app(connection, "alice") as run:
        await run(CLAIMING)
        moved = await run(MOVE, to="alice", owner="session:visit-1")
        assert moved.rowcount == 1
        assert (await run("SELECT user_id FROM audit_logs")).scalar() == "alice"


@app_role
async def test_without_a_claim_no_audit_entry_changes_owner(connection: AsyncConnection) -> None:
    await connection.execute(text(AUDIT), {"id": "visited", "user": "session:visit-1"})
    await connection.execute(text(AUDIT), {"id": "bobs", "user": "bob"})
    async with acting_as_app(connection, "alice") as run:
        for owner in ("session:visit-1", "bob"):
            assert (await run(MOVE, to="alice", owner=owner)).rowcount == 0
    owners = await connection.execute(text("SELECT user_id FROM audit_logs ORDER BY id"))
    assert owners.scalars().all() == ["bob", "session:visit-1"]


@app_role
async def test_a_claim_cannot_hand_the_visitors_entries_to_someone_else(
    connection: AsyncConnection,
) -> None:
    await connection.execute(text(AUDIT), {"id": "visited", "user": "session:visit-1"})
    async with acting_as_app(connection, "alice") as run:
        await run(CLAIMING)
        with pytest.raises(DBAPIError, match="row-level security"):
            await run(MOVE, to="mallory", owner="session:visit-1")


@app_role
async def test_a_claim_cannot_change_anything_else_of_an_audit_entry(
    connection: AsyncConnection,
) -> None:
    await connection.execute(text(AUDIT), {"id": "visited", "user": "session:visit-1"})
    async with acting_as_app(connection, "alice") as run:
        await run(CLAIMING)
        with pytest.raises(DBAPIError, match="permission denied for table audit_logs"):
            await run("UPDATE audit_logs SET user_id = 'alice', status = 'error'")

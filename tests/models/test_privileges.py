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
from domain.visit_credentials import visit_id_of
from models import Base
from models.privileges import APP_FUNCTIONS, APP_PRIVILEGES
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


# --- issue 22: no setting moves a row to another owner -------------------------------------

FORGED_CLAIM = "SELECT set_config('app.claim', 'bob', true)"


async def bobs_rows(connection: AsyncConnection) -> None:
    await connection.execute(text("INSERT INTO tasks (user_id, title) VALUES ('bob', 'b')"))
    await connection.execute(text(AUDIT), {"id": "bobs", "user": "bob"})


async def owners_of(connection: AsyncConnection, table: str) -> list[str]:
    rows = await connection.execute(text(f"SELECT user_id FROM {table} ORDER BY user_id"))
    return list(rows.scalars())


@app_role
async def test_a_forged_app_claim_moves_no_one_elses_tasks(connection: AsyncConnection) -> None:
    """Migration 0007 let any statement set `app.claim` and then move that owner's rows to
    its viewer: `set_config('app.claim','bob',true)`, then UPDATE as mallory."""
    await bobs_rows(connection)
    async with acting_as_app(connection, "mallory") as run:
        await run(FORGED_CLAIM)
        moved = await run("UPDATE tasks SET user_id = 'mallory' WHERE user_id = 'bob'")
        assert moved.rowcount == 0
    assert await owners_of(connection, "tasks") == ["bob"]


@app_role
async def test_a_forged_app_claim_moves_no_one_elses_audit_entries(
    connection: AsyncConnection,
) -> None:
    await bobs_rows(connection)
    async with acting_as_app(connection, "mallory") as run:
        await run(FORGED_CLAIM)
        with pytest.raises(DBAPIError, match="permission denied for table audit_logs"):
            await run("UPDATE audit_logs SET user_id = 'mallory' WHERE user_id = 'bob'")
    assert await owners_of(connection, "audit_logs") == ["bob"]


@app_role
@pytest.mark.parametrize("table", ["tasks", "conversations", "panic_events"])
async def test_no_policy_lets_a_row_change_owner(connection: AsyncConnection, table: str) -> None:
    arrange = {
        "tasks": "INSERT INTO tasks (user_id, title) VALUES ('alice', 'a')",
        "conversations": "INSERT INTO conversations (id, user_id) VALUES ('c1', 'alice')",
        "panic_events": "INSERT INTO panic_events (user_id) VALUES ('alice')",
    }
    await connection.execute(text(arrange[table]))
    error = await refused(connection, f"UPDATE {table} SET user_id = 'mallory'")
    assert "row-level security" in error
    assert await owners_of(connection, table) == ["alice"]


@app_role
async def test_a_visitors_audit_entry_cannot_be_moved_by_an_update_either(
    connection: AsyncConnection,
) -> None:
    """The only move is `claim_visit`'s: the application role has no UPDATE of audit_logs."""
    await connection.execute(text(AUDIT), {"id": "visited", "user": "session:visit-1"})
    error = await refused(connection, "UPDATE audit_logs SET user_id = 'alice'")
    assert "permission denied for table audit_logs" in error


# --- claim_visit: the owner's function, given the visit credential's secret ------------------

SECRET = bytes(range(16))
VISIT = visit_id_of(SECRET)
VISITOR = f"session:{VISIT}"
CLAIM_VISIT = "SELECT moved_table, moved_rows FROM claim_visit(:secret)"
AS_OWNER = "SELECT set_config('role', 'none', true)"


async def visit_row(connection: AsyncConnection, claimed_by: str | None) -> None:
    await connection.execute(
        text("INSERT INTO sessions (session_id, claimed_by, last_seen_at)"
             " VALUES (:visit, :claimer, now())"),
        {"visit": VISIT, "claimer": claimed_by},
    )


async def visitors_and_bobs_rows(connection: AsyncConnection) -> None:
    for owner in (VISITOR, "bob"):
        await connection.execute(
            text("INSERT INTO tasks (user_id, title) VALUES (:u, 't')"), {"u": owner}
        )
        await connection.execute(text(AUDIT), {"id": f"entry-{owner}", "user": owner})


@app_role
async def test_claim_visit_moves_the_visitors_rows_to_the_claimer_the_visit_records(
    connection: AsyncConnection,
) -> None:
    await visit_row(connection, "alice")
    await visitors_and_bobs_rows(connection)
    async with acting_as_app(connection, "alice") as run:
        moved = dict((await run(CLAIM_VISIT, secret=SECRET)).all())
        await run(AS_OWNER)  # to read every owner's rows before the block undoes the move
        assert await owners_of(connection, "tasks") == ["alice", "bob"]
        assert await owners_of(connection, "audit_logs") == ["alice", "bob"]
    assert moved == {"tasks": 1, "conversations": 0, "panic_events": 0, "audit_logs": 1}


@app_role
async def test_claim_visit_moves_nothing_of_an_unclaimed_visit(
    connection: AsyncConnection,
) -> None:
    await visit_row(connection, None)
    await visitors_and_bobs_rows(connection)
    error = await refused_by_function(connection, "alice", SECRET)
    assert "no signed-in user has claimed this visit" in error
    assert await owners_of(connection, "tasks") == ["bob", VISITOR]


@app_role
async def test_claim_visit_needs_the_visits_secret_not_its_id(
    connection: AsyncConnection,
) -> None:
    """Knowing the id (an admin reads it in every audit entry's owner) aims at nothing: the
    function derives the visit from the secret it is given."""
    await visit_row(connection, "mallory")
    await visitors_and_bobs_rows(connection)
    for guess in (VISIT.encode(), bytes(16), SECRET[::-1]):
        await refused_by_function(connection, "mallory", guess)
    assert await owners_of(connection, "tasks") == ["bob", VISITOR]


@app_role
async def test_claim_visit_never_moves_to_a_visitor(connection: AsyncConnection) -> None:
    await visit_row(connection, "session:someone-else")
    await visitors_and_bobs_rows(connection)
    await refused_by_function(connection, "alice", SECRET)
    assert await owners_of(connection, "tasks") == ["bob", VISITOR]


@app_role
async def test_claim_visit_moves_the_tables_claim_session_declares(
    connection: AsyncConnection,
) -> None:
    await visit_row(connection, "alice")
    async with acting_as_app(connection, "alice") as run:
        tables = {name for name, _ in (await run(CLAIM_VISIT, secret=SECRET)).all()}
    assert tables == {inspect(model).local_table.name for model in scope.CLAIMED}


async def refused_by_function(connection: AsyncConnection, user: str, secret: bytes) -> str:
    async with acting_as_app(connection, user) as run:
        with pytest.raises(DBAPIError) as error:
            await run(CLAIM_VISIT, secret=secret)
    return str(error.value.orig)


@postgres
@pytest.mark.parametrize("function", APP_FUNCTIONS)
async def test_the_functions_run_as_the_owner_with_a_pinned_search_path_and_no_public_grant(
    connection: AsyncConnection, function: str
) -> None:
    row = (await connection.execute(
        text("SELECT prosecdef, proconfig, proacl::text FROM pg_proc"
             " WHERE oid = to_regprocedure(:f)"), {"f": function},
    )).one()
    definer, config, acl = row
    # record_changes writes the viewer's own changes: it runs as its caller, under the
    # policies (migration 0010); every other one is the owner's.
    assert definer is (not function.startswith("record_changes("))
    assert config == ["search_path=public, pg_temp"]
    assert acl is not None and not any(item.startswith("=") for item in acl.strip("{}").split(","))


# --- prune_visits -----------------------------------------------------------------------------


@app_role
async def test_prune_visits_deletes_only_what_is_past_the_retention(
    connection: AsyncConnection,
) -> None:
    for name, days in (("old", 40), ("older", 90), ("recent", 1)):
        await connection.execute(
            text("INSERT INTO sessions (session_id, last_seen_at)"
                 " VALUES (:n, now() - make_interval(days => :d))"), {"n": name, "d": days},
        )
    left = "SELECT session_id FROM sessions ORDER BY session_id"
    async with acting_as_app(connection, None) as run:
        assert (await run("SELECT prune_visits(30, 1)")).scalar() == 1
        await run(AS_OWNER)
        assert (await run(left)).scalars().all() == ["old", "recent"]  # the oldest went first
    async with acting_as_app(connection, None) as run:
        assert (await run("SELECT prune_visits(30, 100)")).scalar() == 2
        await run(AS_OWNER)
        assert (await run(left)).scalars().all() == ["recent"]


@app_role
@pytest.mark.parametrize(("days", "rows"), [(0, 10), (-5, 10), (30, 0), (30, 100_000)])
async def test_prune_visits_refuses_a_retention_under_a_day_or_an_unbounded_batch(
    connection: AsyncConnection, days: int, rows: int
) -> None:
    await connection.execute(
        text("INSERT INTO sessions (session_id, last_seen_at) VALUES ('s', now())")
    )
    async with acting_as_app(connection, None) as run:
        with pytest.raises(DBAPIError, match="prune_visits"):
            await run("SELECT prune_visits(:d, :r)", d=days, r=rows)
    assert await connection.scalar(text("SELECT count(*) FROM sessions")) == 1


@app_role
async def test_the_application_role_cannot_delete_a_visit_itself(
    connection: AsyncConnection,
) -> None:
    error = await refused(connection, "DELETE FROM sessions")
    assert "permission denied for table sessions" in error

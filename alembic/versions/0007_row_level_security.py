"""Row-level security on every owned table (PostgreSQL); append-only logs by trigger (SQLite)

PostgreSQL: every table the application reads or writes for a user gets RLS and policies keyed
on the transaction's viewer (`app.viewer`, `app.admin`, `app.visit`, `app.claim`: set per
transaction by models/rls.py). RLS is enabled, not forced: the tables' owner (migrations, the
seeder, operators) is not subject to it; the application role is. The grants themselves
(audit_logs SELECT+INSERT and UPDATE of user_id for claims, ai_logs INSERT only, ...) name a deployment's role and are made by
`clarity-graph grant ROLE` (models/privileges.py), after every migration.

SQLite: no roles and no RLS; triggers refuse UPDATE and DELETE on audit_logs and ai_logs, but
for claimSession moving a visitor's audit entries to the user who claims the visit (there is
no purge path: purging is an operator's job, on PostgreSQL as the owner).

The table list is written out here (a migration is history: it must build the same thing
whatever the code says later); tests/models/test_row_security.py checks it against
domain.scope.OWNERSHIP and the models on the live database.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VIEWER = "NULLIF(current_setting('app.viewer', true), '')"
VISIT = "NULLIF(current_setting('app.visit', true), '')"
CLAIM = "NULLIF(current_setting('app.claim', true), '')"
ADMIN = "current_setting('app.admin', true) = 'on'"

# Owned directly: the viewer's rows, and during claimSession the visitor's being moved to it.
OWNED = f"user_id = {VIEWER} OR user_id = {CLAIM}"


def _child(parent: str, link: str) -> str:
    # The parent's own policy applies inside the subquery too; the predicate is spelled out
    # anyway so that this policy reads whole.
    return f"EXISTS (SELECT 1 FROM {parent} p WHERE p.id = {link} AND p.user_id = {VIEWER})"


# table -> (policy name, command, USING, WITH CHECK); permissive policies of a table OR.
POLICIES: dict[str, list[tuple[str, str, str | None, str | None]]] = {
    "tasks": [("owner", "ALL", OWNED, f"user_id = {VIEWER}")],
    "conversations": [("owner", "ALL", OWNED, f"user_id = {VIEWER}")],
    "panic_events": [("owner", "ALL", OWNED, f"user_id = {VIEWER}")],
    "task_steps": [("owner", "ALL", _child("tasks", "task_steps.task_id"),
                    _child("tasks", "task_steps.task_id"))],
    "task_events": [("owner", "ALL", _child("tasks", "task_events.task_id"),
                     _child("tasks", "task_events.task_id"))],
    "messages": [("owner", "ALL", _child("conversations", "messages.conversation_id"),
                  _child("conversations", "messages.conversation_id"))],
    "grounding_exercises": [(
        "owner", "ALL", _child("panic_events", "grounding_exercises.panic_event_id"),
        _child("panic_events", "grounding_exercises.panic_event_id"),
    )],
    # Read: one's own, or every user's for an admin (the analytics); written: one's own.
    # No DELETE policy: with none, no row qualifies, whatever a grant says.
    # The one change: claimSession moves the visitor's entries to the viewer, and nothing
    # else (the grant allows UPDATE of user_id alone; reading the rows it moves needs the
    # reader policy to show them too).
    "audit_logs": [
        ("reader", "SELECT", f"user_id = {VIEWER} OR user_id = {CLAIM} OR {ADMIN}", None),
        ("writer", "INSERT", None, f"user_id = {VIEWER}"),
        ("claim", "UPDATE", f"user_id = {CLAIM}", f"user_id = {VIEWER}"),
    ],
    # Written for the viewer only; never read back (no SELECT policy, and no grant).
    "ai_logs": [("writer", "INSERT", None, f"user_id = {VIEWER}")],
    # The visit the request comes from (X-Session-Id), and no other.
    "sessions": [("visit", "ALL", f"session_id = {VISIT}", f"session_id = {VISIT}")],
}
APPEND_ONLY = ("audit_logs", "ai_logs")
# A visitor's owner id (domain.viewers.anonymous_user_id), spelled here: a migration stays as
# it was written, whatever the code later calls it.
VISITOR_PREFIX = "session:"


def _create_policy(table: str, name: str, command: str, using: str | None,
                   check: str | None) -> str:
    sql = f"CREATE POLICY {table}_{name} ON {table} FOR {command}"
    if using is not None:
        sql += f" USING ({using})"
    if check is not None:
        sql += f" WITH CHECK ({check})"
    return sql


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_triggers()
        return
    for table, policies in POLICIES.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        for policy in policies:
            op.execute(_create_policy(table, *policy))


def _sqlite_triggers() -> None:
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        )
    op.execute(
        "CREATE TRIGGER ai_logs_no_update BEFORE UPDATE ON ai_logs "
        "BEGIN SELECT RAISE(ABORT, 'ai_logs is append-only'); END"
    )
    # audit_logs: an UPDATE naming any column but user_id is refused; one naming user_id
    # passes only when it moves a visitor's entry ('session:<visit>') to a signed-in user,
    # which is what claimSession does. `UPDATE OF` fires on the columns an UPDATE names.
    others = [column["name"] for column in sa.inspect(op.get_bind()).get_columns("audit_logs")
              if column["name"] != "user_id"]
    op.execute(
        f"CREATE TRIGGER audit_logs_no_update BEFORE UPDATE OF {', '.join(others)} "
        "ON audit_logs BEGIN SELECT RAISE(ABORT, 'audit_logs is append-only'); END"
    )
    op.execute(
        f"CREATE TRIGGER audit_logs_claim_only BEFORE UPDATE OF user_id ON audit_logs "
        f"WHEN OLD.user_id NOT LIKE '{VISITOR_PREFIX}%' OR NEW.user_id LIKE '{VISITOR_PREFIX}%' "
        "BEGIN SELECT RAISE(ABORT, 'audit_logs is append-only'); END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("audit_logs_no_update", "audit_logs_claim_only", "audit_logs_no_delete",
                        "ai_logs_no_update", "ai_logs_no_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        return
    for table, policies in POLICIES.items():
        for name, *_ in policies:
            op.execute(f"DROP POLICY IF EXISTS {table}_{name} ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")

"""Guards against SQL: claims by the owner's function, REPLACE refused; visits pruned

PostgreSQL. Migration 0007's policies let a transaction that set `app.claim` (any statement
can: `set_config` is a function like any other) move that owner's tasks, conversations,
panic events and audit entries to its viewer. Here:
- the policies of tasks, conversations and panic_events permit no cross-owner UPDATE: the row
  must be the viewer's before and after; audit_logs loses its claim policy (and the
  application role its UPDATE of user_id: `clarity-graph grant`), so it is append-only;
- `claim_visit(secret)` moves a visitor's rows instead: SECURITY DEFINER, owned by the tables'
  owner, executable only by the roles `clarity-graph grant` names. It derives the visit id
  from the credential's secret (the first 16 bytes of its SHA-256, as a UUID: the server's
  `domain.visit_credentials.visit_id_of`), moves only rows owned by `session:<that id>`, and
  only to the signed-in user the visit's `claimed_by` records. Without the secret no visit
  can be aimed at; a signed-in user's rows are never touched;
- `prune_visits(retention_days, max_rows)` deletes at most max_rows (10,000 at most) visits
  last seen more than retention_days (at least 1) ago, oldest first: the application role
  may delete no visit itself.
Both run with `search_path` pinned (public, then pg_temp), and EXECUTE is revoked from PUBLIC.

SQLite. A REPLACE deletes the row it conflicts with, and that delete fires no DELETE trigger
unless `recursive_triggers` is on (models/database.py turns it on for every connection): an
`INSERT OR REPLACE` rewrote an audit entry's user_id or an ai_log's prompt. BEFORE INSERT
triggers now refuse a row whose id exists already, whatever the connection's pragmas.

Both: an index on sessions.last_seen_at, so a pruning run reads only what it deletes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 12:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VIEWER = "NULLIF(current_setting('app.viewer', true), '')"
CLAIM = "NULLIF(current_setting('app.claim', true), '')"
ADMIN = "current_setting('app.admin', true) = 'on'"
# A visitor's owner id (domain.viewers.anonymous_user_id), spelled here: a migration stays as
# it was written, whatever the code later calls it.
VISITOR_PREFIX = "session:"
# What claimSession moves (domain.scope.CLAIMED when this was written; tests compare).
CLAIMED_TABLES = ("tasks", "conversations", "panic_events", "audit_logs")
OWNED_DIRECTLY = ("tasks", "conversations", "panic_events")
APPEND_ONLY = ("audit_logs", "ai_logs")
PRUNE_MAX_ROWS = 10_000


def _moves() -> str:
    return "\n".join(
        f"""    moved_table := '{table}';
    UPDATE {table} SET user_id = claimer WHERE user_id = visitor;
    GET DIAGNOSTICS moved_rows = ROW_COUNT;
    RETURN NEXT;"""
        for table in CLAIMED_TABLES
    )


CLAIM_VISIT = f"""
CREATE FUNCTION claim_visit(secret bytea)
RETURNS TABLE (moved_table text, moved_rows bigint)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    visit text;
    visitor text;
    claimer text;
BEGIN
    IF secret IS NULL OR length(secret) <> 16 THEN
        RAISE EXCEPTION 'claim_visit: a visit secret has 16 bytes' USING ERRCODE = '22023';
    END IF;
    visit := encode(substring(sha256(secret) FROM 1 FOR 16), 'hex')::uuid::text;
    visitor := '{VISITOR_PREFIX}' || visit;
    SELECT s.claimed_by INTO claimer FROM sessions s WHERE s.session_id = visit FOR UPDATE;
    IF claimer IS NULL OR starts_with(claimer, '{VISITOR_PREFIX}') THEN
        RAISE EXCEPTION 'claim_visit: no signed-in user has claimed this visit'
            USING ERRCODE = '42501';
    END IF;
{_moves()}
END
$$
"""

PRUNE_VISITS = f"""
CREATE FUNCTION prune_visits(retention_days integer, max_rows integer)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    deleted integer;
BEGIN
    IF retention_days IS NULL OR retention_days < 1 THEN
        RAISE EXCEPTION 'prune_visits: the retention is at least one day' USING ERRCODE = '22023';
    END IF;
    IF max_rows IS NULL OR max_rows < 1 OR max_rows > {PRUNE_MAX_ROWS} THEN
        RAISE EXCEPTION 'prune_visits: max_rows is 1 to {PRUNE_MAX_ROWS}' USING ERRCODE = '22023';
    END IF;
    DELETE FROM sessions WHERE session_id IN (
        SELECT s.session_id FROM sessions s
        WHERE s.last_seen_at < now() - make_interval(days => retention_days)
        ORDER BY s.last_seen_at
        LIMIT max_rows
        FOR UPDATE SKIP LOCKED
    );
    GET DIAGNOSTICS deleted = ROW_COUNT;
    RETURN deleted;
END
$$
"""
FUNCTIONS = ("claim_visit(bytea)", "prune_visits(integer, integer)")


def upgrade() -> None:
    op.create_index(op.f("ix_sessions_last_seen_at"), "sessions", ["last_seen_at"])
    if op.get_bind().dialect.name == "sqlite":
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} "
                f"WHEN EXISTS (SELECT 1 FROM {table} WHERE id = NEW.id) "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )
        return
    for table in OWNED_DIRECTLY:
        _replace_policy(table, "owner", "ALL", f"user_id = {VIEWER}", f"user_id = {VIEWER}")
    op.execute("DROP POLICY audit_logs_claim ON audit_logs")
    _replace_policy("audit_logs", "reader", "SELECT", f"user_id = {VIEWER} OR {ADMIN}", None)
    op.execute(CLAIM_VISIT)
    op.execute(PRUNE_VISITS)
    for function in FUNCTIONS:
        op.execute(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_replace")
    else:
        for function in FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {function}")
        # 0007's policies, as they were.
        owned = f"user_id = {VIEWER} OR user_id = {CLAIM}"
        for table in OWNED_DIRECTLY:
            _replace_policy(table, "owner", "ALL", owned, f"user_id = {VIEWER}")
        _replace_policy("audit_logs", "reader", "SELECT",
                        f"user_id = {VIEWER} OR user_id = {CLAIM} OR {ADMIN}", None)
        op.execute(f"CREATE POLICY audit_logs_claim ON audit_logs FOR UPDATE "
                   f"USING (user_id = {CLAIM}) WITH CHECK (user_id = {VIEWER})")
    op.drop_index(op.f("ix_sessions_last_seen_at"), table_name="sessions")


def _replace_policy(table: str, name: str, command: str, using: str, check: str | None) -> None:
    op.execute(f"DROP POLICY {table}_{name} ON {table}")
    sql = f"CREATE POLICY {table}_{name} ON {table} FOR {command} USING ({using})"
    if check is not None:
        sql += f" WITH CHECK ({check})"
    op.execute(sql)

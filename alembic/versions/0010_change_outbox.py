"""The change outbox: every change announced to subscribers, kept for resuming streams

`change_outbox` (models/outbox.py): an id in commit order, the change's kind, its owner, the
changed row's key (text), and when it was recorded. Both engines: the table, an index on
(user_id, id) for a reader's page and one on created_at for pruning.

PostgreSQL:
- row-level security: the application role reads and writes its viewer's rows only, deletes
  none (no grant, and no policy for it);
- `record_changes(kinds, owners, keys)`: SECURITY INVOKER (row-level security applies to its
  insert): takes the transaction-level advisory lock OUTBOX_LOCK (held until the commit, so
  ids are drawn in commit order), inserts one row per change, and wakes every process's
  readers with one NOTIFY per owner on channel `clarity_events`: `[owner, {kind: count},
  highest id]`. Returns the ids, in the order given;
- `prune_changes(retention_seconds, max_rows)`: SECURITY DEFINER, owned by the tables' owner:
  deletes at most max_rows (10,000 at most) rows, oldest first, only among ids up to the last
  one recorded more than retention_seconds (at least 1) ago.
- `last_change_id()`: SECURITY DEFINER: the highest id recorded, every owner's (an id, no
  more: ids are global like every other table's), where a starting process's streams begin.
All run with `search_path` pinned; EXECUTE is revoked from PUBLIC (`clarity-graph grant`
gives it to the application role).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VIEWER = "NULLIF(current_setting('app.viewer', true), '')"
# Any constant: the one advisory lock of the outbox ("clarity" in ASCII, as a number).
OUTBOX_LOCK = 0x636C6172697479
CHANNEL = "clarity_events"
PRUNE_MAX_ROWS = 10_000

RECORD_CHANGES = f"""
CREATE FUNCTION record_changes(kinds text[], owners text[], keys text[])
RETURNS SETOF bigint
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = public, pg_temp
AS $$
DECLARE
    ids bigint[] := '{{}}';
    new_id bigint;
    wake text;
BEGIN
    IF cardinality(kinds) <> cardinality(owners) OR cardinality(kinds) <> cardinality(keys) THEN
        RAISE EXCEPTION 'record_changes: one kind, owner and key per change'
            USING ERRCODE = '22023';
    END IF;
    -- Held until this transaction ends: no other transaction draws an id until this one's
    -- rows are visible, so ids are commit order (docs/decisions.md).
    PERFORM pg_advisory_xact_lock({OUTBOX_LOCK});
    FOR i IN 1 .. cardinality(kinds) LOOP
        INSERT INTO change_outbox (kind, user_id, key, created_at)
        VALUES (kinds[i], owners[i], keys[i], clock_timestamp())
        RETURNING id INTO new_id;
        ids := ids || new_id;
        RETURN NEXT new_id;
    END LOOP;
    FOR wake IN
        SELECT json_build_array(c.owner, json_object_agg(c.kind, c.n), max(c.last))::text
        FROM (SELECT u.owner, u.kind, count(*) AS n, max(u.id) AS last
              FROM unnest(owners, kinds, ids) AS u(owner, kind, id)
              GROUP BY u.owner, u.kind) AS c
        GROUP BY c.owner
    LOOP
        PERFORM pg_notify('{CHANNEL}', wake);
    END LOOP;
END
$$
"""

PRUNE_CHANGES = f"""
CREATE FUNCTION prune_changes(retention_seconds integer, max_rows integer)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    bound bigint;
    deleted integer;
BEGIN
    IF retention_seconds IS NULL OR retention_seconds < 1 THEN
        RAISE EXCEPTION 'prune_changes: the retention is at least one second'
            USING ERRCODE = '22023';
    END IF;
    IF max_rows IS NULL OR max_rows < 1 OR max_rows > {PRUNE_MAX_ROWS} THEN
        RAISE EXCEPTION 'prune_changes: max_rows is 1 to {PRUNE_MAX_ROWS}'
            USING ERRCODE = '22023';
    END IF;
    SELECT max(o.id) INTO bound FROM change_outbox o
    WHERE o.created_at < clock_timestamp() - make_interval(secs => retention_seconds);
    IF bound IS NULL THEN
        RETURN 0;
    END IF;
    DELETE FROM change_outbox WHERE id IN (
        SELECT o.id FROM change_outbox o WHERE o.id <= bound ORDER BY o.id LIMIT max_rows
    );
    GET DIAGNOSTICS deleted = ROW_COUNT;
    RETURN deleted;
END
$$
"""
LAST_CHANGE_ID = """
CREATE FUNCTION last_change_id()
RETURNS bigint
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$ SELECT coalesce(max(id), 0) FROM change_outbox $$
"""
FUNCTIONS = ("record_changes(text[], text[], text[])", "prune_changes(integer, integer)",
             "last_change_id()")


def upgrade() -> None:
    op.create_table(
        "change_outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  autoincrement=True, nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_outbox")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_change_outbox_user_id_id", "change_outbox", ["user_id", "id"])
    op.create_index(op.f("ix_change_outbox_created_at"), "change_outbox", ["created_at"])
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute("ALTER TABLE change_outbox ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY change_outbox_owner ON change_outbox FOR ALL "
               f"USING (user_id = {VIEWER}) WITH CHECK (user_id = {VIEWER})")
    op.execute(RECORD_CHANGES)
    op.execute(PRUNE_CHANGES)
    op.execute(LAST_CHANGE_ID)
    for function in FUNCTIONS:
        op.execute(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        for function in FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {function}")
    op.drop_index(op.f("ix_change_outbox_created_at"), table_name="change_outbox")
    op.drop_index("ix_change_outbox_user_id_id", table_name="change_outbox")
    op.drop_table("change_outbox")

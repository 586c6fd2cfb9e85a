"""Every list filterable and orderable: folded titles and texts, and an index per order

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 09:00:00
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FOLDED = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
KEY_MAX_BYTES = 1_200
BATCH = 1_000

# (table, source column, folded column, cut to an index key, NOT NULL)
FOLDED_COLUMNS = (
    ("tasks", "title", "title_folded", True, True),
    ("tasks", "description", "description_folded", False, False),
    ("conversations", "title", "title_folded", True, False),
    ("messages", "content", "content_folded", False, True),
)

_UNRESOLVED = sa.text("resolved_at IS NULL")

# (name, table, columns); the partial one is created on its own below.
INDEXES = (
    ("ix_tasks_user_id_updated_at_id", "tasks", ["user_id", "updated_at", "id"]),
    ("ix_tasks_user_id_title_folded_id", "tasks", ["user_id", "title_folded", "id"]),
    ("ix_conversations_user_id_updated_at_id", "conversations", ["user_id", "updated_at", "id"]),
    ("ix_conversations_user_id_created_at_id", "conversations", ["user_id", "created_at", "id"]),
    ("ix_conversations_user_id_title_folded_id", "conversations",
     ["user_id", "title_folded", "id"]),
    ("ix_panic_events_user_id_created_at_id", "panic_events", ["user_id", "created_at", "id"]),
    ("ix_panic_events_user_id_intensity_id", "panic_events", ["user_id", "intensity", "id"]),
    ("ix_audit_logs_user_id_generation_time_ms_id", "audit_logs",
     ["user_id", "generation_time_ms", "id"]),
    ("ix_audit_logs_user_id_tokens_used_id", "audit_logs", ["user_id", "tokens_used", "id"]),
    ("ix_audit_logs_generation_time_ms_id", "audit_logs", ["generation_time_ms", "id"]),
    ("ix_audit_logs_tokens_used_id", "audit_logs", ["tokens_used", "id"]),
)


def fold(text: str | None, key: bool) -> str | None:
    """models/folding.py as of this revision (a migration must not change with the code):
    Unicode's canonical caseless form, an index key cut to 1,200 UTF-8 bytes."""
    if text is None:
        return None
    whole = unicodedata.normalize("NFD", unicodedata.normalize("NFD", text).casefold())
    encoded = whole.encode("utf-8")
    if not key or len(encoded) <= KEY_MAX_BYTES:
        return whole
    return encoded[:KEY_MAX_BYTES].decode("utf-8", "ignore")


def backfill(table: str, source: str, target: str, key: bool) -> None:
    """Fold every existing row, a batch at a time in id order (keyset, not offsets)."""
    rows = sa.table(table, sa.column("id"), sa.column(source), sa.column(target))
    bind = op.get_bind()
    last = None
    while True:
        page = sa.select(rows.c.id, rows.c[source]).order_by(rows.c.id).limit(BATCH)
        if last is not None:
            page = page.where(rows.c.id > last)
        found = bind.execute(page).all()
        if not found:
            return
        update = (
            sa.update(rows).where(rows.c.id == sa.bindparam("row_id"))
            .values({target: sa.bindparam("folded")})
        )
        bind.execute(update, [{"row_id": i, "folded": fold(text, key)} for i, text in found])
        last = found[-1][0]


def upgrade() -> None:
    # Added without a table rebuild on SQLite (a rebuild of tasks or messages would cascade
    # deletes to their children and lose AUTOINCREMENT's high-water mark): a NOT NULL column
    # comes with a server default of '' that the backfill then replaces.
    for table, _source, target, _key, required in FOLDED_COLUMNS:
        column = (
            sa.Column(target, FOLDED, server_default="", nullable=False) if required
            else sa.Column(target, FOLDED, nullable=True)
        )
        op.add_column(table, column)
    for table, source, target, key, _required in FOLDED_COLUMNS:
        backfill(table, source, target, key)
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)
    op.create_index(
        "ix_panic_events_unresolved_user_id_created_at_id", "panic_events",
        ["user_id", "created_at", "id"], unique=False,
        sqlite_where=_UNRESOLVED, postgresql_where=_UNRESOLVED,
    )


def downgrade() -> None:
    op.drop_index("ix_panic_events_unresolved_user_id_created_at_id", table_name="panic_events")
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    # ALTER TABLE ... DROP COLUMN, not a rebuild, on SQLite too (3.35 and later).
    for table, _source, target, _key, _required in reversed(FOLDED_COLUMNS):
        op.drop_column(table, target)

"""conversations.focus_task_id and conversations.pending_action: what the assistant remembers
between messages (the task "it" means; a proposal waiting for its yes)

Independent of any other revision's tables: two nullable columns on conversations.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.add_column("conversations", sa.Column("focus_task_id", sa.Integer(), nullable=True))
    op.add_column("conversations", sa.Column("pending_action", JSON, nullable=True))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN, not a batch rebuild, on SQLite too (3.35 and later): a
    # rebuild drops the old conversations table, and its ON DELETE CASCADE took the messages.
    op.drop_column("conversations", "pending_action")
    op.drop_column("conversations", "focus_task_id")

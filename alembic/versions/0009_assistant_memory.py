"""conversations.focus_task_id and conversations.pending_action: what the assistant remembers
between messages (the task "it" means; a proposal waiting for its yes)

Independent of any other revision's tables: two nullable columns on conversations.

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-07 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("focus_task_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("pending_action", JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("pending_action")
        batch_op.drop_column("focus_task_id")

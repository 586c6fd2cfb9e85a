"""conversations.listing (the task list the assistant last showed) and ai_logs.request_id

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 07:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("listing", JSON, nullable=True))
    with op.batch_alter_table("ai_logs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_id", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ai_logs", schema=None) as batch_op:
        batch_op.drop_column("request_id")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("listing")

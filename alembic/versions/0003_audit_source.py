"""audit_logs: source, so a server's own generation is told apart from a client's claim

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every row before this revision came through `recordGeneration`: a client's claim, so
    # the server default fills them in as 'client'. No index: two values, and every filter
    # on it is combined with the user and time columns that are indexed.
    with op.batch_alter_table("audit_logs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(length=10), server_default="client", nullable=False)
        )
        batch_op.create_check_constraint(
            op.f("ck_audit_logs_source"), "source IN ('server', 'client')"
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_logs", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_audit_logs_source"), type_="check")
        batch_op.drop_column("source")

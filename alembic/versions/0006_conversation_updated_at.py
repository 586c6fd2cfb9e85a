"""conversations.updated_at is the last message's time (its creation time with none)

Before, the column moved on every write to the row (an ORM `onupdate`): a rename, storing the
assistant's list a moment after the reply, a claim. Only data changes; the schema stays.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # One statement on both databases: a correlated subquery, no UPDATE ... FROM (SQLite
    # before 3.33 has none).
    op.execute(sa.text(
        "UPDATE conversations SET updated_at = COALESCE("
        " (SELECT max(messages.created_at) FROM messages"
        "  WHERE messages.conversation_id = conversations.id),"
        " conversations.created_at)"
    ))


def downgrade() -> None:
    # The times it replaced recorded no event worth restoring; nothing to undo in the schema.
    pass

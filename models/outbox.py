"""The change outbox: every change announced to subscribers, kept for a while so a client
that lost its connection can resume after the last change it received (graph/live/).

A row is written in the transaction that makes the change (`domain.events.record`, just
before the commit), so a rolled-back change leaves none and a committed one always has one.
Its id is the change's place in commit order: on SQLite a single writer commits at a time;
on PostgreSQL the insert is made under a transaction-level advisory lock held until the
commit (docs/decisions.md, "Resumable live changes"), so no transaction draws a later id and
commits first. Rows are pruned after CHANGE_RETENTION_SECONDS (`prune_changes`), oldest
first, a prefix of ids at a time: a cursor whose row is still there has lost nothing after
it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import NEVER_REUSE_IDS, Base, created_at_column

# SQLite's INTEGER PRIMARY KEY is its rowid (BIGINT would not be); PostgreSQL's is 64 bits.
OUTBOX_ID = BigInteger().with_variant(Integer(), "sqlite")


class ChangeOutbox(Base):
    __tablename__ = "change_outbox"
    __table_args__ = (
        # A reader's page: one owner's changes after an id, in id order.
        Index("ix_change_outbox_user_id_id", "user_id", "id"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(OUTBOX_ID, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(Text)  # a domain.events.EventKind
    user_id: Mapped[str] = mapped_column(Text)  # the owner: the only viewer who reads it
    key: Mapped[str] = mapped_column(Text)  # the changed row's key, as text
    # Indexed: pruning finds the newest row past the retention.
    created_at: Mapped[datetime] = created_at_column(index=True)

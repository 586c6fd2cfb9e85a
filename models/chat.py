"""Conversations with the assistant and their messages (seed 003)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import NEVER_REUSE_IDS, Base, check_in, created_at_column, utcnow
from models.folding import folded_column, keep_folded

MESSAGE_ROLES = ("user", "assistant")
CONVERSATION_TITLE_MAX = 200
MESSAGE_CONTENT_MAX = 32_000


def new_uuid() -> str:
    return str(uuid.uuid4())


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        # Every order of `conversations` on the owner's rows, the id last (the tie-break).
        Index("ix_conversations_user_id_updated_at_id", "user_id", "updated_at", "id"),
        Index("ix_conversations_user_id_created_at_id", "user_id", "created_at", "id"),
        Index("ix_conversations_user_id_title_folded_id", "user_id", "title_folded", "id"),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True, default=new_uuid)
    user_id: Mapped[str] = mapped_column(Text, index=True)
    title: Mapped[str | None] = mapped_column(String(CONVERSATION_TITLE_MAX))
    # models/folding.py: what TITLE ordering and `search` compare; null while untitled.
    title_folded: Mapped[str | None] = folded_column("title", key=True, nullable=True)
    # The task list the assistant last showed here, so "complete 3" means the third line the
    # user saw: {"status", "search", "offset", "ids"} (domain.assistant.tools.Listing).
    listing: Mapped[dict[str, Any] | None]
    # The task this conversation last named or acted on: what "it" means to the assistant
    # (domain/assistant/references.py). No foreign key: a deleted task leaves a stale id,
    # which resolves to nothing through the viewer's scope, and the next turn clears it.
    focus_task_id: Mapped[int | None] = mapped_column(Integer)
    # What waits for the next message: a proposal to confirm, or an unclear reference to
    # clarify, with its expiry (domain/assistant/confirm.py: Pending). Null: nothing waits.
    pending_action: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = created_at_column(index=True)
    # The last message's time (its creation time while it has none), set by
    # domain.chat.add_message alone: no `onupdate`, which moved it on a rename, on storing the
    # assistant's list and on a claim.
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())

    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation", lazy="raise", passive_deletes=True
    )


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint(check_in("role", MESSAGE_ROLES), name="role"),
        Index("ix_messages_conversation_id_created_at_id", "conversation_id", "created_at", "id"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        Text, ForeignKey("conversations.id", ondelete="CASCADE")
    )
    role: Mapped[str] = mapped_column(String(20))
    content: Mapped[str] = mapped_column(Text)
    # models/folding.py: what `MessageFilter.search` compares.
    content_folded: Mapped[str] = folded_column("content")
    created_at: Mapped[datetime] = created_at_column()

    conversation: Mapped[Conversation] = relationship(back_populates="messages", lazy="raise")


keep_folded(Conversation.title, "title_folded", key=True)
keep_folded(Message.content, "content_folded")

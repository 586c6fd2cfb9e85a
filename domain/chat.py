"""Chat writes: conversations and their messages.

A conversation's `updated_at` is its last message's time (domain.md: it "moves with every new
message"), or its creation time while it has none: only `add_message` moves it, so renaming,
the assistant's list and a claim leave it where it is, and a chat sidebar ordered by it
shows the last activity.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from domain import scope
from domain.errors import NotFound
from domain.events import EventKind, stage
from models import Conversation, Message
from models.base import utcnow


async def owned_conversation(
    session: AsyncSession, user_id: str, conversation_id: str, *, lock: bool = False
) -> Conversation:
    """The viewer's conversation; with `lock`, locked for this transaction (FOR UPDATE) and
    read afresh, so two turns of one conversation take turns with its memory."""
    statement = scope.owned(Conversation, user_id).where(Conversation.id == conversation_id)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    conversation: Conversation | None = await session.scalar(statement)
    if conversation is None:
        raise NotFound(Conversation, conversation_id)
    return conversation


async def start_conversation(
    session: AsyncSession, user_id: str, title: str | None
) -> Conversation:
    now = utcnow()
    conversation = Conversation(user_id=user_id, title=title, created_at=now, updated_at=now)
    session.add(conversation)
    await session.flush()
    stage(session, EventKind.CONVERSATION_CREATED, user_id, conversation)
    return conversation


async def rename_conversation(
    session: AsyncSession, conversation: Conversation, title: str | None
) -> Conversation:
    """Set the title (None clears it); announced only when it changed."""
    if conversation.title != title:
        conversation.title = title
        await session.flush()
        stage(session, EventKind.CONVERSATION_RENAMED, conversation.user_id, conversation)
    return conversation


async def add_message(
    session: AsyncSession, conversation: Conversation, role: str, content: str
) -> Message:
    now = utcnow()
    message = Message(conversation_id=conversation.id, role=role, content=content, created_at=now)
    session.add(message)
    conversation.updated_at = message.created_at
    await session.flush()
    stage(session, EventKind.MESSAGE, conversation.user_id, message)
    return message


async def delete_conversation(session: AsyncSession, conversation: Conversation) -> None:
    await session.execute(delete(Conversation).where(Conversation.id == conversation.id))
    stage(session, EventKind.CONVERSATION_DELETED, conversation.user_id, conversation.id)


async def store_exchange(
    session: AsyncSession, conversation: Conversation, content: str, reply: str, *,
    memory: dict[str, Any], title: str | None,
) -> tuple[Message, Message]:
    """The user's message and the assistant's reply, stored together, with what the
    assistant remembers after the turn (`memory`: the columns `listing`, `focus_task_id`
    and `pending_action`) and a first title."""
    mine = await add_message(session, conversation, "user", content)
    theirs = await add_message(session, conversation, "assistant", reply or "…")
    conversation.listing = memory.get("listing")
    conversation.focus_task_id = memory.get("focus_task_id")
    conversation.pending_action = memory.get("pending_action")
    if conversation.title is None:
        conversation.title = title
    await session.flush()
    return mine, theirs

"""Chat writes: conversations and their messages, the checks of what a viewer sends, and the
use cases of renaming and deleting a conversation (a message and its answer are the
assistant's: `domain.assistant.conversation`).

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
from domain.errors import NotFound, Ref
from domain.events import EventKind, stage
from domain.validation import Checks, text_problem
from models import Conversation, Message
from models.base import utcnow
from models.chat import CONVERSATION_TITLE_MAX, MESSAGE_CONTENT_MAX


def message_content(checks: Checks, field: str, content: str | None) -> str:
    """A message as sent (not trimmed): not blank, storable, within its limit."""
    if content is None or not content.strip():
        checks.fail(field, "must not be empty")
    elif (problem := text_problem(content)) is not None:  # NUL, lone surrogates
        checks.fail(field, problem)
    elif len(content) > MESSAGE_CONTENT_MAX:
        checks.fail(field, f"must be at most {MESSAGE_CONTENT_MAX} characters")
    return content or ""


def title_text(checks: Checks, title: str | None) -> str | None:
    """A conversation's title, trimmed; None (no title) when null or blank."""
    return checks.text("title", title, max_len=CONVERSATION_TITLE_MAX, required=False) or None


async def rename(
    session: AsyncSession, user_id: str, conversation: Ref[str], title: str | None
) -> Conversation:
    """The viewer's conversation with a new title (null or blank clears it)."""
    found = await owned_conversation(session, user_id, conversation.key_of(Conversation))
    checks = Checks()
    text = title_text(checks, title)
    checks.raise_if_any()
    return await rename_conversation(session, found, text)


async def remove(session: AsyncSession, user_id: str, conversation: Ref[str]) -> Conversation:
    """The viewer's conversation deleted with its messages; answers it (its key), gone."""
    found = await owned_conversation(session, user_id, conversation.key_of(Conversation))
    await delete_conversation(session, found)
    return found


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

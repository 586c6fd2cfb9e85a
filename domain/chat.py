"""Chat writes: conversations, messages, and carrying out the chatbot's commands."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from domain import scope
from domain import tasks as task_service
from domain.assistant.chatbot import HELP, Command
from domain.errors import NotFound
from domain.events import stage
from models import Conversation, Message, Task
from models.base import utcnow
from models.task import TITLE_MAX

LIST_LIMIT = 20


async def owned_conversation(
    session: AsyncSession, user_id: str, conversation_id: str
) -> Conversation:
    conversation: Conversation | None = await session.scalar(
        scope.owned(Conversation, user_id).where(Conversation.id == conversation_id)
    )
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
    return conversation


async def add_message(
    session: AsyncSession, conversation: Conversation, role: str, content: str
) -> Message:
    now = utcnow()
    message = Message(conversation_id=conversation.id, role=role, content=content, created_at=now)
    session.add(message)
    conversation.updated_at = now
    await session.flush()
    stage(session, "message", conversation.user_id, message)
    return message


async def delete_conversation(session: AsyncSession, conversation: Conversation) -> None:
    await session.execute(delete(Conversation).where(Conversation.id == conversation.id))


async def carry_out(
    session: AsyncSession, command: Command, *, user_id: str, session_id: str | None
) -> str:
    """Do what the command asks on the viewer's own tasks; return the reply's words."""
    if command.action == "help":
        return HELP
    if command.action == "add":
        title = (command.title or "").strip()[:TITLE_MAX]
        task = await task_service.create_task(
            session, user_id=user_id, session_id=session_id, values={"title": title}
        )
        return f"Added task #{task.id}: {task.title}"
    if command.action == "list":
        return await _list(session, user_id)
    number = command.task_number or 0
    try:
        task = await task_service.owned_task(session, user_id, number)
    except NotFound:
        return f"I can't find task #{number}. Say \"list my tasks\" to see them."
    if command.action == "complete":
        await task_service.set_status(session, task, "completed")
        return f"Marked task #{task.id} as completed: {task.title}"
    await task_service.delete_task(session, task)
    return f"Deleted task #{task.id}: {task.title}"


async def _list(session: AsyncSession, user_id: str) -> str:
    tasks = list(
        await session.scalars(
            scope.owned(Task, user_id)
            .where(Task.status.in_(("pending", "in_progress")))
            .order_by(Task.created_at, Task.id)
            .limit(LIST_LIMIT + 1)
        )
    )
    if not tasks:
        return "You have no open tasks. Say \"add task: ...\" to add one."
    lines = [
        f"#{task.id} {task.title} ({task.status.replace('_', ' ')})" for task in tasks[:LIST_LIMIT]
    ]
    more = "\n…and more." if len(tasks) > LIST_LIMIT else ""
    return "Your open tasks:\n" + "\n".join(lines) + more

"""What a live delivery reads: the row an event names, as the subscriber may see it.

Each read is scoped to the subscriber (`domain.scope`): what is not theirs by then is None,
and is not delivered. Reads go through the delivery's `Reader` (graph's RequestDatabase:
a session of its own per delivery, acting for the subscriber, so row-level security reads
it too).
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import Executable

from domain import scope
from models import Conversation, Message, TaskEvent


class Reader(Protocol):
    async def scalar(self, statement: Executable) -> Any: ...


async def owned_row(db: Reader, user_id: str, model: Any, key: object) -> Any:
    """The subscriber's row of `model` by key, or None."""
    return await db.scalar(scope.owned(model, user_id).where(model.id == key))


async def task_event(db: Reader, user_id: str, key: object) -> TaskEvent | None:
    found: TaskEvent | None = await owned_row(db, user_id, TaskEvent, key)
    return found


async def owns_conversation(db: Reader, user_id: str, key: str) -> bool:
    """Whether the conversation is the subscriber's (its key alone is read)."""
    return bool(await db.scalar(
        scope.owned_columns(Conversation, user_id, Conversation.id)
        .where(Conversation.id == key)))


async def conversation_message(
    db: Reader, user_id: str, conversation_id: str, key: object
) -> Message | None:
    """The subscriber's message by key, if it is of that conversation."""
    found: Message | None = await db.scalar(
        scope.owned(Message, user_id)
        .where(Message.id == key, Message.conversation_id == conversation_id))
    return found

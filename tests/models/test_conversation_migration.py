"""Migration 0006: a conversation's `updated_at` becomes its last message's time (its
creation time with none), on the test's database. Each test's rollback undoes the round trip."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from graph.migrations import downgrade_connection, upgrade_connection
from models import Conversation, Message

CREATED = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
LAST_MESSAGE = datetime(2026, 1, 2, 9, 0, tzinfo=UTC)
RENAMED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # what the old `onupdate` left behind


async def updated_at(connection: AsyncConnection, conversation_id: str) -> datetime:
    value = await connection.scalar(
        select(Conversation.updated_at).where(Conversation.id == conversation_id)
    )
    assert isinstance(value, datetime)
    return value


async def test_updated_at_becomes_the_last_messages_time_or_the_creation_time(
    connection: AsyncConnection,
) -> None:
    await connection.run_sync(downgrade_connection, "0005")
    await connection.execute(insert(Conversation), [
        {"id": "chatty", "user_id": "alice", "created_at": CREATED, "updated_at": RENAMED},
        {"id": "silent", "user_id": "alice", "created_at": CREATED, "updated_at": RENAMED},
    ])
    await connection.execute(insert(Message), [
        {"conversation_id": "chatty", "role": "user", "content": "hi", "created_at": CREATED},
        {"conversation_id": "chatty", "role": "assistant", "content": "hello",
         "created_at": LAST_MESSAGE},
    ])

    await connection.run_sync(upgrade_connection, "0006")

    assert await updated_at(connection, "chatty") == LAST_MESSAGE
    assert await updated_at(connection, "silent") == CREATED
    assert await connection.scalar(text("SELECT count(*) FROM conversations")) == 2

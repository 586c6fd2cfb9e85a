"""Subscriptions: `messageAdded(conversationId)` and `taskEvents`, for the viewer's own rows."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated, Any

import strawberry
from sqlalchemy import Select

import models
from domain import scope
from graph.context import Context, Info
from graph.errors import ClientError
from graph.ids import decode_key
from graph.types.chat import Message
from graph.types.task import TaskEvent


async def _load(context: Context, statement: Select[Any]) -> Any:
    # A short session per delivery: a long-lived one would hold a connection (and, on
    # SQLite, an old snapshot) for as long as the subscription lives. It acts for the
    # subscriber, like the request's own (row-level security reads it).
    async with context.db.short_session() as session:
        return await session.scalar(statement)


async def _events(context: Context, kind: str) -> AsyncGenerator[int, None]:
    async with context.resources.broker.subscribe(context.user_id) as queue:
        while True:
            # The previous delivery's nested fields are resolved by now: end its read
            # transaction and forget its cached rows, so waiting holds no connection and the
            # next delivery reads fresh data.
            await context.db.release()
            event = await queue.get()
            if event.kind == kind:
                yield event.row_id


@strawberry.type(description=(
    "Live events, over the WebSocket only (graphql-transport-ws; the token goes in "
    "connection_init). Delivery is at most once: nothing missed while disconnected is replayed."
))
class Subscription:
    @strawberry.subscription(description=(
        "New messages of one of the viewer's conversations, the viewer's and the assistant's, "
        "as they are stored."
    ))
    async def message_added(
        self, info: Info,
        conversation_id: Annotated[strawberry.ID, strawberry.argument(description=(
            "The conversation's global id; a missing one or another user's is a NOT_FOUND error."
        ))],
    ) -> AsyncGenerator[Message, None]:
        context = info.context
        user_id = context.user_id
        key = decode_key(conversation_id, "Conversation")
        owned = key is not None and await _load(
            context,
            scope.owned_columns(models.Conversation, user_id, models.Conversation.id)
            .where(models.Conversation.id == key),
        )
        if not owned:
            raise ClientError("Not found.", code="NOT_FOUND")
        async for row_id in _events(context, "message"):
            row = await _load(
                context,
                scope.owned(models.Message, user_id).where(
                    models.Message.id == row_id, models.Message.conversation_id == key
                ),
            )
            if row is not None:
                yield Message.from_model(row)

    @strawberry.subscription(
        description="Every change to any of the viewer's tasks, as its TaskEvent."
    )
    async def task_events(self, info: Info) -> AsyncGenerator[TaskEvent, None]:
        context = info.context
        user_id = context.user_id
        async for row_id in _events(context, "task_event"):
            statement = scope.owned(models.TaskEvent, user_id).where(models.TaskEvent.id == row_id)
            row = await _load(context, statement)
            if row is not None:
                yield TaskEvent.from_model(row)

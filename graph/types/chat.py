"""Conversation and Message, mapped from their models; messages come through loaders."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry import relay

import models
from graph.context import Info
from graph.execution.loaders import MESSAGE_SORT
from graph.execution.pagination import (
    After,
    Before,
    Connection,
    First,
    Last,
    fetch_child_connection,
)


@strawberry.enum(description="Who wrote a message.")
class MessageRole(Enum):
    _value_: str  # for mypy: `.value` is this text; enum_value() only adds a description
    USER = strawberry.enum_value("user", description="The viewer, through sendMessage.")
    ASSISTANT = strawberry.enum_value("assistant", description="The assistant's reply.")


@strawberry.type(description="One message of a conversation. Never edited.")
class Message(relay.Node):
    id: relay.NodeID[int]
    role: MessageRole = strawberry.field(description="Who wrote it.")
    content: str = strawberry.field(
        description="The text; the viewer's messages are 1..32,000 characters, as sent."
    )
    created_at: datetime = strawberry.field(description="When it was stored.")
    _conversation_id: strawberry.Private[str]

    @classmethod
    def from_model(cls, message: models.Message) -> Message:
        return cls(
            id=message.id,
            role=MessageRole(message.role),
            content=message.content,
            created_at=message.created_at,
            _conversation_id=message.conversation_id,
        )

    @strawberry.field(
        description="The conversation it belongs to; null only if that was deleted meanwhile."
    )
    async def conversation(self, info: Info) -> Conversation | None:
        loader = info.context.loaders.by_id(models.Conversation)
        model = await loader.load(self._conversation_id)
        return Conversation.from_model(model) if model is not None else None



@strawberry.type(description="A conversation with the assistant.")
class Conversation(relay.Node):
    id: relay.NodeID[str]
    title: str | None = strawberry.field(description=(
        "Up to 200 characters; null until given or taken from the first message."
    ))
    created_at: datetime = strawberry.field(description="When it was started.")
    updated_at: datetime = strawberry.field(description="Moves with every new message.")

    @classmethod
    def from_model(cls, conversation: models.Conversation) -> Conversation:
        return cls(
            id=conversation.id,
            title=conversation.title,
            created_at=conversation.created_at,
            updated_at=conversation.updated_at,
        )

    @strawberry.field(description="How many messages it holds, both roles.")
    async def message_count(self, info: Info) -> int:
        return int(await info.context.loaders.message_counts.load(self.id))

    @strawberry.field(description="The newest message, if any.")
    async def last_message(self, info: Info) -> Message | None:
        model = await info.context.loaders.last_message.load(self.id)
        return Message.from_model(model) if model is not None else None

    @strawberry.field(description=(
        "Its messages, oldest first (by time, then id); `last: 50` is the newest 50, still "
        "oldest first."
    ))
    async def messages(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Message]:
        loaders = info.context.loaders
        return await fetch_child_connection(
            loaders.messages, loaders.message_counts, self.id, MESSAGE_SORT, Message.from_model,
            first=first, after=after, last=last, before=before,
            max_size=info.context.settings.max_page_size,
        )


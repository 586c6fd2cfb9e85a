"""Conversation and Message, mapped from their models; messages come through loaders."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry import relay

from graph.context import Info
from graph.loaders import MESSAGE_SORT
from graph.pagination import Connection, fetch_child_connection
from models import chat as chat_model


@strawberry.enum(description="Who wrote a message.")
class MessageRole(Enum):
    USER = "user"
    ASSISTANT = "assistant"


@strawberry.type(description="One message of a conversation.")
class Message(relay.Node):
    id: relay.NodeID[int]
    role: MessageRole
    content: str
    created_at: datetime
    _conversation_id: strawberry.Private[str]

    @classmethod
    def from_model(cls, message: chat_model.Message) -> Message:
        return cls(
            id=message.id,
            role=MessageRole(message.role),
            content=message.content,
            created_at=message.created_at,
            _conversation_id=message.conversation_id,
        )

    @strawberry.field
    async def conversation(self, info: Info) -> Conversation | None:
        model = await info.context.loaders.conversation.load(self._conversation_id)
        return Conversation.from_model(model) if model is not None else None



@strawberry.type(description="A conversation with the assistant.")
class Conversation(relay.Node):
    id: relay.NodeID[str]
    title: str | None
    created_at: datetime
    updated_at: datetime = strawberry.field(description="Moves with every new message.")

    @classmethod
    def from_model(cls, conversation: chat_model.Conversation) -> Conversation:
        return cls(
            id=conversation.id,
            title=conversation.title,
            created_at=conversation.created_at,
            updated_at=conversation.updated_at,
        )

    @strawberry.field
    async def message_count(self, info: Info) -> int:
        return int(await info.context.loaders.message_counts.load(self.id))

    @strawberry.field(description="The newest message, if any.")
    async def last_message(self, info: Info) -> Message | None:
        model = await info.context.loaders.last_message.load(self.id)
        return Message.from_model(model) if model is not None else None

    @strawberry.field(description="Chronological; `last: 50` is the newest 50, oldest first.")
    async def messages(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Message]:
        loaders = info.context.loaders
        return await fetch_child_connection(
            loaders.messages, loaders.message_counts, self.id, MESSAGE_SORT, Message.from_model,
            first=first, after=after, last=last, before=before,
            max_size=info.context.settings.max_page_size,
        )


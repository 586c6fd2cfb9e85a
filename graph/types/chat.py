"""Conversation and Message, mapped from their models, and the filter and order inputs of
their lists; messages come through loaders."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry import relay

import models
from domain import lists
from graph.context import Info
from graph.execution.keyset import SortColumn
from graph.execution.pagination import (
    After,
    Before,
    Connection,
    First,
    Last,
    Page,
    fetch_child_connection,
)
from graph.types.ordering import (
    FOLDED_ORDER,
    NO_VALUE_LAST,
    SEARCH_NOTE,
    TIES,
    OrderDirection,
    SortKey,
    after,
    before,
    keyset_sort,
)


@strawberry.enum(description="Who wrote a message.")
class MessageRole(Enum):
    _value_: str  # for mypy: `.value` is this text; enum_value() only adds a description
    USER = strawberry.enum_value("user", description="The viewer, through sendMessage.")
    ASSISTANT = strawberry.enum_value("assistant", description="The assistant's reply.")


@strawberry.enum(description=f"What a conversation's messages are sorted by; {TIES}.")
class MessageOrderField(Enum):
    _value_: str  # for mypy: `.value` is this text; enum_value() only adds a description
    CREATED_AT = strawberry.enum_value(
        "created_at", description="When each was stored: the conversation's own order."
    )


@strawberry.input(description=f"Message ordering; {TIES}.")
class MessageOrder:
    field: MessageOrderField = strawberry.field(
        default=MessageOrderField.CREATED_AT, description="What to sort by; CREATED_AT."
    )
    direction: OrderDirection = strawberry.field(default=OrderDirection.ASC, description=(
        "Which way; ASC (oldest first, as a chat reads) by default, DESC for newest first."
    ))


@strawberry.input(description="All given conditions must hold; null or omitted ones do not apply.")
class MessageFilter:
    role: MessageRole | None = strawberry.field(
        default=None, description="Only the viewer's messages (USER) or only the replies."
    )
    search: str | None = strawberry.field(
        default=None, description=f"The content contains this, {SEARCH_NOTE}"
    )
    created_after: datetime | None = strawberry.field(default=None, description=after("Stored"))
    created_before: datetime | None = strawberry.field(
        default=None, description=before("Stored")
    )

    def checked(self) -> lists.MessageFilter:
        return lists.MessageFilter(
            role=self.role.value if self.role is not None else None,
            search=lists.search_text("search", self.search),
            created_after=lists.aware("createdAfter", self.created_after),
            created_before=lists.aware("createdBefore", self.created_before),
        )


_MESSAGE_KEYS = {MessageOrderField.CREATED_AT: SortKey(models.Message.created_at, datetime)}
_MESSAGE_ID = SortKey(models.Message.id, int)


def message_sort(order: MessageOrder | None) -> tuple[SortColumn, ...]:
    order = order or MessageOrder()
    return keyset_sort(_MESSAGE_KEYS[order.field], order.direction, _MESSAGE_ID)


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
        return int(await info.context.loaders.message_counts.load((self.id, None)))

    @strawberry.field(description="The newest message, if any.")
    async def last_message(self, info: Info) -> Message | None:
        model = await info.context.loaders.last_message.load(self.id)
        return Message.from_model(model) if model is not None else None

    @strawberry.field(description=(
        "Its messages, filtered, oldest first unless ordered otherwise (by time, then id); "
        "`last: 50` is the newest 50, still in the list's order."
    ))
    async def messages(
        self,
        info: Info,
        filter: Annotated[MessageFilter | None, strawberry.argument(
            description="Which messages; null or omitted: all of them."
        )] = None,
        order_by: Annotated[MessageOrder | None, strawberry.argument(
            description="The order; null or omitted: oldest first (CREATED_AT, ASC)."
        )] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Message]:
        loaders = info.context.loaders
        return await fetch_child_connection(
            loaders.messages, loaders.message_counts, self.id, message_sort(order_by),
            Message.from_model, Page(first, after, last, before),
            max_size=info.context.settings.max_page_size,
            where=filter.checked() if filter is not None else None,
        )


@strawberry.enum(description=f"What conversations are sorted by; {TIES}.")
class ConversationOrderField(Enum):
    _value_: str  # for mypy: `.value` is this text; enum_value() only adds a description
    UPDATED_AT = strawberry.enum_value(
        "updated_at", description="Last activity: `updatedAt`, its newest message's time."
    )
    CREATED_AT = strawberry.enum_value("created_at", description="When each was started.")
    TITLE = strawberry.enum_value("title", description=(
        f"The title, {FOLDED_ORDER}; untitled conversations have no title to sort by: "
        f"{NO_VALUE_LAST}."
    ))


@strawberry.input(description=f"Conversation ordering; {TIES}.")
class ConversationOrder:
    field: ConversationOrderField = strawberry.field(
        default=ConversationOrderField.UPDATED_AT,
        description="What to sort by; UPDATED_AT (last activity) by default.",
    )
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.DESC, description="Which way; DESC (latest first) by default."
    )


@strawberry.input(description="All given conditions must hold; null or omitted ones do not apply.")
class ConversationFilter:
    search: str | None = strawberry.field(default=None, description=(
        f"The title contains this (an untitled conversation never matches), {SEARCH_NOTE}"
    ))
    created_after: datetime | None = strawberry.field(default=None, description=after("Started"))
    created_before: datetime | None = strawberry.field(
        default=None, description=before("Started")
    )
    updated_after: datetime | None = strawberry.field(
        default=None, description=after("Last active (`updatedAt`)")
    )
    updated_before: datetime | None = strawberry.field(
        default=None, description=before("Last active (`updatedAt`)")
    )

    def checked(self) -> lists.ConversationFilter:
        return lists.ConversationFilter(
            search=lists.search_text("search", self.search),
            created_after=lists.aware("createdAfter", self.created_after),
            created_before=lists.aware("createdBefore", self.created_before),
            updated_after=lists.aware("updatedAfter", self.updated_after),
            updated_before=lists.aware("updatedBefore", self.updated_before),
        )


_CONVERSATION_KEYS = {
    ConversationOrderField.UPDATED_AT: SortKey(models.Conversation.updated_at, datetime),
    ConversationOrderField.CREATED_AT: SortKey(models.Conversation.created_at, datetime),
    ConversationOrderField.TITLE: SortKey(models.Conversation.title_folded, str, nullable=True),
}
_CONVERSATION_ID = SortKey(models.Conversation.id, str)


def conversation_sort(order: ConversationOrder | None) -> tuple[SortColumn, ...]:
    order = order or ConversationOrder()
    return keyset_sort(_CONVERSATION_KEYS[order.field], order.direction, _CONVERSATION_ID)


"""`conversations` and `conversation(id)`."""

from __future__ import annotations

from typing import Annotated

import strawberry

import models
from domain import scope
from graph.context import Info
from graph.execution.owned import owned_connection
from graph.execution.pagination import After, Before, Connection, First, Last, Page
from graph.types.chat import (
    Conversation,
    ConversationFilter,
    ConversationOrder,
    conversation_sort,
)
from graph.types.node import node_of_type


@strawberry.type
class ChatQueries:
    @strawberry.field(description=(
        "The viewer's conversations, filtered, most recently active first unless ordered "
        "otherwise."
    ))
    async def conversations(
        self,
        info: Info,
        filter: Annotated[ConversationFilter | None, strawberry.argument(
            description="Which conversations; null or omitted: all of the viewer's."
        )] = None,
        order_by: Annotated[ConversationOrder | None, strawberry.argument(
            description="The order; null or omitted: latest activity first (UPDATED_AT, DESC)."
        )] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Conversation]:
        statement = scope.owned(models.Conversation, info.context.user_id)
        if filter is not None:
            statement = filter.checked().apply(statement)
        return await owned_connection(
            info, models.Conversation, conversation_sort(order_by), Conversation.from_model,
            Page(first, after, last, before), statement=statement,
        )

    @strawberry.field(description="One of the viewer's conversations, or null.")
    async def conversation(
        self, info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description=(
            "The conversation's global id; a missing one, another user's, or an id of another "
            "type all answer null."
        ))],
    ) -> Conversation | None:
        return await node_of_type(info, id, Conversation)

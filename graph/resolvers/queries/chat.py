"""`conversations` and `conversation(id)`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

import models
from graph.context import Info
from graph.execution.pagination import After, Before, Connection, First, Last, Page, SortColumn
from graph.resolvers.queries.base import owned_connection
from graph.types.chat import Conversation
from graph.types.node import node_of_type

# Most recently active first; the id breaks ties.
CONVERSATION_SORT = (
    SortColumn(models.Conversation.updated_at, descending=True, kind=datetime),
    SortColumn(models.Conversation.id, descending=True, kind=str),
)


@strawberry.type
class ChatQueries:
    @strawberry.field(description="The viewer's conversations, most recently active first.")
    async def conversations(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Conversation]:
        return await owned_connection(
            info, models.Conversation, CONVERSATION_SORT, Conversation.from_model,
            Page(first, after, last, before),
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

"""`conversations` and `conversation(id)`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from domain import scope
from graph.context import Info
from graph.execution.pagination import (
    After,
    Before,
    Connection,
    First,
    Last,
    SortColumn,
    fetch_connection,
)
from graph.types.chat import Conversation
from graph.types.node import node_of_type
from models import Conversation as ConversationModel

# Most recently active first; the id breaks ties.
CONVERSATION_SORT = (
    SortColumn(ConversationModel.updated_at, descending=True, kind=datetime),
    SortColumn(ConversationModel.id, descending=True, kind=str),
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
        context = info.context
        return await fetch_connection(
            context.db, scope.owned(ConversationModel, context.user_id), CONVERSATION_SORT,
            Conversation.from_model, first=first, after=after, last=last, before=before,
            max_size=context.settings.max_page_size,
            prime=lambda row: context.loaders.by_id(ConversationModel).prime(row.id, row),
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

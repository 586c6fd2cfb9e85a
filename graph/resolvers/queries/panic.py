"""`panicEvents` and `panicEvent(id)`."""

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
from graph.types.node import node_of_type
from graph.types.panic import PanicEvent
from models import PanicEvent as PanicEventModel

# Newest first; the id breaks ties.
PANIC_EVENT_SORT = (
    SortColumn(PanicEventModel.created_at, descending=True, kind=datetime),
    SortColumn(PanicEventModel.id, descending=True, kind=int),
)


@strawberry.type
class PanicQueries:
    @strawberry.field(description="The viewer's panic events, newest first.")
    async def panic_events(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[PanicEvent]:
        context = info.context
        return await fetch_connection(
            context.db, scope.owned(PanicEventModel, context.user_id), PANIC_EVENT_SORT,
            PanicEvent.from_model, first=first, after=after, last=last, before=before,
            max_size=context.settings.max_page_size,
            prime=lambda row: context.loaders.by_id(PanicEventModel).prime(row.id, row),
        )

    @strawberry.field(description="One of the viewer's panic events, or null.")
    async def panic_event(
        self, info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description=(
            "The event's global id; a missing one, another user's, or an id of another type "
            "all answer null."
        ))],
    ) -> PanicEvent | None:
        return await node_of_type(info, id, PanicEvent)

"""`panicEvents` and `panicEvent(id)`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

import models
from graph.context import Info
from graph.execution.pagination import After, Before, Connection, First, Last, Page, SortColumn
from graph.resolvers.queries.base import owned_connection
from graph.types.node import node_of_type
from graph.types.panic import PanicEvent

# Newest first; the id breaks ties.
PANIC_EVENT_SORT = (
    SortColumn(models.PanicEvent.created_at, descending=True, kind=datetime),
    SortColumn(models.PanicEvent.id, descending=True, kind=int),
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
        return await owned_connection(
            info, models.PanicEvent, PANIC_EVENT_SORT, PanicEvent.from_model,
            Page(first, after, last, before),
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

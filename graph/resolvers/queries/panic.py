"""`panicEvents` and `panicEvent(id)`."""

from __future__ import annotations

from typing import Annotated

import strawberry

import models
from domain import scope
from graph.context import Info
from graph.execution.owned import owned_connection
from graph.execution.pagination import After, Before, Connection, First, Last, Page
from graph.types.node import node_of_type
from graph.types.panic import PanicEvent, PanicEventFilter, PanicEventOrder, panic_event_sort


@strawberry.type
class PanicQueries:
    @strawberry.field(
        description="The viewer's panic events, filtered, newest first unless ordered otherwise."
    )
    async def panic_events(
        self,
        info: Info,
        filter: Annotated[PanicEventFilter | None, strawberry.argument(
            description="Which events; null or omitted: all of the viewer's."
        )] = None,
        order_by: Annotated[PanicEventOrder | None, strawberry.argument(
            description="The order; null or omitted: newest first (CREATED_AT, DESC)."
        )] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[PanicEvent]:
        statement = scope.owned(models.PanicEvent, info.context.user_id)
        if filter is not None:
            statement = filter.checked().apply(statement)
        return await owned_connection(
            info, models.PanicEvent, panic_event_sort(order_by), PanicEvent.from_model,
            Page(first, after, last, before), statement=statement,
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

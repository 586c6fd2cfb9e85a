"""`tasks` and `task(id)`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

import models
from domain import scope
from graph.context import Info
from graph.execution.keyset import SortColumn
from graph.execution.owned import owned_connection
from graph.execution.pagination import After, Before, Connection, First, Last, Page
from graph.types.node import node_of_type
from graph.types.ordering import SortKey, keyset_sort
from graph.types.task import Task, prefetch_children
from graph.types.task_inputs import TaskFilter, TaskOrder, TaskOrderField

_SORT_KEYS: dict[TaskOrderField, SortKey] = {
    TaskOrderField.CREATED_AT: SortKey(models.Task.created_at, datetime),
    TaskOrderField.UPDATED_AT: SortKey(models.Task.updated_at, datetime),
    TaskOrderField.TITLE: SortKey(models.Task.title_folded, str),
    TaskOrderField.STATUS: SortKey(models.Task.status, str),
}
_ID = SortKey(models.Task.id, int)


def task_sort(order: TaskOrder | None) -> tuple[SortColumn, ...]:
    order = order or TaskOrder()
    return keyset_sort(_SORT_KEYS[order.field], order.direction, _ID)


@strawberry.type
class TaskQueries:
    @strawberry.field(
        description="The viewer's tasks, filtered and ordered, as a Relay connection."
    )
    async def tasks(
        self,
        info: Info,
        filter: Annotated[TaskFilter | None, strawberry.argument(
            description="Which tasks; null or omitted: all of the viewer's."
        )] = None,
        order_by: Annotated[TaskOrder | None, strawberry.argument(
            description="The order; null or omitted: newest first (CREATED_AT, DESC)."
        )] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Task]:
        statement = scope.owned(models.Task, info.context.user_id)
        if filter is not None:
            statement = filter.checked().apply(statement)
        connection = await owned_connection(
            info, models.Task, task_sort(order_by), Task.from_model,
            Page(first, after, last, before), statement=statement,
        )
        await prefetch_children(info, connection.nodes())
        return connection

    @strawberry.field(description="One of the viewer's tasks, or null.")
    async def task(
        self, info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description=(
            "The task's global id (`Task.id`); a missing task, another user's, or an id of "
            "another type all answer null."
        ))],
    ) -> Task | None:
        return await node_of_type(info, id, Task)

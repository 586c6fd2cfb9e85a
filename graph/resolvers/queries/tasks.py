"""`tasks` and `task(id)`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import strawberry
from sqlalchemy import Select, or_

import models
from domain import scope
from domain.validation import text_problem
from graph.context import Info
from graph.errors import ClientError
from graph.execution.pagination import (
    After,
    Before,
    Connection,
    First,
    Last,
    Page,
    SortColumn,
)
from graph.resolvers.queries.base import owned_connection
from graph.types.node import node_of_type
from graph.types.task import Task, TaskStatus, prefetch_children
from graph.types.task_inputs import OrderDirection, TaskFilter, TaskOrder, TaskOrderField

_SORT_COLUMNS: dict[TaskOrderField, tuple[Any, type]] = {
    TaskOrderField.CREATED_AT: (models.Task.created_at, datetime),
    TaskOrderField.UPDATED_AT: (models.Task.updated_at, datetime),
    TaskOrderField.TITLE: (models.Task.title, str),
    TaskOrderField.STATUS: (models.Task.status, str),
}


def task_sort(order: TaskOrder | None) -> tuple[SortColumn, ...]:
    order = order or TaskOrder()
    column, kind = _SORT_COLUMNS[order.field]
    descending = order.direction is OrderDirection.DESC
    return (
        SortColumn(column, descending=descending, kind=kind),
        SortColumn(models.Task.id, descending=descending, kind=int),
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _aware(name: str, value: datetime) -> datetime:
    """A filter instant must say which instant it is: a time without an offset is refused."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ClientError(
            f"`{name}` needs a UTC offset, e.g. 2024-05-01T09:00:00Z.", code="BAD_USER_INPUT"
        )
    try:
        return value.astimezone(UTC)
    except OverflowError as error:
        raise ClientError(f"`{name}` is out of range.", code="BAD_USER_INPUT") from error


def _text(name: str, value: str) -> str:
    # No stored text holds NUL (PostgreSQL refuses it) or a lone surrogate (not UTF-8), and
    # the driver would fail on either.
    problem = text_problem(value)
    if problem is not None:
        raise ClientError(f"`{name}` {problem}.", code="BAD_USER_INPUT")
    return value


def filtered(statement: Select[Any], where: TaskFilter | None) -> Select[Any]:
    if where is None:
        return statement
    if where.status is not None:  # an empty list matches no task, as `IN ()` would
        statement = statement.where(models.Task.status.in_([s.value for s in where.status]))
    if where.completed is not None:
        done = models.Task.status == TaskStatus.COMPLETED.value
        statement = statement.where(done if where.completed else ~done)
    if where.kind is not None:
        statement = statement.where(models.Task.kind == _text("kind", where.kind))
    if where.search:
        pattern = f"%{_escape_like(_text('search', where.search).strip())}%"
        statement = statement.where(
            or_(
                models.Task.title.ilike(pattern, escape="\\"),
                models.Task.description.ilike(pattern, escape="\\"),
            )
        )
    if where.created_after is not None:
        after = _aware("createdAfter", where.created_after)
        statement = statement.where(models.Task.created_at > after)
    if where.created_before is not None:
        before = _aware("createdBefore", where.created_before)
        statement = statement.where(models.Task.created_at < before)
    return statement


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
        connection = await owned_connection(
            info, models.Task, task_sort(order_by), Task.from_model,
            Page(first, after, last, before),
            statement=filtered(scope.owned(models.Task, info.context.user_id), filter),
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

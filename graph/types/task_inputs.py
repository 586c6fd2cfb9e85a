"""Inputs of the task queries and mutations."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.scalars import JSON

from graph.types.task import TaskStatus


@strawberry.enum
class OrderDirection(Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.enum
class TaskOrderField(Enum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    TITLE = "title"
    STATUS = "status"


@strawberry.input(description="Task ordering; ties are broken by id in the same direction.")
class TaskOrder:
    field: TaskOrderField = TaskOrderField.CREATED_AT
    direction: OrderDirection = OrderDirection.DESC


@strawberry.input(description="All given conditions must hold.")
class TaskFilter:
    status: list[TaskStatus] | None = None
    completed: bool | None = None
    kind: str | None = None
    search: str | None = strawberry.field(
        default=None, description="Title or description contains this, case-insensitive."
    )
    created_after: datetime | None = None
    created_before: datetime | None = None


@strawberry.input
class CreateTaskInput:
    title: str
    description: str | None = None
    kind: str | None = None
    status: TaskStatus | None = None
    metadata: JSON | None = None
    steps: list[str] | None = strawberry.field(default=None, description="Initial steps, in order.")


@strawberry.input(description="Omitted fields stay as they are; an explicit null clears one.")
class UpdateTaskInput:
    id: strawberry.ID
    title: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    kind: str | None = strawberry.UNSET
    metadata: JSON | None = strawberry.UNSET


@strawberry.input
class SetTaskStatusInput:
    id: strawberry.ID
    status: TaskStatus


@strawberry.input
class DeleteTaskInput:
    id: strawberry.ID


@strawberry.input
class AddTaskStepInput:
    task_id: strawberry.ID
    content: str
    position: int | None = strawberry.field(
        default=None, description="1-based; the steps from there on move down. Default: last."
    )


@strawberry.input
class UpdateTaskStepInput:
    id: strawberry.ID
    content: str | None = strawberry.UNSET
    completed: bool | None = strawberry.UNSET


@strawberry.input
class RemoveTaskStepInput:
    id: strawberry.ID


@strawberry.input
class ReorderTaskStepsInput:
    task_id: strawberry.ID
    step_ids: list[strawberry.ID] = strawberry.field(
        description="Every step id of the task exactly once, in the new order."
    )


@strawberry.input
class BreakDownTaskInput:
    input: str = strawberry.field(description="The user's raw words.")

"""Inputs of the task queries and mutations.

Texts are trimmed before they are checked and stored; the maxima are
graph/extensions/inputs.py's and the models' (a ValidationError names the field past one).
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.scalars import JSON

from domain import lists
from graph.types.ordering import FOLDED_ORDER, SEARCH_NOTE, TIES, OrderDirection, after, before
from graph.types.task import TaskStatus
from models.task import STEPS_MAX

_TASK_ID = "The task's global id (`Task.id`)."
_STEP_ID = "The step's global id (`TaskStep.id`)."


@strawberry.enum(description=f"What tasks are sorted by; {TIES}.")
class TaskOrderField(Enum):
    _value_: str  # for mypy: `.value` is this text; enum_value() only adds a description
    CREATED_AT = strawberry.enum_value("created_at", description="When each was created.")
    UPDATED_AT = strawberry.enum_value("updated_at", description="When each last changed.")
    TITLE = strawberry.enum_value("title", description=f"The title, {FOLDED_ORDER}.")
    STATUS = strawberry.enum_value("status", description=(
        "The status's lowercase name, alphabetically (cancelled, completed, failed, "
        "in_progress, pending), not its progress."
    ))


@strawberry.input(description=f"Task ordering; {TIES}.")
class TaskOrder:
    field: TaskOrderField = strawberry.field(
        default=TaskOrderField.CREATED_AT, description="What to sort by; CREATED_AT by default."
    )
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.DESC, description="Which way; DESC (newest first) by default."
    )


@strawberry.input(description="All given conditions must hold; null or omitted ones do not apply.")
class TaskFilter:
    status: list[TaskStatus] | None = strawberry.field(default=None, description=(
        "Any of these statuses; an empty list matches no task. At most 100 entries."
    ))
    completed: bool | None = strawberry.field(
        default=None, description="True: only COMPLETED tasks; false: every other status."
    )
    kind: str | None = strawberry.field(
        default=None, description="Exactly this kind (case-sensitive); at most 50 characters."
    )
    search: str | None = strawberry.field(
        default=None, description=f"Title or description contains this, {SEARCH_NOTE}"
    )
    created_after: datetime | None = strawberry.field(
        default=None, description=after("Created")
    )
    created_before: datetime | None = strawberry.field(
        default=None, description=before("Created")
    )

    def checked(self) -> lists.TaskFilter:
        return lists.TaskFilter(
            status=tuple(s.value for s in self.status) if self.status is not None else None,
            completed=self.completed,
            kind=lists.plain("kind", self.kind),
            search=lists.search_text("search", self.search),
            created_after=lists.aware("createdAfter", self.created_after),
            created_before=lists.aware("createdBefore", self.created_before),
        )


@strawberry.input(description="A new task, optionally with its first steps.")
class CreateTaskInput:
    title: str = strawberry.field(description="1..200 characters.")
    description: str | None = strawberry.field(
        default=None, description="Up to 10,000 characters; null or blank for none."
    )
    kind: str | None = strawberry.field(
        default=None, description="A free label of 1..50 characters; null for `todo`."
    )
    status: TaskStatus | None = strawberry.field(
        default=None, description="The first status; null for PENDING."
    )
    metadata: JSON | None = strawberry.field(
        default=None, description="Any JSON object of the client's, up to 16 KiB serialized."
    )
    steps: list[str] | None = strawberry.field(default=None, description=(
        f"The first steps, in order: at most {STEPS_MAX}, each 1..2,000 characters."
    ))


@strawberry.input(description=(
    "Omitted fields stay as they are; null clears description or metadata (title and kind "
    "cannot be null)."
))
class UpdateTaskInput:
    id: strawberry.ID = strawberry.field(description=_TASK_ID)
    title: str | None = strawberry.field(
        default=strawberry.UNSET, description="1..200 characters; null is refused."
    )
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="Up to 10,000 characters; null or blank clears it."
    )
    kind: str | None = strawberry.field(
        default=strawberry.UNSET, description="1..50 characters; null is refused."
    )
    metadata: JSON | None = strawberry.field(
        default=strawberry.UNSET, description="A JSON object up to 16 KiB; null clears it."
    )


@strawberry.input(description="A task and the status to move it to.")
class SetTaskStatusInput:
    id: strawberry.ID = strawberry.field(description=_TASK_ID)
    status: TaskStatus = strawberry.field(
        description="The new status; the same status again changes nothing."
    )


@strawberry.input(description="The task to delete.")
class DeleteTaskInput:
    id: strawberry.ID = strawberry.field(description=_TASK_ID)


@strawberry.input(description=f"A step to add to a task (which holds at most {STEPS_MAX}).")
class AddTaskStepInput:
    task_id: strawberry.ID = strawberry.field(description=_TASK_ID)
    content: str = strawberry.field(description="What to do, 1..2,000 characters.")
    position: int | None = strawberry.field(
        default=None, description="1-based; the steps from there on move down. Default: last."
    )


@strawberry.input(description="Omitted fields stay as they are.")
class UpdateTaskStepInput:
    id: strawberry.ID = strawberry.field(description=_STEP_ID)
    content: str | None = strawberry.field(
        default=strawberry.UNSET, description="1..2,000 characters; null is refused."
    )
    completed: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Done or not; null is refused."
    )


@strawberry.input(description="The step to remove.")
class RemoveTaskStepInput:
    id: strawberry.ID = strawberry.field(description=_STEP_ID)


@strawberry.input(description="A task and the new order of all its steps.")
class ReorderTaskStepsInput:
    task_id: strawberry.ID = strawberry.field(description=_TASK_ID)
    step_ids: list[strawberry.ID] = strawberry.field(
        description="Every step id of the task exactly once, in the new order"
        f" (at most {STEPS_MAX})."
    )


@strawberry.input(description="Raw words for the assistant to turn into a task with steps.")
class BreakDownTaskInput:
    input: str = strawberry.field(description="The user's raw words, 1..10,000 characters.")

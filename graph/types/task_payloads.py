"""Payload unions of the task mutations (api.md, "Errors")."""

from __future__ import annotations

from typing import Annotated, TypeAlias

import strawberry

from graph.types.errors import AssistantError, NotFoundError, ValidationError
from graph.types.task import Task, TaskStep


@strawberry.type
class CreateTaskSuccess:
    task: Task


@strawberry.type
class UpdateTaskSuccess:
    task: Task


@strawberry.type
class SetTaskStatusSuccess:
    task: Task


@strawberry.type
class DeleteTaskSuccess:
    deleted_id: strawberry.ID


@strawberry.type
class AddTaskStepSuccess:
    step: TaskStep
    task: Task


@strawberry.type
class UpdateTaskStepSuccess:
    step: TaskStep


@strawberry.type
class RemoveTaskStepSuccess:
    deleted_id: strawberry.ID
    task: Task


@strawberry.type
class ReorderTaskStepsSuccess:
    task: Task


@strawberry.type
class BreakDownTaskSuccess:
    task: Task


CreateTaskPayload: TypeAlias = Annotated[
    CreateTaskSuccess | ValidationError, strawberry.union("CreateTaskPayload")
]
UpdateTaskPayload: TypeAlias = Annotated[
    UpdateTaskSuccess | ValidationError | NotFoundError, strawberry.union("UpdateTaskPayload")
]
SetTaskStatusPayload: TypeAlias = Annotated[
    SetTaskStatusSuccess | NotFoundError, strawberry.union("SetTaskStatusPayload")
]
DeleteTaskPayload: TypeAlias = Annotated[
    DeleteTaskSuccess | NotFoundError, strawberry.union("DeleteTaskPayload")
]
AddTaskStepPayload: TypeAlias = Annotated[
    AddTaskStepSuccess | ValidationError | NotFoundError, strawberry.union("AddTaskStepPayload")
]
UpdateTaskStepPayload: TypeAlias = Annotated[
    UpdateTaskStepSuccess | ValidationError | NotFoundError,
    strawberry.union("UpdateTaskStepPayload"),
]
RemoveTaskStepPayload: TypeAlias = Annotated[
    RemoveTaskStepSuccess | NotFoundError, strawberry.union("RemoveTaskStepPayload")
]
ReorderTaskStepsPayload: TypeAlias = Annotated[
    ReorderTaskStepsSuccess | ValidationError | NotFoundError,
    strawberry.union("ReorderTaskStepsPayload"),
]
BreakDownTaskPayload: TypeAlias = Annotated[
    BreakDownTaskSuccess | ValidationError | AssistantError,
    strawberry.union("BreakDownTaskPayload"),
]

"""Payload unions of the task mutations (api.md, "Errors")."""

from __future__ import annotations

from typing import Annotated, TypeAlias

import strawberry

from graph.types.errors import AssistantError, NotFoundError, ValidationError, payload_union
from graph.types.task import Task, TaskStep
from models.task import STEPS_MAX

_TASK_AFTER = "The task as it is now."


@strawberry.type(description="The task was created.")
class CreateTaskSuccess:
    task: Task = strawberry.field(description="The new task, with its steps.")


@strawberry.type(description="The task was changed (or already held those values).")
class UpdateTaskSuccess:
    task: Task = strawberry.field(description=_TASK_AFTER)


@strawberry.type(description="The task is in the asked status.")
class SetTaskStatusSuccess:
    task: Task = strawberry.field(description=_TASK_AFTER)


@strawberry.type(description="The task was deleted with its steps and events.")
class DeleteTaskSuccess:
    deleted_id: strawberry.ID = strawberry.field(
        description="The deleted task's global id; ids are never reused."
    )


@strawberry.type(description="The step was added.")
class AddTaskStepSuccess:
    step: TaskStep = strawberry.field(description="The new step.")
    task: Task = strawberry.field(description="Its task, with the steps renumbered.")


@strawberry.type(description="The step was changed (or already held those values).")
class UpdateTaskStepSuccess:
    step: TaskStep = strawberry.field(description="The step as it is now.")
    task: Task = strawberry.field(
        description="Its task as it is now (its completed-step count and updatedAt moved)."
    )


@strawberry.type(description="The step was removed; the later steps moved up.")
class RemoveTaskStepSuccess:
    deleted_id: strawberry.ID = strawberry.field(
        description="The removed step's global id; ids are never reused."
    )
    task: Task = strawberry.field(description="Its task, with the steps renumbered.")


@strawberry.type(description="The steps are in the asked order.")
class ReorderTaskStepsSuccess:
    task: Task = strawberry.field(description="The task, its steps in their new order.")


@strawberry.type(description="The assistant's breakdown was saved as a new task.")
class BreakDownTaskSuccess:
    task: Task = strawberry.field(
        description=f"The new task: the assistant's title and steps (at most {STEPS_MAX})."
    )


CreateTaskPayload: TypeAlias = Annotated[
    CreateTaskSuccess | ValidationError,
    payload_union("CreateTaskPayload", "createTask"),
]
UpdateTaskPayload: TypeAlias = Annotated[
    UpdateTaskSuccess | ValidationError | NotFoundError,
    payload_union("UpdateTaskPayload", "updateTask"),
]
SetTaskStatusPayload: TypeAlias = Annotated[
    SetTaskStatusSuccess | NotFoundError,
    payload_union("SetTaskStatusPayload", "setTaskStatus"),
]
DeleteTaskPayload: TypeAlias = Annotated[
    DeleteTaskSuccess | NotFoundError,
    payload_union("DeleteTaskPayload", "deleteTask"),
]
AddTaskStepPayload: TypeAlias = Annotated[
    AddTaskStepSuccess | ValidationError | NotFoundError,
    payload_union("AddTaskStepPayload", "addTaskStep"),
]
UpdateTaskStepPayload: TypeAlias = Annotated[
    UpdateTaskStepSuccess | ValidationError | NotFoundError,
    payload_union("UpdateTaskStepPayload", "updateTaskStep"),
]
RemoveTaskStepPayload: TypeAlias = Annotated[
    RemoveTaskStepSuccess | NotFoundError,
    payload_union("RemoveTaskStepPayload", "removeTaskStep"),
]
ReorderTaskStepsPayload: TypeAlias = Annotated[
    ReorderTaskStepsSuccess | ValidationError | NotFoundError,
    payload_union("ReorderTaskStepsPayload", "reorderTaskSteps"),
]
BreakDownTaskPayload: TypeAlias = Annotated[
    BreakDownTaskSuccess | ValidationError | AssistantError,
    payload_union("BreakDownTaskPayload", "breakDownTask"),
]

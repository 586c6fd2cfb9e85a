"""Inputs and payloads of the bulk task mutations (`setTasksStatus`, `deleteTasks`).

A bulk answers one result per id, in the order sent, each the single mutation's own payload
(`SetTaskStatusPayload`, `DeleteTaskPayload`): a client that handles one handles many, and
a missing id, a malformed one and another user's answer the same NotFoundError.
"""

from __future__ import annotations

from typing import Annotated, TypeAlias

import strawberry

from graph.types.errors import ValidationError, payload_union
from graph.types.task import TaskStatus
from graph.types.task_payloads import DeleteTaskPayload, SetTaskStatusPayload

_IDS = (
    "Task global ids (`Task.id`), at most MAX_PAGE_SIZE (100; more is a BAD_USER_INPUT error "
    "before anything runs), each at most once (a repeat is a ValidationError); empty changes "
    "nothing."
)


@strawberry.input(description="Tasks to move to one status.")
class SetTasksStatusInput:
    ids: list[strawberry.ID] = strawberry.field(description=_IDS)
    status: TaskStatus = strawberry.field(description="The status every found task moves to.")


@strawberry.input(description="Tasks to delete.")
class DeleteTasksInput:
    ids: list[strawberry.ID] = strawberry.field(description=_IDS)


@strawberry.type(description=(
    "Every found task is in the asked status; the others are NotFoundErrors, all in one "
    "transaction."
))
class SetTasksStatusSuccess:
    results: list[SetTaskStatusPayload] = strawberry.field(description=(
        "One per id, in the order sent: SetTaskStatusSuccess with the task, or NotFoundError "
        "(missing, malformed or not the viewer's: the same answer)."
    ))
    changed_count: int = strawberry.field(description=(
        "How many tasks moved (each sent one live change); a task already in the status "
        "counts as done, not as changed."
    ))


@strawberry.type(description=(
    "Every found task was deleted with its steps and events; the others are NotFoundErrors, "
    "all in one transaction."
))
class DeleteTasksSuccess:
    results: list[DeleteTaskPayload] = strawberry.field(description=(
        "One per id, in the order sent: DeleteTaskSuccess with the deleted id, or "
        "NotFoundError (missing, malformed or not the viewer's: the same answer)."
    ))
    deleted_count: int = strawberry.field(
        description="How many tasks were deleted (each sent one live change)."
    )


SetTasksStatusPayload: TypeAlias = Annotated[
    SetTasksStatusSuccess | ValidationError,
    payload_union("SetTasksStatusPayload", "setTasksStatus"),
]
DeleteTasksPayload: TypeAlias = Annotated[
    DeleteTasksSuccess | ValidationError,
    payload_union("DeleteTasksPayload", "deleteTasks"),
]

"""Task mutations: each maps its input to a use case of `domain.task_cases`, run in one
transaction, and the rows it answers to the payload."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from domain import task_cases as cases
from domain.transactions import Session
from graph.context import Info
from graph.ids import decode_int, encode_id, int_ref
from graph.resolvers.mutations.base import in_transaction, mutation
from graph.types import task_inputs as inputs
from graph.types import task_payloads as payloads
from graph.types.task import Task, TaskStep


def _given(obj: Any, *names: str) -> dict[str, Any]:
    """The fields the client sent (an omitted one is UNSET; null is sent)."""
    return {
        name: getattr(obj, name) for name in names if getattr(obj, name) is not strawberry.UNSET
    }


@strawberry.type
class TaskMutations:
    @mutation(description="Create a task, optionally with its first steps.")
    async def create_task(
        self,
        info: Info,
        input: Annotated[
            inputs.CreateTaskInput,
            strawberry.argument(description="The new task's fields and first steps."),
        ],
    ) -> payloads.CreateTaskPayload:
        async def work(session: Session, user_id: str) -> payloads.CreateTaskSuccess:
            task = await cases.create_task(
                session, user_id, session_id=info.context.viewer.session_id,
                title=input.title, description=input.description, kind=input.kind,
                metadata=input.metadata, steps=input.steps,
                status=input.status.value if input.status is not None else None,
            )
            return payloads.CreateTaskSuccess(task=Task.from_model(task))

        return await in_transaction(info, work)

    @mutation(description="Change some fields of a task.")
    async def update_task(
        self,
        info: Info,
        input: Annotated[
            inputs.UpdateTaskInput,
            strawberry.argument(description="The task and the fields to change."),
        ],
    ) -> payloads.UpdateTaskPayload:
        async def work(session: Session, user_id: str) -> payloads.UpdateTaskSuccess:
            given = _given(input, "title", "description", "kind", "metadata")
            task = await cases.update_task(session, user_id, int_ref(input.id, "Task"), given)
            return payloads.UpdateTaskSuccess(task=Task.from_model(task))

        return await in_transaction(info, work)

    @mutation(description="Move a task to a status; completedAt follows.")
    async def set_task_status(
        self,
        info: Info,
        input: Annotated[
            inputs.SetTaskStatusInput,
            strawberry.argument(description="The task and its new status."),
        ],
    ) -> payloads.SetTaskStatusPayload:
        async def work(session: Session, user_id: str) -> payloads.SetTaskStatusSuccess:
            task = await cases.set_task_status(session, user_id, int_ref(input.id, "Task"),
                                               input.status.value)
            return payloads.SetTaskStatusSuccess(task=Task.from_model(task))

        return await in_transaction(info, work)

    @mutation(description="Delete a task with its steps and events.")
    async def delete_task(
        self,
        info: Info,
        input: Annotated[
            inputs.DeleteTaskInput,
            strawberry.argument(description="The task to delete."),
        ],
    ) -> payloads.DeleteTaskPayload:
        async def work(session: Session, user_id: str) -> payloads.DeleteTaskSuccess:
            task = await cases.delete_task(session, user_id, int_ref(input.id, "Task"))
            # The canonical global id, whatever spelling of it the client sent.
            return payloads.DeleteTaskSuccess(deleted_id=strawberry.ID(encode_id("Task", task.id)))

        return await in_transaction(info, work)

    @mutation(description="Add a step at a position (default: the end).")
    async def add_task_step(
        self,
        info: Info,
        input: Annotated[
            inputs.AddTaskStepInput,
            strawberry.argument(description="The task, the step's content and its position."),
        ],
    ) -> payloads.AddTaskStepPayload:
        async def work(session: Session, user_id: str) -> payloads.AddTaskStepSuccess:
            step, task = await cases.add_step(session, user_id, int_ref(input.task_id, "Task"),
                                              input.content, input.position)
            return payloads.AddTaskStepSuccess(
                step=TaskStep.from_model(step), task=Task.from_model(task)
            )

        return await in_transaction(info, work)

    @mutation(description="Change a step's content or completion.")
    async def update_task_step(
        self,
        info: Info,
        input: Annotated[
            inputs.UpdateTaskStepInput,
            strawberry.argument(description="The step and the fields to change."),
        ],
    ) -> payloads.UpdateTaskStepPayload:
        async def work(session: Session, user_id: str) -> payloads.UpdateTaskStepSuccess:
            step, task = await cases.update_step(session, user_id,
                                                 int_ref(input.id, "TaskStep"),
                                                 _given(input, "content", "completed"))
            return payloads.UpdateTaskStepSuccess(
                step=TaskStep.from_model(step), task=Task.from_model(task)
            )

        return await in_transaction(info, work)

    @mutation(description="Remove a step; the later steps move up.")
    async def remove_task_step(
        self,
        info: Info,
        input: Annotated[
            inputs.RemoveTaskStepInput,
            strawberry.argument(description="The step to remove."),
        ],
    ) -> payloads.RemoveTaskStepPayload:
        async def work(session: Session, user_id: str) -> payloads.RemoveTaskStepSuccess:
            step, task = await cases.remove_step(session, user_id, int_ref(input.id, "TaskStep"))
            return payloads.RemoveTaskStepSuccess(
                deleted_id=strawberry.ID(encode_id("TaskStep", step.id)), task=Task.from_model(task)
            )

        return await in_transaction(info, work)

    @mutation(description="Put the task's steps in a new order.")
    async def reorder_task_steps(
        self,
        info: Info,
        input: Annotated[
            inputs.ReorderTaskStepsInput,
            strawberry.argument(description="The task and all its step ids in the new order."),
        ],
    ) -> payloads.ReorderTaskStepsPayload:
        async def work(session: Session, user_id: str) -> payloads.ReorderTaskStepsSuccess:
            ordered = [decode_int(raw, "TaskStep") for raw in input.step_ids]
            task = await cases.reorder_steps(session, user_id, int_ref(input.task_id, "Task"),
                                             ordered)
            return payloads.ReorderTaskStepsSuccess(task=Task.from_model(task))

        return await in_transaction(info, work)

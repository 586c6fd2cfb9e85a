"""Task mutations: validation, then the service call, inside one transaction."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

import models
from domain import tasks as service
from domain.errors import NotFound
from domain.validation import Checks
from graph.context import Info
from graph.ids import decode_int, encode_id
from graph.resolvers.mutations.base import in_transaction, mutation
from graph.types import task_inputs as inputs
from graph.types import task_payloads as payloads
from graph.types.task import Task, TaskStep
from models.task import STEP_CONTENT_MAX


def _task_id(raw: str) -> int:
    task_id = decode_int(raw, "Task")
    if task_id is None:
        raise NotFound(models.Task, None, named=raw)
    return task_id


def _step_id(raw: str) -> int:
    step_id = decode_int(raw, "TaskStep")
    if step_id is None:
        raise NotFound(models.TaskStep, None, named=raw)
    return step_id


def _given(obj: Any, *names: str) -> dict[str, Any]:
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
        async def work(session: AsyncSession, user_id: str) -> payloads.CreateTaskSuccess:
            checks = Checks()
            given = {"title": input.title, "description": input.description,
                     "metadata": input.metadata}
            if input.kind is not None:
                given["kind"] = input.kind
            values = service.task_values(checks, given)
            steps = [
                checks.text(f"steps.{i}", s, max_len=STEP_CONTENT_MAX) or ""
                for i, s in enumerate(input.steps or [])
            ]
            checks.raise_if_any()
            if input.status is not None:
                values["status"] = input.status.value
            task = await service.create_task(
                session, user_id=user_id, session_id=info.context.viewer.session_id,
                values=values, steps=steps,
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
        async def work(session: AsyncSession, user_id: str) -> payloads.UpdateTaskSuccess:
            task = await service.owned_task(session, user_id, _task_id(input.id))
            checks = Checks()
            given = _given(input, "title", "description", "kind", "metadata")
            values = service.task_values(checks, given)
            checks.raise_if_any()
            task = await service.update_task(session, task, values)
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
        async def work(session: AsyncSession, user_id: str) -> payloads.SetTaskStatusSuccess:
            task = await service.owned_task(session, user_id, _task_id(input.id))
            task = await service.set_status(session, task, input.status.value)
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
        async def work(session: AsyncSession, user_id: str) -> payloads.DeleteTaskSuccess:
            task = await service.owned_task(session, user_id, _task_id(input.id))
            await service.delete_task(session, task)
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
        async def work(session: AsyncSession, user_id: str) -> payloads.AddTaskStepSuccess:
            task = await service.owned_task(session, user_id, _task_id(input.task_id))
            checks = Checks()
            content = checks.text("content", input.content, max_len=STEP_CONTENT_MAX)
            checks.raise_if_any()
            step = await service.add_step(session, task, content or "", input.position)
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
        async def work(session: AsyncSession, user_id: str) -> payloads.UpdateTaskStepSuccess:
            step, task = await service.owned_step_with_task(session, user_id, _step_id(input.id))
            checks = Checks()
            changes: dict[str, Any] = {}
            if input.content is not strawberry.UNSET:
                changes["content"] = checks.text(
                    "content", input.content, max_len=STEP_CONTENT_MAX
                )
            if input.completed is not strawberry.UNSET:
                if input.completed is None:
                    checks.fail("completed", "must not be null")
                changes["completed"] = input.completed
            checks.raise_if_any()
            step = await service.update_step(session, step, task, changes)
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
        async def work(session: AsyncSession, user_id: str) -> payloads.RemoveTaskStepSuccess:
            step, task = await service.owned_step_with_task(session, user_id, _step_id(input.id))
            await service.remove_step(session, step, task)
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
        async def work(session: AsyncSession, user_id: str) -> payloads.ReorderTaskStepsSuccess:
            task = await service.owned_task(session, user_id, _task_id(input.task_id))
            current = await service.step_ids(session, task)
            ordered = [decode_int(raw, "TaskStep") for raw in input.step_ids]
            if sorted(i for i in ordered if i is not None) != sorted(current) or None in ordered:
                Checks().fail(
                    "stepIds", "must list every step id of the task exactly once"
                ).raise_if_any()
            await service.reorder_steps(session, task, [i for i in ordered if i is not None])
            return payloads.ReorderTaskStepsSuccess(task=Task.from_model(task))

        return await in_transaction(info, work)

"""Bulk task mutations: "complete all", "clear completed", "delete selected" in one request.

Each maps its ids to a use case of `domain.task_bulk` (one transaction; a NotFound per id
that names none of the viewer's tasks, as the single mutation answers) and each result to
the single mutation's payload. Each changed task is announced once, on commit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, TypeVar

import strawberry

from domain import task_bulk as service
from domain.errors import NotFound, Ref
from domain.transactions import Session
from graph.context import Info
from graph.execution.keyset import InvalidPage
from graph.ids import encode_id, int_ref
from graph.resolvers.mutations.base import in_transaction, mutation, not_found
from graph.types import task_bulk as bulk
from graph.types.errors import NotFoundError
from graph.types.task import Task
from graph.types.task_payloads import DeleteTaskSuccess, SetTaskStatusSuccess
from models import Task as TaskRow

T = TypeVar("T")


def _refs(info: Info, ids: Sequence[str]) -> list[Ref[int]]:
    """Each id as a task reference, every task named at most once."""
    # graph/extensions/inputs.py refuses a longer list before execution; this keeps the
    # field safe on its own, as `nodes` does.
    limit = info.context.settings.max_page_size
    if len(ids) > limit:
        raise InvalidPage(f"A bulk mutation takes at most {limit} ids, like a page.")
    refs = [int_ref(raw, "Task") for raw in ids]
    service.check_distinct(refs)
    return refs


def _results(
    results: Sequence[TaskRow | NotFound], done: Callable[[TaskRow], T]
) -> list[T | NotFoundError]:
    """One payload per id, in order: `done(task)`, or the NotFoundError."""
    return [not_found(r) if isinstance(r, NotFound) else done(r) for r in results]


def _deleted(task: TaskRow) -> DeleteTaskSuccess:
    return DeleteTaskSuccess(deleted_id=strawberry.ID(encode_id("Task", task.id)))


@strawberry.type
class TaskBulkMutations:
    @mutation(description=(
        "Move many tasks to one status (complete all, reopen the selected) in one "
        "transaction; a result per id."
    ))
    async def set_tasks_status(
        self,
        info: Info,
        input: Annotated[
            bulk.SetTasksStatusInput,
            strawberry.argument(description="The tasks and their new status."),
        ],
    ) -> bulk.SetTasksStatusPayload:
        refs = _refs(info, input.ids)

        async def work(session: Session, user_id: str) -> bulk.SetTasksStatusSuccess:
            done = await service.set_tasks_status(session, user_id, refs, input.status.value)
            results = _results(done.results,
                               lambda task: SetTaskStatusSuccess(task=Task.from_model(task)))
            return bulk.SetTasksStatusSuccess(results=results, changed_count=done.changed)

        return await in_transaction(info, work)

    @mutation(description=(
        "Delete many tasks with their steps and events (clear completed, delete the selected) "
        "in one transaction; a result per id."
    ))
    async def delete_tasks(
        self,
        info: Info,
        input: Annotated[
            bulk.DeleteTasksInput,
            strawberry.argument(description="The tasks to delete."),
        ],
    ) -> bulk.DeleteTasksPayload:
        refs = _refs(info, input.ids)

        async def work(session: Session, user_id: str) -> bulk.DeleteTasksSuccess:
            done = await service.delete_tasks(session, user_id, refs)
            return bulk.DeleteTasksSuccess(results=_results(done.results, _deleted),
                                           deleted_count=done.changed)

        return await in_transaction(info, work)

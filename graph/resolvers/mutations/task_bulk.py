"""Bulk task mutations: "complete all", "clear completed", "delete selected" in one request.

Each is one transaction through the task services (`domain.tasks`), with the single
mutations' isolation: the viewer's tasks among the ids are read and locked in one scoped
statement, and every other id (missing, malformed, another user's) answers the NotFoundError
the single mutation answers. A bulk of any size costs the same statements: the lock, then
one UPDATE and one INSERT of the events (status), or one DELETE; each changed task is
announced once, on commit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

import models
from domain import tasks as service
from domain.errors import NotFound
from domain.validation import Checks
from graph.context import Info
from graph.execution.keyset import InvalidPage
from graph.ids import decode_int, encode_id
from graph.resolvers.mutations.base import in_transaction, mutation, not_found
from graph.types import task_bulk as bulk
from graph.types.errors import NotFoundError
from graph.types.task import Task
from graph.types.task_payloads import DeleteTaskSuccess, SetTaskStatusSuccess

T = TypeVar("T")


def _keys(info: Info, ids: Sequence[str]) -> list[int | None]:
    """Each id's task key (None when it cannot name a task), every key at most once."""
    # graph/extensions/inputs.py refuses a longer list before execution; this keeps the
    # field safe on its own, as `nodes` does.
    limit = info.context.settings.max_page_size
    if len(ids) > limit:
        raise InvalidPage(f"A bulk mutation takes at most {limit} ids, like a page.")
    keys = [decode_int(raw, "Task") for raw in ids]
    checks, first_at = Checks(), dict[int, int]()
    for index, key in enumerate(keys):
        if key is None:
            continue
        if key in first_at:
            checks.fail(f"ids.{index}", f"names the task ids.{first_at[key]} names")
        first_at.setdefault(key, index)
    checks.raise_if_any()
    return keys


def _results(
    ids: Sequence[str], keys: Sequence[int | None], found: dict[int, models.Task],
    done: Callable[[models.Task], T],
) -> list[T | NotFoundError]:
    """One result per id, in order: `done(task)` for a found task, else the NotFoundError
    the single mutation answers (named by its global id, or as sent when malformed)."""
    results: list[T | NotFoundError] = []
    for raw, key in zip(ids, keys, strict=True):
        task = found.get(key) if key is not None else None
        if task is not None:
            results.append(done(task))
        else:
            results.append(not_found(NotFound(models.Task, key, named=None if key else raw)))
    return results


def _deleted(task: models.Task) -> DeleteTaskSuccess:
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
        keys = _keys(info, input.ids)

        async def work(session: AsyncSession, user_id: str) -> bulk.SetTasksStatusSuccess:
            found = await service.owned_tasks(session, user_id, [k for k in keys if k])
            changed = await service.set_statuses(session, list(found.values()),
                                                 input.status.value)
            results = _results(input.ids, keys, found,
                               lambda task: SetTaskStatusSuccess(task=Task.from_model(task)))
            return bulk.SetTasksStatusSuccess(results=results, changed_count=changed)

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
        keys = _keys(info, input.ids)

        async def work(session: AsyncSession, user_id: str) -> bulk.DeleteTasksSuccess:
            found = await service.owned_tasks(session, user_id, [k for k in keys if k])
            await service.delete_tasks(session, list(found.values()))
            results = _results(input.ids, keys, found, _deleted)
            return bulk.DeleteTasksSuccess(results=results, deleted_count=len(found))

        return await in_transaction(info, work)

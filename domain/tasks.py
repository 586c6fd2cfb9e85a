"""Task writes: one function per change, each run inside the caller's transaction.

The mutations and the chat assistant's commands share these, so every change writes its
task_events row the same way. Failures raise `domain.errors` exceptions before anything is
flushed, or inside the transaction, which the caller then rolls back.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import case, delete, func, insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain import scope
from domain.errors import NotFound
from domain.events import EventKind, stage
from domain.sessions import known_visit
from domain.validation import Checks
from models import Task, TaskEvent, TaskStep
from models.base import utcnow
from models.task import DESCRIPTION_MAX, KIND_MAX, METADATA_MAX_BYTES, STEPS_MAX, TITLE_MAX


def task_values(checks: Checks, given: dict[str, Any]) -> dict[str, Any]:
    """Checked column values for the task fields present in `given`: the one check of task
    input, for the mutations and the assistant's tools alike."""
    values: dict[str, Any] = {}
    if "title" in given:
        values["title"] = checks.text("title", given["title"], max_len=TITLE_MAX)
    if "description" in given:
        text = checks.text(
            "description", given["description"], max_len=DESCRIPTION_MAX, required=False
        )
        values["description"] = text or None
    if "kind" in given:
        values["kind"] = checks.text("kind", given["kind"], max_len=KIND_MAX)
    if "metadata" in given:
        values["metadata_"] = checks.json_object(
            "metadata", given["metadata"], max_bytes=METADATA_MAX_BYTES
        )
    return values


async def owned_task(session: AsyncSession, user_id: str, task_id: int) -> Task:
    """The viewer's task, locked for this transaction (FOR UPDATE; SQLite's write
    transactions are exclusive already): concurrent changes to one task take turns, so step
    numbers and an event's from_status are computed from the latest committed state."""
    statement = (
        scope.owned(Task, user_id)
        .where(Task.id == task_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    task: Task | None = await session.scalar(statement)
    if task is None:
        raise NotFound(Task, task_id)
    return task


async def owned_step_with_task(
    session: AsyncSession, user_id: str, step_id: int
) -> tuple[TaskStep, Task]:
    """The viewer's step and its task, the task locked first (as `owned_task`), the step read
    after the lock so that a concurrent change to it has committed by then."""
    task_id = await session.scalar(
        scope.owned_columns(TaskStep, user_id, TaskStep.task_id).where(TaskStep.id == step_id)
    )
    if task_id is None:
        raise NotFound(TaskStep, step_id)
    try:
        task = await owned_task(session, user_id, task_id)
    except NotFound as missing:  # gone since: the step is what was asked for
        raise NotFound(TaskStep, step_id) from missing
    step = await session.scalar(
        scope.owned(TaskStep, user_id)
        .where(TaskStep.id == step_id, TaskStep.task_id == task.id)
        .execution_options(populate_existing=True)
    )
    if step is None:
        raise NotFound(TaskStep, step_id)
    return step, task


async def owned_tasks(
    session: AsyncSession, user_id: str, task_ids: Collection[int]
) -> dict[int, Task]:
    """The viewer's tasks among `task_ids`, by id, locked as `owned_task` locks one (the
    others are missing, or not the viewer's: the same thing). One statement for any number;
    rows are locked in id order, so two bulk changes over the same tasks never deadlock."""
    if not task_ids:
        return {}
    statement = (
        scope.owned(Task, user_id)
        .where(Task.id.in_(sorted(set(task_ids))))
        .order_by(Task.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {task.id: task for task in await session.scalars(statement)}


def record_event(session: AsyncSession, task: Task, event_type: str, **fields: Any) -> TaskEvent:
    event = TaskEvent(task_id=task.id, event_type=event_type, created_at=utcnow(), **fields)
    session.add(event)
    stage(session, EventKind.TASK_EVENT, task.user_id, event)
    return event


async def create_task(
    session: AsyncSession,
    *,
    user_id: str,
    session_id: str | None,
    values: dict[str, Any],
    steps: Sequence[str] = (),
    completed: Collection[int] = (),
) -> Task:
    """A new task with its steps; `completed` names the steps (from 1) created done."""
    status = values.get("status", "pending")
    task = Task(
        user_id=user_id,
        session_id=await known_visit(session, session_id),
        status=status,
        completed_at=utcnow() if status == "completed" else None,
        **{k: v for k, v in values.items() if k != "status"},
    )
    session.add(task)
    await session.flush()
    for number, content in enumerate(steps, start=1):
        session.add(TaskStep(task_id=task.id, step_number=number, content=content,
                             completed=number in completed))
    record_event(session, task, "created", to_status=status, payload={"steps": len(steps)})
    await session.flush()
    return task


async def update_task(session: AsyncSession, task: Task, changes: dict[str, Any]) -> Task:
    changed = {key: value for key, value in changes.items() if getattr(task, key) != value}
    if not changed:
        return task
    for key, value in changed.items():
        setattr(task, key, value)
    task.updated_at = utcnow()
    fields = sorted("metadata" if key == "metadata_" else key for key in changed)
    record_event(session, task, "updated", payload={"fields": fields})
    await session.flush()
    return task


async def set_status(session: AsyncSession, task: Task, status: str) -> Task:
    await set_statuses(session, [task], status)
    return task


async def set_statuses(session: AsyncSession, tasks: Sequence[Task], status: str) -> int:
    """Move the (locked) tasks to `status`: each that changes gets its status_changed event;
    one that is there already is left alone. Answers how many changed.

    Two statements whatever the number: one UPDATE, and one multi-row INSERT of the events
    returning their ids. The ORM would send one statement per task for each: an UPDATE per
    row (SQLite's driver reports no row counts for an executemany, which the ORM checks) and,
    on SQLite, an INSERT per row (RETURNING there keeps no order, so the ORM cannot match a
    batch's ids to its objects).
    """
    changing = [task for task in tasks if task.status != status]
    if not changing:
        return 0
    previous = {task.id: task.status for task in changing}
    owners = {task.id: task.user_id for task in changing}
    now = utcnow()
    await session.execute(
        update(Task)
        .where(Task.id.in_(previous))
        .values(status=status, completed_at=now if status == "completed" else None,
                updated_at=now),
        execution_options={"synchronize_session": "evaluate"},  # the loaded tasks follow
    )
    written = await session.execute(
        insert(TaskEvent)
        .values([{"task_id": task_id, "event_type": "status_changed", "from_status": before,
                  "to_status": status, "created_at": now} for task_id, before in previous.items()])
        .returning(TaskEvent.id, TaskEvent.task_id)
    )
    for event_id, task_id in sorted(written.all()):
        stage(session, EventKind.TASK_EVENT, owners[task_id], event_id)
    return len(changing)


async def delete_task(session: AsyncSession, task: Task) -> None:
    await delete_tasks(session, [task])


async def delete_tasks(session: AsyncSession, tasks: Sequence[Task]) -> None:
    """Delete the (locked) tasks with their steps and events (ON DELETE CASCADE), in one
    statement. Each deletion is announced by the task's key: its task_events rows are gone
    with it, so a deletion can be no TaskEvent."""
    if not tasks:
        return
    await session.execute(delete(Task).where(Task.id.in_([task.id for task in tasks])))
    for task in tasks:
        stage(session, EventKind.TASK_DELETED, task.user_id, task.id)


async def step_ids(session: AsyncSession, task: Task) -> list[int]:
    rows = await session.scalars(
        scope.owned_columns(TaskStep, task.user_id, TaskStep.id)
        .where(TaskStep.task_id == task.id)
        .order_by(TaskStep.step_number)
    )
    return list(rows)


async def renumber(session: AsyncSession, task: Task, ordered_ids: list[int]) -> None:
    """Number the task's steps 1..n in the given order.

    UNIQUE (task_id, step_number) is checked row by row on both databases, so a plain
    `step_number + 1` can collide halfway through. First every step moves above the largest
    number in use, then each takes its final number: no moment holds a duplicate, and the
    CHECK (step_number >= 1) rules out parking them at negative numbers. Two statements.
    """
    if not ordered_ids:
        return
    highest = func.coalesce(func.max(TaskStep.step_number), 0)
    top = await session.scalar(
        scope.owned_columns(TaskStep, task.user_id, highest).where(TaskStep.task_id == task.id)
    )
    offset = int(top or 0) + len(ordered_ids) + 1
    # The task is the viewer's and locked (`owned_task`): its steps are written by task id.
    where = TaskStep.task_id == task.id
    await session.execute(
        update(TaskStep).where(where).values(step_number=TaskStep.step_number + offset),
        execution_options={"synchronize_session": False},
    )
    final = case({step_id: n for n, step_id in enumerate(ordered_ids, 1)}, value=TaskStep.id)
    await session.execute(
        update(TaskStep).where(where).values(step_number=final, updated_at=utcnow()),
        execution_options={"synchronize_session": False},
    )


async def add_step(
    session: AsyncSession, task: Task, content: str, position: int | None
) -> TaskStep:
    ordered = await step_ids(session, task)
    if len(ordered) >= STEPS_MAX:
        Checks().fail("taskId", f"a task has at most {STEPS_MAX} steps").raise_if_any()
    if position is not None and not 1 <= position <= len(ordered) + 1:
        Checks().fail("position", f"must be between 1 and {len(ordered) + 1}").raise_if_any()
    index = (position or len(ordered) + 1) - 1
    # Steps are 1..n and the task row is locked, so n + 1 is free: appending is one INSERT;
    # only an insertion in the middle renumbers.
    step = TaskStep(task_id=task.id, step_number=len(ordered) + 1, content=content)
    session.add(step)
    await session.flush()
    if index < len(ordered):
        ordered.insert(index, step.id)
        await renumber(session, task, ordered)
    await _touch(session, task, "step_added", {"stepId": step.id, "position": index + 1})
    # Read back (its number may have moved) through the scope, like every read.
    fresh: TaskStep = await session.scalar(
        scope.owned(TaskStep, task.user_id)
        .where(TaskStep.id == step.id)
        .execution_options(populate_existing=True)
    )
    return fresh


async def update_step(
    session: AsyncSession, step: TaskStep, task: Task, changes: dict[str, Any]
) -> TaskStep:
    changed = {key: value for key, value in changes.items() if getattr(step, key) != value}
    if not changed:
        return step
    for key, value in changed.items():
        setattr(step, key, value)
    step.updated_at = utcnow()
    await _touch(session, task, "step_updated", {"stepId": step.id, "fields": sorted(changed)})
    return step


async def remove_step(session: AsyncSession, step: TaskStep, task: Task) -> None:
    await session.execute(delete(TaskStep).where(TaskStep.id == step.id))
    await renumber(session, task, await step_ids(session, task))
    await _touch(session, task, "step_removed", {"stepId": step.id})


async def reorder_steps(session: AsyncSession, task: Task, ordered: list[int]) -> None:
    current = await step_ids(session, task)
    if current == ordered:
        return
    await renumber(session, task, ordered)
    await _touch(session, task, "steps_reordered", {"stepIds": ordered})


async def _touch(
    session: AsyncSession, task: Task, event_type: str, payload: dict[str, Any]
) -> None:
    task.updated_at = utcnow()
    record_event(session, task, event_type, payload=payload)
    await session.flush()

"""The task use cases: the viewer's owner id and plain inputs in, the changed rows out.

Each runs inside the caller's one transaction (`Session`): the rows named are found (a
`Ref` that names no row at all is NotFound, like a missing one), the input is checked (every
problem at once, `Invalid`), then `domain.tasks` writes. The order of those is part of the
answer and kept here: a missing task is NotFound before its input is checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain import tasks
from domain.errors import Ref
from domain.transactions import Session
from domain.validation import Checks
from models import Task, TaskStep
from models.task import STEP_CONTENT_MAX


async def create_task(
    session: Session, user_id: str, *, session_id: str | None, title: str,
    description: str | None, kind: str | None, metadata: Any, status: str | None,
    steps: Sequence[str] | None,
) -> Task:
    """A new task with its first steps; no kind is the default kind, no status PENDING."""
    checks = Checks()
    given: dict[str, Any] = {"title": title, "description": description, "metadata": metadata}
    if kind is not None:
        given["kind"] = kind
    values = tasks.task_values(checks, given)
    contents = [checks.text(f"steps.{i}", s, max_len=STEP_CONTENT_MAX) or ""
                for i, s in enumerate(steps or [])]
    checks.raise_if_any()
    if status is not None:
        values["status"] = status
    return await tasks.create_task(session, user_id=user_id, session_id=session_id,
                                   values=values, steps=contents)


async def update_task(
    session: Session, user_id: str, task: Ref[int], given: dict[str, Any]
) -> Task:
    """The fields in `given` (title, description, kind, metadata) changed."""
    found = await tasks.owned_task(session, user_id, task.key_of(Task))
    checks = Checks()
    values = tasks.task_values(checks, given)
    checks.raise_if_any()
    return await tasks.update_task(session, found, values)


async def set_task_status(session: Session, user_id: str, task: Ref[int], status: str) -> Task:
    found = await tasks.owned_task(session, user_id, task.key_of(Task))
    return await tasks.set_status(session, found, status)


async def delete_task(session: Session, user_id: str, task: Ref[int]) -> Task:
    """The task deleted with its steps and events; answers it (its key), gone."""
    found = await tasks.owned_task(session, user_id, task.key_of(Task))
    await tasks.delete_task(session, found)
    return found


async def add_step(
    session: Session, user_id: str, task: Ref[int], content: str, position: int | None
) -> tuple[TaskStep, Task]:
    """A step at `position` (1-based; None: the end), and its task."""
    found = await tasks.owned_task(session, user_id, task.key_of(Task))
    checks = Checks()
    text = checks.text("content", content, max_len=STEP_CONTENT_MAX)
    checks.raise_if_any()
    return await tasks.add_step(session, found, text or "", position), found


async def update_step(
    session: Session, user_id: str, step: Ref[int], given: dict[str, Any]
) -> tuple[TaskStep, Task]:
    """The step's fields in `given` (content, completed; neither may be null) changed."""
    found, task = await tasks.owned_step_with_task(session, user_id, step.key_of(TaskStep))
    checks = Checks()
    changes: dict[str, Any] = {}
    if "content" in given:
        changes["content"] = checks.text("content", given["content"], max_len=STEP_CONTENT_MAX)
    if "completed" in given:
        if given["completed"] is None:
            checks.fail("completed", "must not be null")
        changes["completed"] = given["completed"]
    checks.raise_if_any()
    return await tasks.update_step(session, found, task, changes), task


async def remove_step(
    session: Session, user_id: str, step: Ref[int]
) -> tuple[TaskStep, Task]:
    """The step removed (the later ones move up); answers it, gone, and its task."""
    found, task = await tasks.owned_step_with_task(session, user_id, step.key_of(TaskStep))
    await tasks.remove_step(session, found, task)
    return found, task


async def reorder_steps(
    session: Session, user_id: str, task: Ref[int], ordered: Sequence[int | None]
) -> Task:
    """The task's steps in the order of `ordered`, which must name every step of the task
    exactly once (None: an id that names no step)."""
    found = await tasks.owned_task(session, user_id, task.key_of(Task))
    current = await tasks.step_ids(session, found)
    keys = [key for key in ordered if key is not None]
    if sorted(keys) != sorted(current) or len(keys) != len(ordered):
        Checks().fail("stepIds", "must list every step id of the task exactly once"
                      ).raise_if_any()
    await tasks.reorder_steps(session, found, keys)
    return found

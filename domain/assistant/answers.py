"""The assistant's tools that only read: lists, one task, and questions answered from the
data (how many, what is left, whether something is done, what to do first)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from domain import scope
from domain.assistant.listing import PAGE, STEPS, Listing, listed_tasks
from domain.assistant.references import steps_of, target
from domain.assistant.toolkit import STATUS_WORDS, Outcome, ToolContext, ToolError, quoted
from models import Task, TaskStep
from models.task import OPEN_STATUSES

SUGGESTION_RULE = ("I suggest what you have already started first (the task in progress "
                   "touched most recently), then the open task that has waited longest.")


async def list_tasks(session: AsyncSession, context: ToolContext, args: dict[str, Any]) -> Outcome:
    last = context.listing
    if args.get("more"):
        if last is None or last.status in ("matches", STEPS):
            raise ToolError("There is no list to continue; ask for a list first.")
        status, search, offset = last.status, last.search, last.offset + len(last.ids)
    else:
        status, search, offset = args.get("status", "open"), args.get("search"), 0
    listing = await listed_tasks(session, context.user_id, status=status, search=search,
                                 offset=offset, limit=PAGE)
    context.listing = listing
    if len(listing.ids) == 1:
        context.focus = listing.ids[0]  # one task shown: "it" is that one
    tasks = await _tasks_by_id(session, context.user_id, listing.ids)
    rows = [{"number": n, "title": t.title, "status": t.status}
            for n, t in zip(listing.numbers(), tasks, strict=True)]
    return Outcome(listing.describe(rows), {"tasks": rows, "total": listing.total})


async def _tasks_by_id(session: AsyncSession, user_id: str, ids: tuple[int, ...]) -> list[Task]:
    found = {task.id: task for task in await session.scalars(
        scope.owned(Task, user_id).where(Task.id.in_(ids)))}
    return [found[task_id] for task_id in ids]


async def show_task(session: AsyncSession, context: ToolContext, args: dict[str, Any]) -> Outcome:
    task = await target(session, context, args)
    steps = await steps_of(session, context.user_id, task)
    _shown_steps(context, task, steps)
    lines = [f"{quoted(task)} ({STATUS_WORDS.get(task.status, task.status)})"]
    if task.description:
        lines.append(task.description)
    lines += [f"{s.step_number}. [{'x' if s.completed else ' '}] {s.content}" for s in steps]
    data = {"title": task.title, "status": task.status, "description": task.description,
            "steps": [{"step": s.step_number, "content": s.content, "done": s.completed}
                      for s in steps]}
    return Outcome("\n".join(lines), data)


def _shown_steps(context: ToolContext, task: Task, shown: list[TaskStep]) -> None:
    """Steps shown numbered are the last list: "2 is done" is then step 2 of this task."""
    if shown:
        context.listing = Listing(STEPS, str(task.id), 0, tuple(s.id for s in shown),
                                  len(shown))


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


async def count_tasks(session: AsyncSession, context: ToolContext, args: dict[str, Any]) -> Outcome:
    rows = await session.execute(
        scope.owned_columns(Task, context.user_id, Task.status, func.count(Task.id))
        .group_by(Task.status))
    counts = {status: int(count) for status, count in rows}
    total, opened = sum(counts.values()), sum(counts.get(s, 0) for s in OPEN_STATUSES)
    started, waiting = counts.get("in_progress", 0), counts.get("pending", 0)
    status = args.get("status") or "all"
    detail = f"{started} in progress, {waiting} not started"
    if status == "open":
        said = f"You have {_plural(opened, 'open task')} ({detail})."
    elif status == "all":
        closed = ", ".join(f"{counts[s]} {STATUS_WORDS[s]}" for s in
                           ("completed", "cancelled", "failed") if counts.get(s))
        said = (f"You have {_plural(total, 'task')}: {opened} open ({detail})"
                + (f", {closed}." if closed else "."))
    else:
        said = f"{_plural(counts.get(status, 0), 'task')} {STATUS_WORDS[status]}."
    return Outcome(said, {"counts": counts, "total": total, "open": opened})


async def task_progress(
    session: AsyncSession, context: ToolContext, args: dict[str, Any]
) -> Outcome:
    """Where one task stands: its status, its steps done and left; with `asking_done`, the
    answer to "is it done?" first."""
    task = await target(session, context, args)
    steps = await steps_of(session, context.user_id, task)
    left = [s for s in steps if not s.completed]
    if task.status in OPEN_STATUSES:
        _shown_steps(context, task, left)
    state = STATUS_WORDS.get(task.status, task.status)
    said = f"{quoted(task)} is {state}"
    if steps:
        said += f": {len(steps) - len(left)} of {len(steps)} steps done"
        if left and task.status in OPEN_STATUSES:
            said += ", " + _plural(len(left), "step") + " left:\n" + "\n".join(
                f"{s.step_number}. {s.content}" for s in left)
        elif not left:
            said += ", none left."
    else:
        said += " and has no steps."
    if args.get("asking_done"):
        said = ("Yes, " if task.status == "completed" else "No, ") + said
    data = {"title": task.title, "status": task.status, "steps": len(steps),
            "left": [s.content for s in left]}
    return Outcome(said if said.endswith((".", ":")) or "\n" in said else said + ".", data)


async def suggest_next(
    session: AsyncSession, context: ToolContext, args: dict[str, Any]
) -> Outcome:
    """What to do first, by `SUGGESTION_RULE`, said with the rule and the task's next step."""
    owned = scope.owned(Task, context.user_id)
    task: Task | None = await session.scalar(
        owned.where(Task.status == "in_progress")
        .order_by(Task.updated_at.desc(), Task.id.desc()).limit(1))
    task = task or await session.scalar(
        owned.where(Task.status == "pending").order_by(Task.created_at, Task.id).limit(1))
    if task is None:
        return Outcome("You have no open tasks: nothing to do first!")
    context.focus = task.id
    step = await session.scalar(
        scope.owned(TaskStep, context.user_id)
        .where(TaskStep.task_id == task.id, TaskStep.completed.is_(False))
        .order_by(TaskStep.step_number).limit(1))
    why = "it is already in progress" if task.status == "in_progress" else (
        "it has waited longest")
    said = f"Start with {quoted(task)}: {why}."
    if step is not None:
        said += f" Its next step: {step.content}."
    return Outcome(f"{said}\n({SUGGESTION_RULE})", {"title": task.title})
